"""Institutions answer by link: the records of the institutions the office writes to, the requests a case's step
sends them, the public reply page's two calls, and the scheduler's reminders and escalations.

An institution (PNC, CONRED, RIC, the property registry, ...) is a record with an e-mail address, not an account.
`request_reply` is called by the service operator `solicitar_institucion` inside the step's transaction: it
stores the request, optionally issues its oficio, and queues the mail with the reply link
`{public_base_url}/responder/<token>` (with the oficio's PDF attached). The token is the office's signature
(HMAC-SHA256, with a key derived from the office's private key file, engine/integrity/keys.py) of the request's
random public id; only its SHA-256 is stored, so neither the database nor a backup can answer for the
institution, and a reminder signs again to mail the same link. The link answers once, until the request's
`expires_at` (the due date plus LINK_GRACE_WORKING_DAYS: a late answer is still welcome).

`submit_reply` (the page's POST) stores the uploaded files as the case's attachments, marks the request answered
and submits the message `message_name` with correlation {"solicitud": public_id} through
engine.usecases.messaging, all in one transaction: the waiting receive task (`correlacion =
"solicitud=<campo>.solicitud"`) gets {"respuesta", "documentos", "institucion", "respondido_en"}.

`remind_and_escalate` (the scheduler's pass) mails the institution at the working days before the due date the
request names, tells the escalation group (its members with an e-mail; every supervisor when it has none) once
the due date passes, expires links past `expires_at` and cancels the requests of cases that ended. Each step is
recorded in the case's history.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import orjson
from cryptography.hazmat.primitives import serialization
from sqlalchemy import insert, select, update

from engine.errors import Conflict, ExpedienteError, InvalidInput, NotFound, RateLimited
from engine.integrity import keys
from engine.mail.notifications import date_and_hour, enqueue_template, long_date
from engine.messages import msg
from engine.storage import models, rate_limits
from engine.storage.persistence import append_events, event_row
from engine.usecases import issuing, messaging
from engine.usecases.deadline_alerts import group_addresses, supervisor_addresses
from engine.usecases.attachments import AttachmentStore, discard_upload, record_attachment, store_upload

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_i, _r, _c = models.institutions, models.institution_requests, models.cases
_groups = models.groups

REPLY_PATH = "/responder/"
LINK_GRACE_WORKING_DAYS = 10      # the link still takes a late answer this long after the due date
DEFAULT_REMINDER_DAYS = (2,)      # working days before the due date, when the diagram names none
MAX_DUE_DAYS = 250
MAX_SUBJECT_CHARS = 300
MAX_ANSWER_CHARS = 20_000
MAX_FILES = 10
ANSWER_FIELD, FILES_FIELD = "respuesta", "archivos"
# (scope, window in seconds, requests allowed in it) per client address: the token cannot be guessed, this only
# keeps one client from flooding the page or the attachment store.
CLIENT_LIMIT = ("institution_reply", 600, 30)
OPEN, ANSWERED, EXPIRED, CANCELLED = "open", "answered", "expired", "cancelled"
SYSTEM_ACTOR = "sistema"          # signs an oficio of a step nobody made (a message, the scheduler)
ENDED_CASE_STATES = ("completed", "cancelled")


class ReplyLinkInvalid(NotFound):
    """No request has this link: mistyped, cut short, or never sent. The page says only that."""

    code = "reply_link_invalid"


class ReplyLinkClosed(Conflict):
    """The link was good but takes no answer any more: `state` says why (answered, expired, cancelled)."""

    code = "reply_link_closed"


# -- a step asks an institution -------------------------------------------------------------------------------------

def _invalid(field: str, message) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": message}])


def _token_hash(token: str) -> str:
    return hashlib.sha256((token or "").encode("utf-8")).hexdigest()


def _link_key(svc: Services) -> bytes:
    """The key that signs reply links: derived from the office's private key (engine/integrity/keys.py, a file
    outside the database), so a copy of the database cannot make a link."""
    raw = keys.office_key(svc.settings).private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                     serialization.NoEncryption())
    return hashlib.sha256(b"expediente: institution reply links\0" + raw).digest()


def _link_token(svc: Services, public_id: str) -> str:
    """The secret of a request's link: the office's signature (HMAC-SHA256) of its random public id. It is not
    stored (only its SHA-256 is): a reminder signs again and mails the same link."""
    mac = hmac.new(_link_key(svc), f"responder:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def link_for(svc: Services, public_id: str) -> str:
    """The reply link of a request, signed again (what its mail and reminders carry). Never stored nor shown to
    staff: it is the institution's key to answer into the case."""
    return reply_link(svc, _link_token(svc, public_id))


def reply_link(svc: Services, token: str) -> str:
    return f"{svc.settings.public_base_url.rstrip('/')}{REPLY_PATH}{token}"


def _reminder_days(raw, due_days: int) -> list[int]:
    """Working days before the due date to remind on, from a list or a text such as "3, 1" (None: the default);
    days outside 1..due_days-1 are dropped (a reminder on the day of the request or after the due date)."""
    if raw is None:
        raw = DEFAULT_REMINDER_DAYS
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,;\s]+", raw.strip()) if p]
    if not isinstance(raw, (list, tuple)):
        raise _invalid("recordatorios", msg("Los recordatorios son días hábiles antes del vencimiento: «3, 1»."))
    days = set()
    for item in raw:
        try:
            day = int(item)
        except (TypeError, ValueError):
            raise _invalid("recordatorios", msg(
                "Los recordatorios son días hábiles antes del vencimiento: «3, 1».")) from None
        if 1 <= day < due_days:
            days.add(day)
    return sorted(days, reverse=True)


def _reminder_moments(calendar, due_at: datetime, days: list[int]) -> list[datetime]:
    """The opening moment (UTC) of each reminder's working day, earliest first."""
    due_day = calendar.local_date(due_at)
    opening = calendar.settings.opening_time
    return sorted(datetime.combine(calendar.add_working_days(due_day, -d), opening, tzinfo=calendar.tz)
                  .astimezone(timezone.utc) for d in days)


def _next_reminder(calendar, due_at: datetime, days: list[int], after: datetime) -> datetime | None:
    return next((m for m in _reminder_moments(calendar, due_at, days) if m > after), None)


def _oficio_body(institution: dict, subject: str, number: str, due_at: datetime, calendar) -> str:
    return (f"En el expediente {number} que tramita esta Gobernación Departamental, de la manera más atenta me "
            f"dirijo a usted para solicitarle lo siguiente: {subject}.\n\n"
            f"Su respuesta y los documentos que la acompañen pueden enviarse por medio del enlace que recibió "
            f"por correo electrónico junto con este oficio, a más tardar el "
            f"{long_date(calendar.local_date(due_at))}.")


def request_reply(svc: Services, conn, *, case_id: int, institution_key: str, message_name: str, due_days: int,
                  reminder_days=None, escalation_group: str | None = None, subject: str | None = None,
                  document_kind: str | None = None, element_id: str | None = None, actor: str | None = None,
                  now: datetime, data: dict | None = None, body: str | None = None) -> dict:
    """Ask an institution for an answer, in the caller's (the step's) transaction: store the request, issue its
    document when `document_kind` is given (an oficio is filled from the request; `data`, the case's data, fills
    what another kind needs; `body` is the oficio's text), queue the mail with the reply link and record
    `institution_requested`. Bad parameters: InvalidInput naming the operator's parameter. Returns {"id": the
    public id (the answer's correlation "solicitud"), "link", "due_at" and "expires_at" (ISO, UTC), "document":
    {"numero", "codigo"} or None}."""
    institution = conn.execute(select(_i).where(_i.c.key == (institution_key or ""))).mappings().first()
    if institution is None or not institution["active"]:
        raise _invalid("institucion", msg("No hay una institución activa con la clave «%(key)s».",
                                          key=institution_key))
    if not isinstance(message_name, str) or not message_name.strip() or len(message_name) > 200:
        raise _invalid("mensaje", msg("Falta el nombre del mensaje con el que llega la respuesta."))
    try:
        due_days = int(due_days)
    except (TypeError, ValueError):
        due_days = 0
    if not 1 <= due_days <= MAX_DUE_DAYS:
        raise _invalid("plazo_dias", msg("El plazo es de 1 a %(n)s días hábiles.", n=MAX_DUE_DAYS))
    days = _reminder_days(reminder_days, due_days)
    group = (escalation_group or "").strip() or None
    if group is not None and conn.execute(select(_groups.c.id).where(_groups.c.name == group)).first() is None:
        raise _invalid("grupo", msg("No existe el grupo «%(group)s».", group=group))
    case = conn.execute(select(_c.c.number).where(_c.c.id == case_id)).first()
    if case is None:
        raise NotFound(f"case {case_id} does not exist", case_id=case_id)
    subject = " ".join((subject or "").split()) or f"Solicitud de respuesta, expediente {case.number}"
    if len(subject) > MAX_SUBJECT_CHARS:
        raise _invalid("asunto", msg("El asunto tiene como máximo %(n)s caracteres.", n=MAX_SUBJECT_CHARS))
    cal = svc.calendar
    due_at = cal.at_closing(cal.add_working_days(cal.effective_filing_date(now), due_days)).astimezone(timezone.utc)
    expires_at = cal.at_closing(cal.add_working_days(cal.local_date(due_at), LINK_GRACE_WORKING_DAYS)) \
        .astimezone(timezone.utc)
    document = _issue(svc, conn, document_kind, case_id=case_id, institution=dict(institution), subject=subject,
                      number=case.number, due_at=due_at, actor=actor, now=now, data=data, body=body)
    public_id = f"SOL-{secrets.token_hex(6).upper()}"
    token = _link_token(svc, public_id)
    conn.execute(insert(_r).values(
        public_id=public_id, token_hash=_token_hash(token), case_id=case_id, institution_id=institution["id"],
        element_id=element_id, message_name=message_name.strip(), subject=subject, state=OPEN, created_at=now,
        due_at=due_at, expires_at=expires_at, reminder_days_json=orjson.dumps(days).decode(), reminders_sent=0,
        next_reminder_at=_next_reminder(cal, due_at, days, now), escalation_group=group,
        document_id=document["id"] if document else None, created_by=actor))
    link = reply_link(svc, token)
    oficio = (f"\nSe adjunta el oficio {document['number'] or ''} (código de verificación {document['code']}).\n"
              if document else "")
    enqueue_template(conn, "solicitud_institucion", to=institution["email"], now=now, case_id=case_id,
                     document_id=document["id"] if document else None, saludo=_greeting(institution),
                     institucion=institution["name"], numero=case.number, asunto=subject, oficio=oficio,
                     enlace=link, vence=date_and_hour(due_at, cal), caduca=date_and_hour(expires_at, cal))
    append_events(conn, [event_row(case_id, now, "institution_requested", element_id=element_id, actor=actor, data={
        "solicitud": public_id, "institucion": institution["key"], "mensaje": message_name.strip(),
        "asunto": subject, "vence": due_at.isoformat(), "recordatorios": days, "grupo": group,
        "document_id": document["id"] if document else None})])
    return {"id": public_id, "link": link, "due_at": due_at.isoformat(), "expires_at": expires_at.isoformat(),
            "document": {"numero": document["number"], "codigo": document["code"]} if document else None}


def _greeting(institution: dict) -> str:
    contact = (institution.get("contact") or "").strip()
    return f"Señor(a) {contact}:" if contact else "Señores:"


_RECEIVED_OFICIO_FIELDS = frozenset({"oficio_referencia", "oficio_cargo", "oficio_adjuntos"})


def _issue(svc: Services, conn, kind: str | None, *, case_id: int, institution: dict, subject: str, number: str,
           due_at: datetime, actor: str | None, now: datetime, data: dict | None, body: str | None) -> dict | None:
    """Issue the request's document (issuing.allocate and issue, as a document-issuing task does) and return
    {"id", "number", "code"}, or None without a kind. An unknown kind is InvalidInput; a document the case
    cannot fill is issuing.DocumentIncomplete: the step fails whole, and no number is lost."""
    kind = (kind or "").strip() or None
    if kind is None:
        return None
    from engine.documents import kinds
    try:
        kinds.kind(kind)
    except (KeyError, ValueError, ExpedienteError):
        raise _invalid("documento", msg("No existe el tipo de documento «%(kind)s».", kind=kind)) from None
    # The case's data fills what another kind needs (and the signer's post a pre-script sets), but not what
    # describes the letter a case received (D1): its reference, its sender's post and its annexes are not this one's.
    filled = {**{k: v for k, v in (data or {}).items() if k not in _RECEIVED_OFICIO_FIELDS},
              "oficio_destinatario": institution["contact"] or institution["name"],
              "oficio_institucion": institution["name"], "oficio_asunto": subject,
              "oficio_cuerpo": body or _oficio_body(institution, subject, number, due_at, svc.calendar),
              "oficio_plazo_respuesta": svc.calendar.local_date(due_at).isoformat()}
    pending = issuing.allocate(svc, conn, kind, None, filled, now)
    rows = issuing.issue(svc, conn, case_id=case_id, task_id=None, pending=pending, data=filled,
                         actor=actor or SYSTEM_ACTOR, now=now)
    row = rows[-1]
    return {"id": row["id"], "number": pending[-1].number, "code": pending[-1].code}


# -- the reply page ---------------------------------------------------------------------------------------------------

_BY_TOKEN = (select(_r.c.id, _r.c.public_id, _r.c.case_id, _r.c.message_name, _r.c.subject, _r.c.state,
                    _r.c.due_at, _r.c.expires_at, _r.c.answered_at, _r.c.element_id,
                    _i.c.key.label("institution_key"), _i.c.name.label("institution_name"),
                    _c.c.number, _c.c.state.label("case_state"))
             .join(_i, _i.c.id == _r.c.institution_id).join(_c, _c.c.id == _r.c.case_id))


def _count(svc: Services, client: str) -> None:
    """Count the client's request in a transaction of its own (a refused link counts too)."""
    scope, window, allowed = CLIENT_LIMIT
    with svc.uow() as uow:
        now = svc.clock()
        within = rate_limits.hit(uow.conn, scope, client or "-", now, window_seconds=window, limit=allowed)
        uow.commit()
    if not within:
        raise RateLimited(msg("Se recibieron demasiadas solicitudes; intente de nuevo más tarde."),
                          retry_after_seconds=window - int(now.timestamp()) % window, scope=scope)


def _open_request(conn, token: str, now: datetime) -> dict:
    """The request the link stands for, if it still takes an answer; else ReplyLinkInvalid or ReplyLinkClosed."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise ReplyLinkInvalid("no request has this reply link")
    row = conn.execute(_BY_TOKEN.where(_r.c.token_hash == _token_hash(token))).mappings().first()
    if row is None:
        raise ReplyLinkInvalid("no request has this reply link")
    state = row["state"]
    if state == OPEN and row["case_state"] in ENDED_CASE_STATES:
        state = CANCELLED
    elif state == OPEN and row["expires_at"] <= now:
        state = EXPIRED
    if state != OPEN:
        raise ReplyLinkClosed(f"the request takes no answer: {state}", state=state)
    return dict(row)


def reply_page(svc: Services, token: str, client: str = "") -> dict:
    """What the reply page shows for a link: {"institution", "number" (the case's), "subject", "due_at",
    "expires_at", "late" (past the due date), "public_id", "max_files", "max_answer_chars"}. A link no request has:
    ReplyLinkInvalid; one answered, expired or whose case ended: ReplyLinkClosed; too many requests from the
    client: RateLimited."""
    _count(svc, client)
    with svc.uow(write=False) as uow:
        now = svc.clock()
        row = _open_request(uow.conn, token, now)
    return {"institution": row["institution_name"], "number": row["number"], "subject": row["subject"],
            "due_at": row["due_at"], "expires_at": row["expires_at"], "late": row["due_at"] < now,
            "public_id": row["public_id"], "max_files": MAX_FILES, "max_answer_chars": MAX_ANSWER_CHARS}


def submit_reply(svc: Services, token: str, answer_text: str | None, files, *, store: AttachmentStore,
                 client: str = "") -> dict:
    """The institution's answer: `answer_text` and `files` ((name, readable stream) pairs, PDF, PNG or JPEG by
    content). The files become the case's attachments, the request is answered and its message submitted, in one
    transaction (see the module). Refused before anything is kept: RateLimited, ReplyLinkInvalid, ReplyLinkClosed
    (also when another answer came first), InvalidInput (no text, too long, too many files), AttachmentTooLarge,
    AttachmentRefused. Returns {"public_id", "number", "institution", "received_at", "files"}."""
    text = (answer_text or "").strip()
    files = [(name, stream) for name, stream in files if name]
    _count(svc, client)
    with svc.uow(write=False) as uow:
        _open_request(uow.conn, token, svc.clock())  # refused before reading the uploads
    if not text:
        raise _invalid(ANSWER_FIELD, msg("Escriba la respuesta de su institución."))
    if len(text) > MAX_ANSWER_CHARS:
        raise _invalid(ANSWER_FIELD, msg("La respuesta tiene como máximo %(n)s caracteres.", n=MAX_ANSWER_CHARS))
    if len(files) > MAX_FILES:
        raise _invalid(FILES_FIELD, msg("Adjunte como máximo %(n)s archivos.", n=MAX_FILES))
    stored = []
    try:
        for name, stream in files:
            stored.append(store_upload(store, name, stream))
        with svc.uow() as uow:
            conn = uow.conn
            now = svc.clock()
            row = _open_request(conn, token, now)
            actor = f"institucion:{row['institution_key']}"
            ids = [record_attachment(conn, row["case_id"], s, actor, now)["id"] for s in stored]
            payload = {"respuesta": text, "documentos": ids, "institucion": row["institution_key"],
                       "respondido_en": now.isoformat()}
            taken = conn.execute(update(_r).where(_r.c.id == row["id"], _r.c.state == OPEN).values(
                state=ANSWERED, answered_at=now, next_reminder_at=None,
                answer_json=orjson.dumps(payload).decode())).rowcount
            if taken != 1:  # another answer through the same link committed first
                raise ReplyLinkClosed("the request was answered meanwhile", state=ANSWERED)
            message_id = messaging.submit(svc, conn, name=row["message_name"],
                                          correlation={"solicitud": row["public_id"]}, payload=payload,
                                          source="institution", created_by=row["institution_key"])
            append_events(conn, [event_row(row["case_id"], now, "institution_answered", element_id=row["element_id"],
                                           actor=actor, data={"solicitud": row["public_id"],
                                                              "institucion": row["institution_key"],
                                                              "documentos": ids, "message_id": message_id})])
            uow.commit()
    except BaseException:
        for kept in stored:
            discard_upload(store, kept)  # no row refers to them
        raise
    return {"public_id": row["public_id"], "number": row["number"], "institution": row["institution_name"],
            "received_at": now, "message_id": message_id,
            "files": [{k: s[k] for k in ("filename", "size_bytes", "sha256")} for s in stored]}


# -- the scheduler: reminders, escalation, expiry ---------------------------------------------------------------------

_DUE_COLUMNS = (_r.c.id, _r.c.public_id, _r.c.token_hash, _r.c.case_id, _r.c.element_id, _r.c.subject, _r.c.due_at,
                _r.c.expires_at, _r.c.created_at, _r.c.reminder_days_json, _r.c.reminders_sent, _r.c.next_reminder_at,
                _r.c.escalation_group, _i.c.key.label("institution_key"), _i.c.name.label("institution_name"),
                _i.c.email, _i.c.contact, _c.c.number)
_JOINED = _r.join(_i, _i.c.id == _r.c.institution_id).join(_c, _c.c.id == _r.c.case_id)


def _locked(conn, query):
    if conn.dialect.name == "postgresql":  # another scheduler takes the rest
        return query.with_for_update(of=_r, skip_locked=True)
    return query


def remind_and_escalate(svc: Services, limit: int = 200) -> dict:
    """The scheduler's pass over open requests: cancel those of ended cases, expire links past their time, mail
    the due reminders, escalate the requests whose due date passed. Returns how many of each:
    {"reminded", "escalated", "expired", "cancelled"}."""
    done = {"reminded": 0, "escalated": 0, "expired": 0, "cancelled": 0}
    with svc.uow() as uow:
        conn = uow.conn
        now = svc.clock()
        done["cancelled"] = _close(conn, now, CANCELLED, _c.c.state.in_(ENDED_CASE_STATES), limit)
        done["expired"] = _close(conn, now, EXPIRED, _r.c.expires_at <= now, limit)
        reminders = conn.execute(_locked(conn, select(*_DUE_COLUMNS).select_from(_JOINED).where(
            _r.c.state == OPEN, _r.c.next_reminder_at <= now).order_by(_r.c.next_reminder_at).limit(limit))).all()
        for row in reminders:
            done["reminded"] += _remind(svc, conn, row, now)
        overdue = conn.execute(_locked(conn, select(*_DUE_COLUMNS).select_from(_JOINED).where(
            _r.c.state == OPEN, _r.c.escalated_at.is_(None), _r.c.due_at <= now).order_by(_r.c.due_at)
            .limit(limit))).all()
        for row in overdue:
            done["escalated"] += _escalate(svc, conn, row, now)
        uow.commit()
    return done


def _close(conn, now: datetime, state: str, condition, limit: int) -> int:
    rows = conn.execute(_locked(conn, select(_r.c.id, _r.c.case_id, _r.c.public_id, _r.c.element_id)
                                .select_from(_JOINED).where(_r.c.state == OPEN, condition).limit(limit))).all()
    events = []
    for row in rows:
        if conn.execute(update(_r).where(_r.c.id == row.id, _r.c.state == OPEN)
                        .values(state=state, next_reminder_at=None)).rowcount == 1:
            if state == EXPIRED:  # a cancelled case's history needs no word on it
                events.append(event_row(row.case_id, now, "institution_request_expired", element_id=row.element_id,
                                        data={"solicitud": row.public_id}))
    append_events(conn, events)
    return len(rows)


def _remind(svc: Services, conn, row, now: datetime) -> int:
    late = row.due_at <= now  # the scheduler was away past the due date: the escalation speaks, not a reminder
    following = None if late else _next_reminder(svc.calendar, row.due_at, orjson.loads(row.reminder_days_json), now)
    if conn.execute(update(_r).where(_r.c.id == row.id, _r.c.next_reminder_at == row.next_reminder_at).values(
            next_reminder_at=following, reminders_sent=_r.c.reminders_sent + (0 if late else 1))).rowcount != 1 \
            or late:
        return 0
    cal = svc.calendar
    left = cal.working_days_between(cal.local_date(now), cal.local_date(row.due_at))
    enqueue_template(conn, "recordatorio_institucion", to=row.email, now=now, case_id=row.case_id,
                     saludo=_greeting({"contact": row.contact}), institucion=row.institution_name,
                     numero=row.number, asunto=row.subject, vence=date_and_hour(row.due_at, cal), dias=left,
                     enlace=_reminder_link(svc, row, cal))
    append_events(conn, [event_row(row.case_id, now, "institution_reminder", element_id=row.element_id, data={
        "solicitud": row.public_id, "institucion": row.institution_key, "correo": row.email,
        "vence": row.due_at.isoformat(), "dias_habiles": left})])
    return 1


def _reminder_link(svc: Services, row, calendar) -> str:
    """The request's link signed again; should the office's key have changed since (the signature no longer
    matches the stored hash), words pointing to the first mail's link instead."""
    token = _link_token(svc, row.public_id)
    if hmac.compare_digest(_token_hash(token), row.token_hash):
        return reply_link(svc, token)
    return (f"el enlace del correo «Solicitud de la Gobernación de Chimaltenango: {row.subject}» que recibió el "
            f"{long_date(calendar.local_date(row.created_at))} (solicitud {row.public_id})")


def _escalate(svc: Services, conn, row, now: datetime) -> int:
    if conn.execute(update(_r).where(_r.c.id == row.id, _r.c.escalated_at.is_(None))
                    .values(escalated_at=now, next_reminder_at=None)).rowcount != 1:
        return 0
    recipients = (group_addresses(conn, row.escalation_group) if row.escalation_group else []) \
        or supervisor_addresses(conn)
    extra = svc.deadlines.policy.escalation_email  # as for an overdue task (deadline_alerts)
    recipients = list(dict.fromkeys(recipients + ([extra] if extra else [])))
    cal = svc.calendar
    for to in recipients:
        enqueue_template(conn, "institucion_vencida", to=to, now=now, case_id=row.case_id,
                         institucion=row.institution_name, asunto=row.subject, numero=row.number,
                         vence=date_and_hour(row.due_at, cal), solicitud=row.public_id,
                         enviada=date_and_hour(row.created_at, cal), correo=row.email,
                         grupo=row.escalation_group or "(supervisores)", caduca=date_and_hour(row.expires_at, cal))
    append_events(conn, [event_row(row.case_id, now, "institution_escalated", element_id=row.element_id, data={
        "solicitud": row.public_id, "institucion": row.institution_key, "vence": row.due_at.isoformat(),
        "grupo": row.escalation_group, "notified": recipients})])
    return 1
