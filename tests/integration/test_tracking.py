"""Following a case by its tracking code (engine/usecases/tracking.py): the stages along real walks of the licence
and the citizen request, the second factor, answers that tell nothing about which codes exist, and the limits per
client and per code; answering a previo online: files kept as the case's attachments, the waiting task completed
at the answer's moment (its deadline stops), the clerk's verification next, a receipt mailed, refusals that keep
nothing (on both databases)."""
from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from engine.errors import CaseNotFound, Conflict, InvalidInput, RateLimited
from engine.mail.notifications import outbox_rows
from engine.storage import models
from engine.usecases import cases, tasks, tracking
from engine.usecases.attachments import AttachmentRefused, AttachmentStore, AttachmentTooLarge
from engine.usecases.cases import TRACKING_ALPHABET
from engine.usecases.deploy import deploy_files, read_paths
from engine.usecases.institution_records import seed_institutions
from engine.usecases.lanes import apply_lane_files
from tests.conftest import make_services, principal_for
from tests.processes import licencia_walk as lic
from tests.processes.driver import PROCESSES, Walk, closing, local, office
from tests.processes.test_solicitud_ciudadana import gestionar, notify as notify_laip, resolver_laip
from tests.processes.test_solicitud_ciudadana import intake as laip_intake

ONE_MINUTE = timedelta(minutes=1)
STAFF = ("ventanilla1", "oficial1", "juridico1", "gobernador", "notificador1", "uip1", "Ana Lucía Cutzal",
         "Comisario", "Marta Boc", "Julio Sicán")
INTERNAL = ("emitir_", "revisar_", "recibir_", "firmar_", "notificar_", "registrar_", "DICT-GDCH", "OF-GDCH",
            "task_completed", "ventanilla", "juridico", "despacho")


@pytest.fixture
def svc(database_url, clock):
    services = office(database_url, clock)
    yield services
    services.db.dispose()


def factor_of(_walk: Walk) -> str:
    """The licence intake's DPI's last 4 digits."""
    return lic.DPI_ANA[-4:]


def follow(walk: Walk, factor: str | None = None, client: str = "203.0.113.7") -> dict:
    return tracking.follow_case(walk.svc, walk.case.tracking_code, factor or factor_of(walk), client)


def texts(shown: dict) -> list[str]:
    return [str(line["text"]) for line in shown["timeline"]]


def flat(shown: dict) -> str:
    """Everything the page is given, as one string, to look for what must not be there."""
    return repr(shown)


def test_tracking_codes_have_ten_characters_of_the_alphabet_and_at_least_40_bits(svc):
    walk = lic.start(svc, at=local(2026, 3, 30, 9))
    assert len(walk.case.tracking_code) == 10 and set(walk.case.tracking_code) <= set(TRACKING_ALPHABET)
    assert len(TRACKING_ALPHABET) ** svc.settings.tracking_code_length >= 2 ** 40


def test_the_stages_of_a_licence_along_its_whole_walk(svc):
    walk = lic.start(svc, at=local(2026, 3, 30, 9))
    shown = follow(walk)
    assert (shown["stage"], shown["number"], shown["procedure"]) == ("presentado", walk.case.number,
                                                                      "Licencia o autorización")
    assert shown["filed_at"] == local(2026, 3, 30, 9) and texts(shown)[0] == "Usted presentó su solicitud."
    assert [d["title"] for d in shown["documents"]] == ["Constancia de recepción"]  # issued at filing (e-mail)
    assert shown["documents"][0]["number"] == walk.case.number
    lic.receive(walk)
    assert follow(walk)["stage"] == "en_revision"
    lic.review(walk, complete=False)
    assert follow(walk)["stage"] == "en_revision"
    walk.svc.clock.now = local(2026, 3, 31, 9)
    lic.issue_previo(walk, local(2026, 3, 31, 9))
    shown = follow(walk)
    assert shown["stage"] == "previo" and shown["waiting_on_citizen"] is True
    assert shown["requested"] == [{"requisito": "Licencia municipal de sonido",
                                   "fundamento": "Código Municipal, Decreto 12-2002"}]
    # recibir_subsanacion is due in 10 working days from Tue 31 Mar: Holy Thursday-Saturday skipped → Thu 16 Apr.
    assert shown["deadline"]["date"] == date(2026, 4, 16) and shown["deadline"]["working_days_left"] == 10
    assert "Se emitió un previo: la oficina le pide completar su expediente." in texts(shown)
    assert [d["title"] for d in shown["documents"]] == ["Constancia de recepción", "Previo"]
    walk.svc.clock.now = local(2026, 4, 13, 9)  # Monday 13 April: three working days left (14, 15, 16)
    assert follow(walk)["deadline"]["working_days_left"] == 3
    lic.present_fix(walk, local(2026, 4, 13, 9))
    shown = follow(walk)  # received: the deadline stopped, the office verifies
    assert shown["stage"] == "previo" and shown["waiting_on_citizen"] is False and shown["requested"] == []
    assert shown["deadline"] is None and str(shown["next"]).startswith("La oficina verifica lo que usted presentó")
    assert "La oficina recibió lo que usted presentó para cumplir el previo." in texts(shown)
    lic.verify_fix(walk)
    shown = follow(walk)
    assert shown["stage"] == "en_analisis" and shown["waiting_on_citizen"] is False
    # Found complete, the file went on at once: the opinions were asked by oficio (one to the PNC, one to CONRED).
    assert texts(shown)[-3:] == ["La oficina verificó lo que usted presentó para cumplir el previo.",
                                 *["La oficina envió un oficio a otra institución sobre su solicitud."] * 2]
    lic.request_opinions(walk, local(2026, 4, 13, 10))
    lic.opinion(walk, "pnc", local(2026, 4, 14, 10))
    lic.opinion(walk, "coordinador", local(2026, 4, 14, 11))
    lic.dictamen(walk)
    assert follow(walk)["stage"] == "en_analisis"
    lic.sign(walk)
    shown = follow(walk)
    assert shown["stage"] == "resuelto" and "Se emitió la resolución." in texts(shown)
    walk.svc.clock.now = local(2026, 6, 26, 11)
    lic.notify(walk, local(2026, 6, 26, 10))
    assert follow(walk)["stage"] == "notificado"
    lic.certificate(walk)
    shown = follow(walk)
    assert shown["stage"] == "plazo_recurso"
    # Certified Fri 26 Jun: Army Day is Mon 29 Jun, so the appeal window's task is due Mon 6 Jul, 5 working days.
    assert (shown["deadline"]["date"], shown["deadline"]["working_days_left"]) == (date(2026, 7, 6), 5)
    assert [d["title"] for d in shown["documents"]] == ["Constancia de recepción", "Previo", "Resolución",
                                                        "Cédula de notificación", "Licencia"]
    walk.at(closing(2026, 7, 6) + ONE_MINUTE)
    shown = follow(walk)
    assert shown["stage"] == "cerrado" and shown["deadline"] is None
    assert texts(shown)[-2:] == ["Venció el plazo de recurso: la resolución quedó firme.", "El expediente se cerró."]
    page = flat(shown)
    assert not [word for word in STAFF + INTERNAL if word in page]
    assert "dictamen jurídico" in page  # the internal documents are told as facts, without their numbers


def test_the_stages_of_an_access_to_information_request(svc):
    svc.clock.now = local(2026, 3, 30, 10)
    walk = Walk(svc, "solicitud_ciudadana", laip_intake(), actor="ventanilla1")
    email = laip_intake()["correo"]
    shown = tracking.follow_case(svc, walk.case.tracking_code, email, "c")
    # The LAIP term (its timer): 10 working days from Tue 31 Mar, Holy Thursday-Saturday skipped → Wed 15 Apr.
    assert shown["stage"] == "en_analisis"
    assert (shown["deadline"]["date"], shown["deadline"]["working_days_left"]) == (date(2026, 4, 15), 10)
    walk.at(local(2026, 4, 10, 9))
    gestionar(walk)
    shown = tracking.follow_case(svc, walk.case.tracking_code, email.upper(), "c")
    assert shown["stage"] == "en_analisis"
    assert (shown["deadline"]["date"], shown["deadline"]["working_days_left"]) == (date(2026, 4, 15), 3)
    walk.at(local(2026, 4, 14, 11))
    resolver_laip(walk)
    assert tracking.follow_case(svc, walk.case.tracking_code, email, "c")["stage"] == "resuelto"
    notify_laip(walk, local(2026, 4, 14, 15))
    shown = tracking.follow_case(svc, walk.case.tracking_code, email, "c")
    assert shown["stage"] == "plazo_recurso"
    assert [d["title"] for d in shown["documents"]] == ["Constancia de recepción", "Resolución",
                                                        "Cédula de notificación"]


def test_the_code_is_typed_in_any_case_with_spaces_and_dashes(svc):
    walk = lic.start(svc, at=local(2026, 3, 30, 9))
    code = walk.case.tracking_code
    typed = f" {code[:3].lower()}-{code[3:6]} {code[6:].lower()} "
    assert tracking.follow_case(svc, typed, factor_of(walk), "c")["number"] == walk.case.number
    assert tracking.follow_case(svc, code, " ANA.Xicara@Example.com ", "c")["number"] == walk.case.number


def test_unknown_code_wrong_factor_and_no_factor_answer_alike(svc):
    walk = lic.start(svc, at=local(2026, 3, 30, 9))
    code = walk.case.tracking_code
    other = "".join("2" if ch != "2" else "3" for ch in code)
    wrong = []
    for typed, factor in ((other, factor_of(walk)), (code, "0000" if factor_of(walk) != "0000" else "1111"),
                          (code, "otra@example.com"), (code, ""), (code, "123"), ("", factor_of(walk)),
                          (code, lic.DPI_ANA[-5:])):
        with pytest.raises(CaseNotFound) as refused:
            tracking.follow_case(svc, typed, factor, f"client-{len(wrong)}")
        wrong.append((refused.value.message, refused.value.details))
    assert len(set((str(m), repr(d)) for m, d in wrong)) == 1
    # A case that holds neither factor (no DPI, no e-mail) cannot be followed at all.
    bare = lic.start(svc, at=local(2026, 3, 30, 10))
    with svc.uow() as uow:
        uow.conn.execute(models.cases.update().where(models.cases.c.id == bare.id)
                         .values(applicant_dpi=None, citizen_email=None))
        uow.commit()
    for factor in ("", "@", "0000"):
        with pytest.raises(CaseNotFound) as refused:
            tracking.follow_case(svc, bare.case.tracking_code, factor, "another")
        assert str(refused.value.message) == str(wrong[0][0])


def test_attempts_are_limited_per_client_then_the_window_passes(svc, clock):
    walk = lic.start(svc, at=local(2026, 3, 30, 9, 0))
    window, limit = tracking.CLIENT_LIMIT
    for n in range(limit):  # wrong codes, each a different one, from one address
        with pytest.raises(CaseNotFound):
            tracking.follow_case(svc, f"ZZZZZZZZ{n:02d}", "1234", "198.51.100.4")
    with pytest.raises(RateLimited) as refused:  # even the right code and factor: the client is over
        follow(walk, client="198.51.100.4")
    assert 0 < refused.value.details["retry_after_seconds"] <= window
    assert follow(walk, client="198.51.100.5")["number"] == walk.case.number  # another client is not
    clock.advance(seconds=window)
    assert follow(walk, client="198.51.100.4")["number"] == walk.case.number


def test_attempts_are_limited_per_code_and_a_wrong_factor_counts_against_it(svc, clock):
    walk = lic.start(svc, at=local(2026, 3, 30, 9, 0))
    window, limit = tracking.CODE_LIMIT
    for n in range(limit):  # from many addresses: only the code's count grows
        with pytest.raises(CaseNotFound):
            tracking.follow_case(svc, walk.case.tracking_code, "9999" if factor_of(walk) != "9999" else "8888",
                                 f"192.0.2.{n}")
    with pytest.raises(RateLimited):
        follow(walk, client="192.0.2.200")
    with svc.uow(write=False) as uow:  # what is kept is hashed: neither the code nor the address
        keys = uow.conn.execute(select(models.rate_limits.c.key_hash)).scalars().all()
    assert keys and not [k for k in keys if walk.case.tracking_code.lower() in k or "192.0.2" in k]
    clock.advance(seconds=window)
    assert follow(walk, client="192.0.2.200")["stage"] == "presentado"


# -- answering a previo online ---------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def at_previo(svc) -> Walk:
    """A licence whose completeness review found the sound licence missing: the previo was issued and notified on
    Tue 31 Mar 2026; the case waits on the citizen until Thu 16 Apr."""
    walk = lic.start(svc, at=local(2026, 3, 30, 9))
    lic.review(lic.receive(walk), complete=False)
    svc.clock.now = local(2026, 3, 31, 9)
    return lic.issue_previo(walk, local(2026, 3, 31, 9))


def answer(walk: Walk, store, files=None, note: str = "Adjunto la licencia de sonido.", client: str = "c"):
    files = [("licencia sonido.pdf", io.BytesIO(PDF)), ("foto.png", io.BytesIO(PNG))] if files is None else files
    return tracking.answer_request(walk.svc, walk.case.tracking_code, factor_of(walk), files, note, client, store)


@pytest.fixture
def store(tmp_path):
    return AttachmentStore(directory=tmp_path / "adjuntos", max_bytes=1024)


def stored_files(store) -> list:
    return [p for p in store.directory.rglob("*") if p.is_file()] if store.directory.exists() else []


def test_a_previo_answered_online_stops_the_deadline_and_waits_on_the_clerks_verification(svc, store):
    walk = at_previo(svc)
    assert [e for (e, _d, s) in walk.timers() if s == "waiting"] == ["vence_subsanacion"]
    moment = local(2026, 4, 8, 15, 42)
    svc.clock.now = moment
    receipt = answer(walk, store)
    assert receipt["number"] == walk.case.number and receipt["received_at"] == moment
    assert [f["filename"] for f in receipt["files"]] == ["licencia sonido.pdf", "foto.png"]
    assert receipt["files"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    with svc.uow(write=False) as uow:
        files = uow.conn.execute(select(models.attachments.c.filename, models.attachments.c.uploaded_by,
                                        models.attachments.c.uploaded_at)
                                 .where(models.attachments.c.case_id == walk.id)).all()
        task = uow.conn.execute(select(models.tasks.c.state, models.tasks.c.completed_at,
                                       models.tasks.c.completed_by)
                                .where(models.tasks.c.case_id == walk.id,
                                       models.tasks.c.element_id == "recibir_subsanacion")).one()
    assert [tuple(f) for f in files] == [("licencia sonido.pdf", "en_linea", moment), ("foto.png", "en_linea", moment)]
    assert tuple(task) == ("completed", moment, "en_linea")
    assert len(stored_files(store)) == 2
    # The deadline stopped at the answer: its timer is cancelled; a clerk verifies what was presented.
    assert [s for (e, _d, s) in walk.timers() if e == "vence_subsanacion"] == ["cancelled"]
    assert walk.ready() == ["verificar_subsanacion"]
    assert walk.task("verificar_subsanacion")["candidate_group"] == "ventanilla"
    data = walk.data
    assert "subsanacion_completa" not in data  # no verdict is taken as given
    assert data["subsanacion_fecha"] == moment.isoformat()
    assert data["subsanacion_documentos"] == ["licencia sonido.pdf", "foto.png"]
    assert data["subsanacion_observaciones"] == "Presentado en línea por el interesado. Adjunto la licencia de sonido."
    mail = [m for m in outbox_rows(svc) if m["kind"] == "subsanacion_recibida"]
    assert len(mail) == 1 and mail[0]["to_address"] == "ana.xicara@example.com"
    for part in (walk.case.number, "miércoles 8 de abril de 2026, 15:42 h", "licencia sonido.pdf", "foto.png",
                 hashlib.sha256(PDF).hexdigest(), "Adjunto la licencia de sonido.", "/consulta"):
        assert part in mail[0]["body"], part
    shown = follow(walk)
    assert shown["stage"] == "previo" and shown["waiting_on_citizen"] is False and shown["deadline"] is None
    assert str(shown["next"]).startswith("La oficina verifica lo que usted presentó")
    assert texts(shown).count("Usted presentó documentos en línea.") == 1
    # Answered once: a second answer finds the case waiting on no one.
    with pytest.raises(Conflict):
        answer(walk, store)
    assert len(stored_files(store)) == 2
    # Verified after the deadline has passed: what was presented in time goes on.
    walk.at(closing(2026, 4, 16) + ONE_MINUTE)
    assert walk.ready() == ["verificar_subsanacion"] and walk.history().count("timer_fired") == 0
    lic.verify_fix(walk, complete=True)
    assert walk.ready() == [] and walk.data["expediente_completo"] is True  # the opinions were asked
    assert follow(walk)["stage"] == "en_analisis"


def test_a_previo_answered_online_that_the_clerk_finds_incomplete_archives_the_case(svc, store):
    walk = at_previo(svc)
    svc.clock.now = local(2026, 4, 8, 15, 42)
    answer(walk, store)
    assert walk.ready() == ["verificar_subsanacion"] and walk.state == "running"
    lic.verify_fix(walk, complete=False)
    assert walk.ready() == [] and walk.state == "completed"
    data = walk.data
    assert data["archivado_por_falta"] is True and data["motivo_archivo"] == "subsanacion_incompleta"
    shown = follow(walk)
    assert shown["stage"] == "cerrado" and shown["waiting_on_citizen"] is False
    assert "La oficina verificó lo que usted presentó para cumplir el previo." in texts(shown)


def before_the_verification() -> bytes:
    """comun_revision_completitud as published before the clerk's verification was a task of its own: the
    reception (form `subsanacion`) takes the verdict and flows straight to the gateway."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    root = etree.fromstring((PROCESSES / "comun_revision_completitud.bpmn").read_bytes())
    gone = ("verificar_subsanacion", "f_recibido")
    for el in root.xpath("//*[@id=$a or @id=$b or @bpmnElement=$a or @bpmnElement=$b] | //bpmn:flowNodeRef[.=$a]",
                         namespaces=ns, a=gone[0], b=gone[1]):
        el.getparent().remove(el)
    [received] = root.xpath("//bpmn:userTask[@id='recibir_subsanacion']", namespaces=ns)
    received.find(".//spiffworkflow:property[@name='form']", ns).set("value", "subsanacion")
    received.find("bpmn:outgoing", ns).text = "f_subsanacion"
    root.xpath("//bpmn:sequenceFlow[@id='f_subsanacion']", namespaces=ns)[0].set("sourceRef", "recibir_subsanacion")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_case_started_before_the_verification_goes_on_as_its_version_says(database_url, clock, store):
    """Its reception asks the verdict and no clerk's step follows: the answer online continues it, as it did when
    the case started, even after today's diagrams are published."""
    svc = make_services(database_url, clock)
    try:
        deploy_files(svc, {**read_paths([PROCESSES]), "comun_revision_completitud.bpmn": before_the_verification()})
        apply_lane_files(svc, [PROCESSES])
        seed_institutions(svc)  # the licence asks the PNC and CONRED for their opinions
        walk = at_previo(svc)
        deploy_files(svc, read_paths([PROCESSES]))  # today's diagrams: new cases get the verification
        assert walk.task("recibir_subsanacion")["form_key"] == "subsanacion"
        svc.clock.now = local(2026, 4, 8, 15, 42)
        answer(walk, store)
        assert walk.ready() == [] and walk.data["solicitud_pnc"]["solicitud"]  # the opinions were asked
        assert walk.data["subsanacion_completa"] is True and walk.data["expediente_completo"] is True
        assert [s for (e, _d, s) in walk.timers() if e == "vence_subsanacion"] == ["cancelled"]
        newer = at_previo(svc)
        assert newer.task("recibir_subsanacion")["form_key"] == "subsanacion_recepcion"
    finally:
        svc.db.dispose()


def test_a_case_that_waits_on_no_answer_refuses_one_and_keeps_nothing(svc, store):
    walk = lic.receive(lic.start(svc, at=local(2026, 3, 30, 9)))
    with pytest.raises(Conflict) as refused:
        answer(walk, store)
    assert str(refused.value.message) == "Su expediente no espera documentos de usted en este momento."
    assert stored_files(store) == [] and "attachment_added" not in walk.history()


def test_a_suspended_case_takes_no_answer_and_keeps_no_file(svc, store):
    walk = at_previo(svc)
    cases.change_case_state(svc, principal_for("supervisor1", role="supervisor"), walk.id, "suspend",
                            "Revisión de la dirección")
    with pytest.raises(Conflict):
        answer(walk, store)
    assert stored_files(store) == [] and "attachment_added" not in walk.history()


@pytest.mark.parametrize("files, note, refusal", [
    ([("nota.txt", b"hola")], "", AttachmentRefused),
    ([("bien.pdf", PDF), ("<script>.html", b"<script>alert(1)</script>")], "", AttachmentRefused),
    ([("grande.pdf", PDF + b"x" * 2048)], "", AttachmentTooLarge),
    ([], "Solo una nota", InvalidInput),
    ([(f"{n}.pdf", PDF) for n in range(tracking.MAX_FILES + 1)], "", InvalidInput),
    ([("bien.pdf", PDF)], "x" * (tracking.MAX_NOTE_CHARS + 1), InvalidInput),
])
def test_a_refused_answer_keeps_no_file_and_the_case_still_waits(svc, store, files, note, refusal):
    walk = at_previo(svc)
    with pytest.raises(refusal):
        answer(walk, store, [(name, io.BytesIO(content)) for name, content in files], note)
    assert stored_files(store) == [] and "attachment_added" not in walk.history()
    assert walk.ready() == ["recibir_subsanacion"]


def test_a_task_a_clerk_holds_is_released_and_completed_by_the_answer(svc, store):
    walk = at_previo(svc)
    tasks.claim_task(svc, principal_for("ventanilla1", role="clerk", groups=("ventanilla",)),
                     walk.task("recibir_subsanacion")["id"])
    answer(walk, store)
    assert walk.ready() == ["verificar_subsanacion"]
    assert walk.history()[-6:].count("task_released") == 1


def test_an_answer_needs_the_code_and_factor_and_counts_as_an_attempt(svc, store):
    walk = at_previo(svc)
    with pytest.raises(CaseNotFound):
        tracking.answer_request(svc, walk.case.tracking_code, "otra@example.com",
                                [("a.pdf", io.BytesIO(PDF))], "", "c", store)
    window, limit = tracking.CODE_LIMIT
    for _ in range(limit - 1):
        follow(walk)
    with pytest.raises(RateLimited):
        answer(walk, store)
    assert stored_files(store) == [] and walk.ready() == ["recibir_subsanacion"]
