"""The citizen hears of every milestone by e-mail: procedures walked to their end through the real diagrams and
forms queue, in order, the receipt, the previo, the LAIP extension's cédula, each resolution, each cédula de
notificación, the licence and the closure notice, each with its PDF where it has one, naming the case number and
tracking code and where to follow the case (/consulta), never a clerk; the scheduler's pass delivers them through
a real SMTP server on loopback and marks them sent. A case without an address queues nothing."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.mail.notifications import outbox_rows
from engine.ops.scheduler import run_pass
from engine.storage import models
from engine.usecases import cases, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import linear, script, user
from tests.conftest import principal_for
from tests.documents_helpers import issued
from tests.processes import licencia_walk as lic
from tests.processes import test_solicitud_ciudadana as laip
from tests.processes.driver import Walk, local, office
from tests.smtp_inbox import loopback_mailer, smtp_inbox
from tests.task_rows import task_rows
from tests.waiting import free_port

ONE_MINUTE = timedelta(minutes=1)
STAFF = ("ventanilla1", "uip1", "notificador1", "gobernador", "oficial1", "juridico1")


def laip_with_extension(svc, **changes):
    """A LAIP request extended, resolved, notified, appealed and the appeal resolved and notified: completed by
    the last task. A change to None leaves that intake field out."""
    svc.clock.now = local(2026, 4, 14, 16, 31)
    data = {key: value for key, value in laip.intake(**changes).items() if value is not None}
    walk = Walk(svc, "solicitud_ciudadana", data, actor="ventanilla1")
    walk.at(local(2026, 4, 27, 9))
    laip.gestionar(walk, prorroga=True)
    laip.notify(walk, local(2026, 4, 27, 12), notificacion_acto=laip.EXTENSION)
    walk.at(local(2026, 5, 4, 9))
    laip.resolver_laip(walk)
    laip.notify(walk, local(2026, 5, 4, 12))
    walk.at(local(2026, 5, 6, 9))
    walk.complete("laip_registrar_recurso", {"laip_recurso_fecha": local(2026, 5, 6, 9).isoformat(),
                                             "laip_recurso_motivo": "La información entregada está incompleta."})
    walk.complete("laip_resolver_revision", {"laip_revision_decision": "confirma",
                                             "resolucion_considerandos": ["Que la información entregada es la "
                                                                          "que obra en la Gobernación."],
                                             "resolucion_fundamento": "Decreto 57-2008, art. 60.",
                                             "resolucion_puntos": ["Se confirma la resolución recurrida."]},
                  actor="gobernador")
    walk.at(local(2026, 5, 12, 10))
    laip.notify(walk, local(2026, 5, 12, 10))
    assert walk.state == "completed"
    return walk


def licence_with_previo(svc):
    """A licence whose file needed a previo, approved, notified and certified: completed by the appeal window's
    timer."""
    walk = lic.receive(lic.start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9)))
    lic.review(walk, complete=False)
    lic.issue_previo(walk, local(2026, 3, 30, 10))
    lic.fix(walk, local(2026, 4, 1, 10))
    lic.request_opinions(walk, local(2026, 4, 6))
    svc.clock.now = local(2026, 4, 7, 11)
    lic.opinion(walk, "pnc", local(2026, 4, 7, 9))
    lic.opinion(walk, "coordinador", local(2026, 4, 7, 10))
    lic.dictamen(walk)
    lic.sign(walk)
    svc.clock.now = local(2026, 6, 26, 11)
    lic.notify(walk, local(2026, 6, 26, 10))
    lic.certificate(walk)
    walk.at(lic.closing(date(2026, 7, 6)) + ONE_MINUTE)
    assert walk.state == "completed"
    return walk


def staff_names(svc) -> set[str]:
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(models.users.select()).mappings().all()
    return {r["display_name"] for r in rows if r["display_name"]} | set(STAFF)


INSTITUTION_MAILS = ("solicitud_institucion", "recordatorio_institucion", "institucion_vencida")


def assert_milestones(walk, expected: list[tuple[str, str | None]], address: str) -> list[dict]:
    """The case's outbox holds `expected` (template, kind of the attached document or None), in order, each to
    the citizen's address, naming the case and its tracking code and /consulta, no staff name."""
    svc = walk.svc
    # The case's mails to institutions (their requests for an answer by link) are not the citizen's milestones.
    mails = [m for m in outbox_rows(svc, walk.id) if m["kind"] not in INSTITUTION_MAILS]
    kinds = {d["id"]: d["kind"] for d in issued(svc, walk.id)}
    assert [(m["kind"], kinds.get(m["document_id"])) for m in mails] == expected
    names = staff_names(svc)
    for m in mails:
        assert m["to_address"] == address and m["status"] == "pending"
        assert walk.case.number in m["subject"]
        for text in (walk.case.number, walk.case.tracking_code, f"{svc.settings.public_base_url}/consulta"):
            assert text in m["body"], f"{m['kind']}: {text!r} missing"
        assert not [n for n in names if n in m["body"]], m["body"]
    return mails


@pytest.fixture
def either(database_url, clock):
    """The whole office on each backend (SQLite and PostgreSQL)."""
    svc = office(database_url, clock)
    yield svc
    svc.db.dispose()


def test_laip_with_extension_mails_each_milestone_in_order(either):
    walk = laip_with_extension(either)
    mails = assert_milestones(walk, [
        ("recepcion", "constancia_recepcion"), ("prorroga", "cedula_notificacion"), ("documento", "resolucion"),
        ("notificacion", "cedula_notificacion"), ("documento", "resolucion"), ("notificacion", "cedula_notificacion"),
        ("cierre", None)], "maria.tuyuc@example.com")
    # The extension's message gives the new deadline (+10 working days from Wed 29 Apr, 1 May skipped).
    assert "jueves 14 de mayo de 2026" in mails[1]["body"] and "artículo 43" in mails[1]["body"]
    # A cédula's message says what it notified and when.
    assert "RES-GDCH-2026-0001" in mails[3]["body"] and "lunes 4 de mayo de 2026, 12:00 h" in mails[3]["body"]
    assert "RES-GDCH-2026-0002" in mails[5]["body"]
    assert "concluyó el martes 12 de mayo de 2026" in mails[6]["body"]


def test_licence_with_previo_mails_each_milestone_and_the_closure_when_its_timer_ends_it(svc):
    walk = licence_with_previo(svc)
    assert_milestones(walk, [
        ("recepcion", "constancia_recepcion"), ("documento", "previo"), ("documento", "resolucion"),
        ("notificacion", "cedula_notificacion"), ("documento", "licencia"), ("cierre", None)],
        "ana.xicara@example.com")
    # The opinions were asked by mail to the PNC and CONRED, each with its oficio attached.
    asked = [(m["to_address"], m["document_id"] is not None) for m in outbox_rows(walk.svc, walk.id)
             if m["kind"] == "solicitud_institucion"]
    assert asked == [("pnc.chimaltenango@example.org", True), ("conred.chimaltenango@example.org", True)]


def test_every_milestone_leaves_by_smtp_with_its_pdf_and_is_marked_sent(either):
    svc = either
    walk = laip_with_extension(svc)
    port = free_port()
    svc.mailer = loopback_mailer(port)
    with smtp_inbox(port) as inbox:
        assert run_pass(svc).mail_sent == 7
    queued = outbox_rows(svc, walk.id)
    assert [(m["status"], m["attempts"]) for m in queued] == [("sent", 1)] * 7
    pdfs = {d["id"]: d["pdf"] for d in issued(svc, walk.id)}
    assert [m["Subject"] for m in inbox.messages] == [m["subject"] for m in queued]
    for message, row in zip(inbox.messages, queued):
        assert message["To"] == "maria.tuyuc@example.com"
        attached = [a.get_content() for a in message.iter_attachments()]
        assert attached == ([pdfs[row["document_id"]]] if row["document_id"] else [])


def test_a_case_without_an_address_queues_nothing(svc):
    walk = laip_with_extension(svc, correo=None, telefono="5512 3456")
    assert issued(svc, walk.id)  # its documents were issued all the same
    assert outbox_rows(svc, walk.id) == []


def test_the_closure_is_queued_once_however_the_case_completes(svc):
    # At filing (after the receipt), and by a supervisor's retry of a failed step (not when the step failed).
    deploy_files(svc, {"p.bpmn": linear(script("r = 1"), start_form="solicitud_ciudadana")})
    at_once = cases.start_case(svc, principal_for("ventanilla1"), "p", laip.intake())
    assert at_once.state == "completed"
    assert [m["kind"] for m in outbox_rows(svc, at_once.id)] == ["recepcion", "cierre"]
    deploy_files(svc, {"q.bpmn": linear(user("Ingresar"), script("r = 10 / divisor"), process_id="q",
                                        start_form="solicitud_ciudadana")})
    retried = cases.start_case(svc, principal_for("ventanilla1"), "q", laip.intake())
    [first] = task_rows(svc, retried.id)
    assert tasks.complete_task(svc, principal_for("oficial1"), first["id"], {"divisor": 0})["case_state"] == "error"
    assert [m["kind"] for m in outbox_rows(svc, retried.id)] == ["recepcion"]
    assert cases.retry_case(svc, principal_for("supervisor1"), retried.id, {"divisor": 2})["state"] == "completed"
    assert [m["kind"] for m in outbox_rows(svc, retried.id)] == ["recepcion", "cierre"]
