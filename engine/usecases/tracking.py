"""Following a case by its tracking code (`/consulta`): public, no principal; the citizen proves a second factor.

Whoever holds a case's tracking code (printed on the receipt) and a second factor only the citizen has (the last
4 digits of the DPI given at filing, `cases.applicant_dpi`, or the filing e-mail, `cases.citizen_email`, in any
case) sees where the case stands, in plain Spanish: the procedure, the case number, when it was filed, its
stage, what happened and when, what comes next, the nearest deadline (of the ready tasks, `tasks.due_at`, or a legal
deadline's waiting timer) and what the citizen must do now, and the documents addressed to the citizen. Nothing
internal (staff names, form data, element ids) leaves.

Guessing is slowed twice, every attempt counted before anything is looked up (engine/storage/rate_limits.py):
per client address and per typed code (a wrong factor counts against the code). Codes have 10 characters of a
31-symbol alphabet (49.5 bits). An unknown code, a wrong factor and a case without either factor are one and the
same answer (CaseNotFound with one message), so the answer tells nothing about which codes exist.

Everything is read from indexed tables (cases, tasks, events, documents); no workflow is loaded.

Answering a previo online (`answer_request`): while the case waits on the citizen (a ready task of
CITIZEN_TASKS, the previo's `recibir_subsanacion`), whoever passes the same checks may upload files (PDF, PNG or
JPEG by content, each within the attachment size limit) and a note. The files become the case's attachments
(recorded by `en_linea`, as online filings are), then the waiting task is completed through
engine.usecases.tasks.complete_task, the path a clerk's completion takes, with the answer's moment as its date:
that step is when the deadline stops (its boundary timer is cancelled with it). The answer only receives: a clerk
then verifies what was presented (`verificar_subsanacion`) and gives the verdict. A receipt is answered, and mailed
through the outbox when the case has the citizen's e-mail.
"""
from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select

from engine.documents import kinds
from engine.errors import CaseNotFound, Conflict, InvalidInput, RateLimited
from engine.mail.notifications import date_and_hour, enqueue_template, follow_url, greeting
from engine.messages import msg
from engine.storage import models, rate_limits
from engine.storage.documents import documents_of_case
from engine.usecases import tasks
from engine.usecases import legal_deadlines
from engine.usecases.attachments import AttachmentStore, discard_upload, record_attachment, store_upload
from engine.usecases.intake import process_name
from engine.usecases.online_filing import ONLINE_ACTOR, ONLINE_PRINCIPAL

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_c, _t, _e, _timers = models.cases, models.tasks, models.events, models.timers

# (window in seconds, attempts allowed in it): per client address, and per tracking code.
CLIENT_LIMIT = (600, 20)
CODE_LIMIT = (3600, 10)
NOT_FOUND = msg("No encontramos un expediente con ese código y ese dato. Revise el código de seguimiento de su "
                "constancia y los últimos 4 dígitos del DPI o el correo electrónico que dio al presentar la "
                "solicitud.")
TOO_MANY = msg("Demasiados intentos. Espere %(minutes)s minutos antes de volver a consultar.")

# The stages a citizen sees, in the order a case goes through them.
STAGES = ("presentado", "en_revision", "previo", "en_analisis", "resuelto", "notificado", "plazo_recurso", "cerrado")
STAGE_LABELS = {
    "presentado": msg("Presentado"),
    "en_revision": msg("En revisión"),
    "previo": msg("Requerimiento de subsanación (previo)"),
    "en_analisis": msg("En análisis"),
    "resuelto": msg("Resuelto"),
    "notificado": msg("Notificado"),
    "plazo_recurso": msg("Plazo de recurso"),
    "cerrado": msg("Cerrado"),
}
NEXT_STEP = {
    "presentado": msg("La oficina revisará que su solicitud traiga todos los requisitos."),
    "en_revision": msg("La oficina revisa de una sola vez que su expediente esté completo. Si falta algo, se le "
                       "pedirá una única vez por medio de un previo."),
    "previo": msg("Presente lo que le pide el previo antes de que venza el plazo; si no, el expediente se archiva. "
                  "Al recibirlo, la oficina verifica que cumpla todo lo requerido."),
    "en_analisis": msg("La oficina analiza su solicitud y preparará la resolución."),
    "resuelto": msg("La resolución ya fue emitida; se la notificaremos."),
    "notificado": msg("La resolución le fue notificada; la oficina completa los últimos pasos del trámite."),
    "plazo_recurso": msg("Si no está de acuerdo con la resolución, puede presentar un recurso en la oficina antes "
                         "de la fecha límite. Si no lo hace, la resolución queda firme y el expediente se cierra."),
    "cerrado": msg("El expediente está cerrado: no hay más pasos."),
}
# Ready tasks that say the stage by themselves, by element id: "*" for every procedure, then per procedure
# (which overrides). A ready task not listed here leaves the stage to the documents issued (see _stage).
STAGE_BY_TASK: dict[str, dict[str, str]] = {
    "*": {
        "emitir_constancia": "presentado",
        "revisar_completitud": "en_revision",
        "emitir_previo": "en_revision",
        "recibir_subsanacion": "previo",
        "verificar_subsanacion": "previo",
        "emitir_certificado": "notificado",
        "registrar_recurso": "plazo_recurso",
        "laip_registrar_recurso": "plazo_recurso",
        "peticion_registrar_recurso": "plazo_recurso",
        "resolver_recurso": "en_analisis",
        "laip_resolver_revision": "en_analisis",
        "peticion_tramitar_recurso": "en_analisis",
    },
    "solicitud_ciudadana": {"laip_gestionar": "en_analisis", "peticion_evaluar_competencia": "en_analisis"},
}
# What the office does while a ready task (by element id) holds the case, when it is not what the stage says.
NEXT_BY_TASK = {
    "verificar_subsanacion": msg("La oficina verifica lo que usted presentó para cumplir el previo. Si cumple todo "
                                 "lo requerido, su trámite continúa; si aún falta algo, el expediente se archiva."),
}
# The tasks the citizen answers online, by element id: while one is ready the case waits on him (a previo's request
# to fix). Each says how the answer fills its form: the field for the answer's moment, for the files' names, for the
# note. The answer only receives; the clerk's verdict is the next task's (comun_revision_completitud's
# verificar_subsanacion).
CITIZEN_TASKS = {
    "recibir_subsanacion": {"moment": "subsanacion_fecha", "files": "subsanacion_documentos",
                            "note": "subsanacion_observaciones"},
}
# Values an answer gives by the waiting task's form, for forms of versions deployed before the reception and the
# verdict were two tasks: there `subsanacion` asks the verdict with the reception (False archives the case) and no
# clerk's step follows, so such a running case goes on as it did when it started (its clerk reviews the files with
# the case); cases of later versions wait on the clerk's verification instead.
GIVEN_BY_FORM = {"subsanacion": {"subsanacion_completa": True}}
MAX_FILES = 10
MAX_NOTE_CHARS = 1800  # the form's observaciones hold 2000, with the line that says the answer came online
# Completed steps worth a line of the timeline, in the citizen's words (documents have their own lines).
STEP_LINES = {
    "revisar_completitud": msg("La oficina revisó que su expediente esté completo."),
    "recibir_subsanacion": msg("La oficina recibió lo que usted presentó para cumplir el previo."),
    "verificar_subsanacion": msg("La oficina verificó lo que usted presentó para cumplir el previo."),
    "registrar_recurso": msg("Se registró su recurso."),
    "laip_registrar_recurso": msg("Se registró su recurso de revisión."),
    "peticion_registrar_recurso": msg("Se registró su recurso."),
}
DOCUMENT_LINES = {
    "constancia_recepcion": msg("Se emitió la constancia de recepción de su solicitud."),
    "previo": msg("Se emitió un previo: la oficina le pide completar su expediente."),
    "providencia": msg("Su solicitud se trasladó al área responsable."),
    "oficio": msg("La oficina envió un oficio a otra institución sobre su solicitud."),
    "dictamen": msg("Se emitió el dictamen jurídico."),
    "resolucion": msg("Se emitió la resolución."),
    "cedula_notificacion": msg("Se le notificó la resolución."),
    "licencia": msg("Se emitió su licencia."),
}
OTHER_DOCUMENT = msg("Se emitió un documento de su expediente.")
TIMER_LINES = {
    "vence_subsanacion": msg("Venció el plazo para presentar lo requerido en el previo."),
    "vence_plazo_recurso": msg("Venció el plazo de recurso: la resolución quedó firme."),
    "laip_vence_revision": msg("Venció el plazo del recurso de revisión: la resolución quedó firme."),
    "peticion_vence_recurso": msg("Venció el plazo de recurso: la resolución quedó firme."),
}
# Timers that are a legal deadline the case runs against (not a reminder or an alert point): while one waits, its
# moment is a deadline the page shows, besides the ready tasks' own (tasks.due_at).
DEADLINE_TIMERS = frozenset({"vence_subsanacion", "vence_plazo_recurso", "laip_vence_gestion",
                             "laip_vence_resolucion", "laip_vence_revision", "peticion_plazo_vencido",
                             "peticion_vence_recurso"})
FILED = msg("Usted presentó su solicitud.")
CLOSED = msg("El expediente se cerró.")
UPLOADED = msg("Usted presentó documentos en línea.")
NOT_WAITING = msg("Su expediente no espera documentos de usted en este momento.")
NO_FILES = msg("Adjunte al menos un archivo (PDF, PNG o JPEG).")
TOO_MANY_FILES = msg("Puede adjuntar hasta %(n)s archivos a la vez.")
LONG_NOTE = msg("La nota puede tener hasta %(n)s caracteres.")
ANSWERED_ONLINE = "Presentado en línea por el interesado."


def normalize_code(typed: str | None) -> str:
    """A tracking code as stored: upper case, without the spaces and dashes people type between groups."""
    return "".join(ch for ch in (typed or "").upper() if ch not in " -\t\r\n")[:40]


def count_attempt(svc: Services, conn, client: str, code: str) -> int | None:
    """Count one attempt from `client` on `code` in the caller's transaction; when either is over
    its limit: the seconds until the later window ends, else None (the caller commits first, so a refused attempt
    still counts)."""
    now = svc.clock()
    over = []
    for scope, key, (window, limit) in (("consulta_cliente", client or "-", CLIENT_LIMIT),
                                        ("consulta_codigo", code, CODE_LIMIT)):
        if not key:  # no code typed: nothing to guess, and not one shared key for everyone's empty attempts
            continue
        if not rate_limits.hit(conn, scope, key, now, window_seconds=window, limit=limit):
            ends = rate_limits.window_of(now, window) + timedelta(seconds=window)
            over.append(max(1, int((ends - now).total_seconds())))
    return max(over) if over else None


def _refused(seconds: int) -> RateLimited:
    return RateLimited(msg(TOO_MANY.msgid, minutes=max(1, -(-seconds // 60))), retry_after_seconds=seconds)


def _factor_matches(case: dict, factor: str | None) -> bool:
    """The last 4 digits of the DPI given, or the filing e-mail (case-insensitive), compared in constant time."""
    typed = (factor or "").strip()
    if "@" in typed:
        email = case["citizen_email"] or ""
        return bool(email) and hmac.compare_digest(typed.casefold().encode(), email.strip().casefold().encode())
    digits = "".join(ch for ch in typed if ch.isdigit())
    dpi = "".join(ch for ch in (case["applicant_dpi"] or "") if ch.isdigit())
    return len(digits) == 4 and len(dpi) >= 4 and hmac.compare_digest(digits.encode(), dpi[-4:].encode())


def find_case(conn, code: str, factor: str | None) -> dict:
    """The case with this (normalised) code whose factor matches; else CaseNotFound, the same for every reason."""
    row = conn.execute(select(_c.c.id, _c.c.number, _c.c.tracking_code, _c.c.process_key, _c.c.state,
                              _c.c.created_at, _c.c.applicant_dpi, _c.c.citizen_email, _c.c.applicant_name)
                       .where(_c.c.tracking_code == code)).mappings().first() if code else None
    if row is None or not _factor_matches(row, factor):
        raise CaseNotFound(NOT_FOUND)
    return dict(row)


def checked_case(svc: Services, code: str, factor: str | None, client: str) -> dict:
    """Count the attempt (committed whatever follows), then the case the code and factor name."""
    code = normalize_code(code)
    with svc.uow() as uow:
        over = count_attempt(svc, uow.conn, client, code)
        uow.commit()
    if over:
        raise _refused(over)
    with svc.uow(write=False) as uow:
        return find_case(uow.conn, code, factor)


def follow_case(svc: Services, code: str, factor: str | None, client: str) -> dict:
    """Where the case stands, for the citizen: see the module's docstring. RateLimited, or CaseNotFound."""
    case = checked_case(svc, code, factor, client)
    with svc.uow(write=False) as uow:
        return status_of(svc, uow.conn, case)


def status_of(svc: Services, conn, case: dict) -> dict:
    """The status page's content for a case already found by its code and factor."""
    ready = conn.execute(select(_t.c.element_id, _t.c.due_at).where(_t.c.case_id == case["id"],
                                                                   _t.c.state == "ready")).mappings().all()
    events = conn.execute(select(_e.c.at, _e.c.kind, _e.c.element_id, _e.c.actor).where(_e.c.case_id == case["id"])
                          .order_by(_e.c.id)).mappings().all()
    documents = documents_of_case(conn, case["id"])
    due = [r["due_at"] for r in ready if r["due_at"] is not None]
    due += conn.execute(select(_timers.c.due_at).where(_timers.c.case_id == case["id"], _timers.c.state == "waiting",
                                                       _timers.c.element_id.in_(DEADLINE_TIMERS))).scalars().all()
    stage = _stage(case, [r["element_id"] for r in ready], documents, events)
    waiting = any(r["element_id"] in CITIZEN_TASKS for r in ready)
    return {
        "code": case["tracking_code"], "number": case["number"], "procedure": process_name(conn, case["process_key"]),
        "filed_at": case["created_at"], "stage": stage, "stage_label": STAGE_LABELS[stage],
        "stages": [{"key": key, "label": STAGE_LABELS[key], "current": key == stage} for key in STAGES],
        "next": _next_step(stage, [r["element_id"] for r in ready]), "timeline": _timeline(events, documents),
        "deadline": _deadline(svc, due),
        "deadlines": [{"title": d["title"], "owner": d["owner"], "due_at": d["due_at"],
                       "working_days_left": d["working_days_left"]}
                      for d in legal_deadlines.case_deadlines(conn, case["id"], svc.calendar, svc.clock())
                      if d["state"] == "open"],
        "waiting_on_citizen": waiting, "requested": _requested(documents) if waiting else [],
        "documents": [_shown_document(case, d, documents) for d in documents if d["citizen_facing"]],
    }


def _stage(case: dict, ready: list[str], documents: list[dict], events) -> str:
    """The stage: closed when the case ended; else what the ready tasks say (the citizen's own task first, then
    the furthest stage); else what the documents say (a resolución, a cédula after it); else whether work began."""
    if case["state"] in ("completed", "cancelled"):
        return "cerrado"
    table = {**STAGE_BY_TASK["*"], **STAGE_BY_TASK.get(case["process_key"], {})}
    named = [table[e] for e in ready if e in table]
    if "previo" in named:
        return "previo"
    if named:
        return max(named, key=STAGES.index)
    kinds_issued = [d["kind"] for d in documents]
    if "resolucion" in kinds_issued:
        last = len(kinds_issued) - 1 - kinds_issued[::-1].index("resolucion")
        return "notificado" if "cedula_notificacion" in kinds_issued[last:] else "resuelto"
    return "en_analisis" if any(e["kind"] == "task_completed" for e in events) else "presentado"


def _next_step(stage: str, ready: list[str]):
    """What comes next: what a ready task says the office is doing, else the stage's own text."""
    return next((NEXT_BY_TASK[e] for e in ready if e in NEXT_BY_TASK), NEXT_STEP[stage])


def _timeline(events, documents: list[dict]) -> list[dict]:
    """What happened and when, oldest first: [{"at", "text"}], in the citizen's words, no names."""
    lines = []
    for event in events:
        text = None
        if event["kind"] == "case_started":
            text = FILED
        elif event["kind"] == "task_completed":
            text = STEP_LINES.get(event["element_id"])
        elif event["kind"] == "timer_fired":
            text = TIMER_LINES.get(event["element_id"])
        elif event["kind"] in ("case_completed", "case_cancelled"):
            text = CLOSED
        elif event["kind"] == "attachment_added" and event["actor"] == ONLINE_ACTOR:
            text = UPLOADED
        if text is not None and not (lines and lines[-1] == {"at": event["at"], "text": text}):
            lines.append({"at": event["at"], "text": text})
    lines += [{"at": d["issued_at"], "text": DOCUMENT_LINES.get(d["kind"], OTHER_DOCUMENT)} for d in documents]
    return sorted(lines, key=lambda line: line["at"])  # stable: events keep their order at the same moment


def _deadline(svc: Services, due: list[datetime]) -> dict | None:
    """The nearest of the ready tasks' due moments and the legal deadline timers waiting: its date and the working
    days left (0 on the day, negative when past)."""
    if not due:
        return None
    nearest = min(due)
    today = svc.calendar.local_date(svc.clock())
    day = svc.calendar.local_date(nearest)
    return {"at": nearest, "date": day, "working_days_left": svc.calendar.working_days_between(today, day)}


def _requested(documents: list[dict]) -> list[dict]:
    """What the latest previo asks for: [{"requisito", "fundamento"}], as the citizen's previo says it."""
    previos = [d for d in documents if d["kind"] == "previo"]
    if not previos or not previos[-1].get("data_json"):
        return []
    filled = orjson.loads(previos[-1]["data_json"])
    items = filled.get("previo_requerimientos") if isinstance(filled, dict) else None
    return [{"requisito": str(i.get("requisito", "")), "fundamento": str(i.get("fundamento", ""))}
            for i in items or [] if isinstance(i, dict)]


def _shown_document(case: dict, document: dict, documents: list[dict]) -> dict:
    corrected_by = [d["number"] for d in documents if d["corrects_id"] == document["id"]]
    return {"title": kinds.title(document["kind"]), "number": document["number"] or case["number"],
            "issued_at": document["issued_at"], "code": document["verification_code"],
            "corrected_by": [n for n in corrected_by if n]}


def _waiting_task(conn, case_id: int) -> dict:
    """The ready task the running case waits on the citizen for; Conflict (409) when it waits on none of them (or
    is suspended or in error: its tasks cannot be completed now)."""
    row = conn.execute(select(_t.c.id, _t.c.element_id, _t.c.assignee, _t.c.form_key)
                       .join(_c, _c.c.id == _t.c.case_id)
                       .where(_t.c.case_id == case_id, _t.c.state == "ready", _c.c.state == "running",
                              _t.c.element_id.in_(list(CITIZEN_TASKS)))).mappings().first()
    if row is None:
        raise Conflict(NOT_WAITING)
    return dict(row)


def answer_request(svc: Services, code: str, factor: str | None, files: list[tuple[str | None, object]],
                   note: str | None, client: str, store: AttachmentStore) -> dict:
    """The citizen's answer to what the case waits on him for (see the module's docstring): `files` as
    (name, readable stream). Refused before anything is written: RateLimited, CaseNotFound, InvalidInput (no file,
    too many, a long note), Conflict (not waiting), AttachmentTooLarge or AttachmentRefused (no file is kept).
    Returns the receipt: number, received_at, files, note, mailed_to."""
    case = checked_case(svc, code, factor, client)
    note = (note or "").strip()
    if not files:
        raise InvalidInput(NO_FILES, errors=[{"field": "archivos", "message": NO_FILES}])
    if len(files) > MAX_FILES:
        raise InvalidInput(msg(TOO_MANY_FILES.msgid, n=MAX_FILES), errors=[{"field": "archivos", "message": "max"}])
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(msg(LONG_NOTE.msgid, n=MAX_NOTE_CHARS), errors=[{"field": "nota", "message": "max"}])
    with svc.uow(write=False) as uow:
        _waiting_task(uow.conn, case["id"])  # refused before reading the uploads
    stored = []
    try:
        for name, stream in files:
            stored.append(store_upload(store, name, stream))
        with svc.uow() as uow:
            task = _waiting_task(uow.conn, case["id"])
            now = svc.clock()
            for upload in stored:
                record_attachment(uow.conn, case["id"], upload, ONLINE_ACTOR, now)
            uow.commit()
    except BaseException:
        for upload in stored:
            discard_upload(store, upload)  # no row refers to them
        raise
    _complete(svc, task, stored, note, now)
    receipt = {"number": case["number"], "received_at": now, "note": note, "mailed_to": case["citizen_email"],
               "files": [{k: s[k] for k in ("filename", "content_type", "size_bytes", "sha256")} for s in stored]}
    if case["citizen_email"]:
        with svc.uow() as uow:
            enqueue_template(uow.conn, "subsanacion_recibida", to=case["citizen_email"], now=now, case_id=case["id"],
                             saludo=greeting(case["applicant_name"]), numero=case["number"],
                             codigo_seguimiento=case["tracking_code"], fecha_hora=date_and_hour(now, svc.calendar),
                             archivos="\n".join(f"  - {s['filename']} ({s['size_bytes']} bytes, SHA-256 {s['sha256']})"
                                                for s in stored),
                             nota=note or "(sin nota)", url_consulta=follow_url(svc.settings.public_base_url))
            uow.commit()
    return receipt


def _complete(svc: Services, task: dict, stored: list[dict], note: str, now: datetime) -> None:
    """Complete the waiting task as a clerk's completion would, with the answer's data, its moment as its date;
    a clerk's claim on it is released first (the citizen's answer does not wait for him)."""
    fields = CITIZEN_TASKS[task["element_id"]]
    observations = f"{ANSWERED_ONLINE} {note}".strip() if note else ANSWERED_ONLINE
    data = {fields["moment"]: now.isoformat(), fields["files"]: [s["filename"] for s in stored],
            fields["note"]: observations, **GIVEN_BY_FORM.get(task["form_key"], {})}
    if task["assignee"]:
        tasks.release_task(svc, ONLINE_PRINCIPAL, task["id"])
    tasks.complete_task(svc, ONLINE_PRINCIPAL, task["id"], data)
