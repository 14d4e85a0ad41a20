"""Institutions answer by link, on SQLite and PostgreSQL: a case's service task asks the PNC, the mail carries a
signed link, the answer given on it (text and documents) reaches the waiting case as a message; reminders go out
at the working days before the due date the diagram names, the escalation group hears when it passes, links
expire, and bad links are refused without a word about any case."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.mail.notifications import outbox_rows
from engine.storage import models
from engine.usecases import cases, institution_records as records, institutions
from engine.usecases.attachments import AttachmentRefused, AttachmentStore, attachments_of
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions
from tests.conftest import SYSTEM, make_services, principal_for
from tests.task_rows import task_rows

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
GT = timezone(timedelta(hours=-6))
# The clock starts on Monday 2 March 2026, 09:00 office time (tests.conftest.FakeClock): five working days
# later is Monday 9 March, due at its closing time (16:30).
DUE = datetime(2026, 3, 9, 16, 30, tzinfo=GT)


def asking(days: int = 5, reminders: str = "[3, 1]", group: str = "'tramite'", extra: str = "") -> bytes:
    """A procedure that asks the PNC for its opinion (service task), waits for it (correlated by the request's id)
    and has a clerk review it."""
    params = {"institucion": "'pnc'", "mensaje": "'opinion_pnc'", "plazo_dias": str(days),
              "recordatorios": reminders, "grupo": group, "asunto": "'Opinión sobre la feria patronal'"}
    items = "".join(f'<spiffworkflow:parameter id="{k}" type="any" value="{v}"/>' for k, v in params.items())
    body = f"""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pedir"/>
    <bpmn:serviceTask id="pedir" name="Pedir opinión a la PNC"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="solicitar_institucion" resultVariable="solicitud_pnc">
        <spiffworkflow:parameters>{items}{extra}</spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="pedir" targetRef="esperar"/>
    <bpmn:intermediateCatchEvent id="esperar" name="Esperar la opinión">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="correlacion" value="solicitud=solicitud_pnc.solicitud"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:messageEventDefinition messageRef="msg_opinion"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="esperar" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar la opinión"/>
    <bpmn:sequenceFlow id="f4" sourceRef="revisar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
"""
    return definitions(body, "opinion_pnc", "Opinión de la PNC").replace(
        b'<bpmn:process id="opinion_pnc"',
        b'<bpmn:message id="msg_opinion" name="opinion_pnc"/>\n  <bpmn:process id="opinion_pnc"')


@pytest.fixture
def office(database_url, clock, tmp_path):
    svc = make_services(database_url, clock)
    records.seed_institutions(svc)
    add_user(svc, "tramite1", "clerk", "una-clave-larga", email="rosa@gobernacion.example", groups=["tramite"])
    add_user(svc, "tramite2", "clerk", "una-clave-larga", groups=["tramite"])  # no e-mail: not told
    add_user(svc, "supervisor1", "supervisor", "una-clave-larga", email="jefa@gobernacion.example")
    deploy_files(svc, {"opinion_pnc.bpmn": asking()}, actor="test")
    svc.store = AttachmentStore(tmp_path / "adjuntos")
    yield svc
    svc.db.dispose()


def ask(svc) -> tuple[int, str]:
    """Start a case that asks the PNC; its id and the token of the link mailed."""
    started = cases.start_case(svc, SYSTEM, "opinion_pnc", {})
    link = institutions.link_for(svc, cases.case_data(svc, SYSTEM, started.id)["solicitud_pnc"]["solicitud"])
    return started.id, link.rsplit("/", 1)[1]


def request_row(svc, case_id: int) -> dict:
    _r = models.institution_requests
    with svc.uow(write=False) as uow:
        return dict(uow.conn.execute(select(_r).where(_r.c.case_id == case_id)).mappings().one())


def events(svc, case_id: int, kind: str) -> list[dict]:
    _e = models.events
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(select(_e.c.data_json).where(_e.c.case_id == case_id, _e.c.kind == kind)
                                .order_by(_e.c.id)).scalars().all()
    return [orjson.loads(r) for r in rows]


def attached_to(svc, case_id: int) -> list[dict]:
    with svc.uow(write=False) as uow:
        return attachments_of(uow.conn, case_id)


def mail(svc, kind: str) -> list[dict]:
    return [m for m in outbox_rows(svc) if m["kind"] == kind]


def at(svc, moment: datetime) -> None:
    svc.clock.now = moment.astimezone(timezone.utc)


def test_the_link_mailed_takes_the_answer_and_its_documents_into_the_waiting_case(office):
    case_id, token = ask(office)
    row = request_row(office, case_id)
    assert row["state"] == "open" and row["due_at"] == DUE and row["escalation_group"] == "tramite"
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()  # the secret itself is not kept
    [sent] = mail(office, "solicitud_institucion")
    assert sent["to_address"] == "pnc.chimaltenango@example.org" and f"/responder/{token}" in sent["body"]
    assert "lunes 9 de marzo de 2026, 16:30 h" in sent["body"]
    assert [t["element_id"] for t in task_rows(office, case_id)] == []  # waiting for the PNC
    shown = institutions.reply_page(office, token, "10.0.0.1")
    assert (shown["number"], shown["subject"], shown["public_id"]) == (
        cases.get_case(office, SYSTEM, case_id)["number"], "Opinión sobre la feria patronal", row["public_id"])

    office.clock.advance(hours=3)
    receipt = institutions.submit_reply(office, token, "  Sin objeción; se asignan 4 agentes.  ",
                                        [("dictamen PNC.pdf", io.BytesIO(PDF))], store=office.store,
                                        client="10.0.0.1")
    [attached] = attached_to(office, case_id)
    assert attached["filename"] == "dictamen PNC.pdf" and attached["uploaded_by"] == "institucion:pnc"
    assert receipt["files"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    data = cases.case_data(office, SYSTEM, case_id)
    assert data["respuesta"] == "Sin objeción; se asignan 4 agentes."
    assert data["documentos"] == [attached["id"]] and data["institucion"] == "pnc"
    assert data["respondido_en"] == office.clock().isoformat()
    assert [t["element_id"] for t in task_rows(office, case_id)] == ["revisar"]
    answered = request_row(office, case_id)
    assert answered["state"] == "answered" and answered["answered_at"] == office.clock()
    assert [e["solicitud"] for e in events(office, case_id, "institution_answered")] == [row["public_id"]]
    with pytest.raises(institutions.ReplyLinkClosed) as used:
        institutions.reply_page(office, token)
    assert used.value.details["state"] == "answered"
    with pytest.raises(institutions.ReplyLinkClosed):
        institutions.submit_reply(office, token, "otra vez", [], store=office.store)


def test_bad_links_are_refused_and_an_expired_one_says_so(office):
    case_id, token = ask(office)
    for wrong in ("", "x", token[:-1] + ("A" if token[-1] != "A" else "B"), token + "0", "a" * 500):
        with pytest.raises(institutions.ReplyLinkInvalid):
            institutions.reply_page(office, wrong)
    expires = request_row(office, case_id)["expires_at"]
    assert expires > DUE  # a late answer is still taken for a while
    at(office, expires - timedelta(seconds=1))
    assert institutions.reply_page(office, token)["late"] is True
    at(office, expires)
    with pytest.raises(institutions.ReplyLinkClosed) as closed:
        institutions.submit_reply(office, token, "Tarde", [], store=office.store)
    assert closed.value.details["state"] == "expired"
    assert institutions.remind_and_escalate(office)["expired"] == 1
    assert request_row(office, case_id)["state"] == "expired"
    assert len(events(office, case_id, "institution_request_expired")) == 1


def test_reminders_go_out_on_the_working_days_before_the_due_date_with_the_same_link(office):
    case_id, token = ask(office)
    # 3 and 1 working days before Monday 9 March: Wednesday 4 and Friday 6 March, at opening time (08:00).
    assert request_row(office, case_id)["next_reminder_at"] == datetime(2026, 3, 4, 8, 0, tzinfo=GT)
    at(office, datetime(2026, 3, 4, 7, 59, tzinfo=GT))
    assert institutions.remind_and_escalate(office)["reminded"] == 0
    at(office, datetime(2026, 3, 4, 8, 0, tzinfo=GT))
    assert institutions.remind_and_escalate(office)["reminded"] == 1
    assert institutions.remind_and_escalate(office)["reminded"] == 0  # once
    [first] = mail(office, "recordatorio_institucion")
    assert first["to_address"] == "pnc.chimaltenango@example.org" and f"/responder/{token}" in first["body"]
    assert "faltan 3 días hábiles" in first["body"]
    at(office, datetime(2026, 3, 6, 8, 0, tzinfo=GT))
    assert institutions.remind_and_escalate(office)["reminded"] == 1
    assert "faltan 1 días hábiles" in mail(office, "recordatorio_institucion")[-1]["body"]
    assert [e["dias_habiles"] for e in events(office, case_id, "institution_reminder")] == [3, 1]
    row = request_row(office, case_id)
    assert row["reminders_sent"] == 2 and row["next_reminder_at"] is None
    at(office, datetime(2026, 3, 9, 12, 0, tzinfo=GT))
    assert institutions.remind_and_escalate(office) == {"reminded": 0, "escalated": 0, "expired": 0,
                                                        "cancelled": 0}


def test_an_answered_request_is_not_reminded(office):
    case_id, token = ask(office)
    institutions.submit_reply(office, token, "Respondido a tiempo", [], store=office.store)
    at(office, DUE + timedelta(days=1))
    assert institutions.remind_and_escalate(office) == {"reminded": 0, "escalated": 0, "expired": 0,
                                                        "cancelled": 0}
    assert mail(office, "recordatorio_institucion") == [] and mail(office, "institucion_vencida") == []


def test_the_escalation_group_hears_once_when_the_due_date_passes(office):
    case_id, token = ask(office)
    at(office, DUE - timedelta(seconds=1))
    assert institutions.remind_and_escalate(office)["escalated"] == 0
    at(office, DUE)
    assert institutions.remind_and_escalate(office)["escalated"] == 1
    assert institutions.remind_and_escalate(office)["escalated"] == 0
    escalations = mail(office, "institucion_vencida")
    assert [m["to_address"] for m in escalations] == ["rosa@gobernacion.example"]  # tramite2 has no address
    assert "Policía Nacional Civil" in escalations[0]["subject"]
    [event] = events(office, case_id, "institution_escalated")
    assert event["notified"] == ["rosa@gobernacion.example"] and event["grupo"] == "tramite"
    # Late, the answer still reaches the case.
    office.clock.advance(days=1)
    institutions.submit_reply(office, token, "Perdón por la demora: sin objeción.", [], store=office.store)
    assert [t["element_id"] for t in task_rows(office, case_id)] == ["revisar"]


def test_without_a_group_the_supervisors_hear(office):
    deploy_files(office, {"opinion_pnc.bpmn": asking(group="None")}, actor="test")
    case_id, _token = ask(office)
    at(office, DUE)
    institutions.remind_and_escalate(office)
    assert [m["to_address"] for m in mail(office, "institucion_vencida")] == ["jefa@gobernacion.example"]


def test_a_refused_answer_keeps_nothing(office):
    case_id, token = ask(office)
    with pytest.raises(InvalidInput) as empty:
        institutions.submit_reply(office, token, "   ", [("a.pdf", io.BytesIO(PDF))], store=office.store)
    assert empty.value.details["errors"][0]["field"] == "respuesta"
    with pytest.raises(AttachmentRefused):
        institutions.submit_reply(office, token, "Adjunto", [("a.pdf", io.BytesIO(PDF)),
                                                             ("b.exe", io.BytesIO(b"MZ\x90\x00"))],
                                  store=office.store)
    assert attached_to(office, case_id) == []
    assert not [p for p in office.store.directory.rglob("*") if p.is_file()]  # no file left behind
    assert request_row(office, case_id)["state"] == "open"
    assert [t["element_id"] for t in task_rows(office, case_id)] == []


def test_the_requests_of_a_cancelled_case_take_no_answer(office):
    case_id, token = ask(office)
    cases.change_case_state(office, principal_for("supervisor1", "supervisor"), case_id, "cancel", "Desistió")
    with pytest.raises(institutions.ReplyLinkClosed) as closed:
        institutions.reply_page(office, token)
    assert closed.value.details["state"] == "cancelled"
    assert institutions.remind_and_escalate(office)["cancelled"] == 1
    assert request_row(office, case_id)["state"] == "cancelled"
    at(office, DUE)
    assert institutions.remind_and_escalate(office)["escalated"] == 0


def test_a_request_with_an_oficio_issues_it_and_mails_it_with_the_link(office):
    extra = '<spiffworkflow:parameter id="documento" type="any" value="\'oficio\'"/>'
    deploy_files(office, {"opinion_pnc.bpmn": asking(extra=extra)}, actor="test")
    case_id, _token = ask(office)
    row = request_row(office, case_id)
    _d = models.documents
    with office.uow(write=False) as uow:
        oficio = uow.conn.execute(select(_d.c.id, _d.c.kind, _d.c.number).where(_d.c.case_id == case_id)).one()
    assert oficio.kind == "oficio" and row["document_id"] == oficio.id
    [sent] = mail(office, "solicitud_institucion")
    assert sent["document_id"] == oficio.id and oficio.number in sent["body"]


def test_bad_parameters_name_the_operator_parameter_and_write_nothing(office):
    started = cases.start_case(office, SYSTEM, "opinion_pnc", {})
    base = dict(case_id=started.id, institution_key="pnc", message_name="opinion_pnc", due_days=5, now=office.clock())
    for changes, field in (({"institution_key": "fbi"}, "institucion"), ({"message_name": " "}, "mensaje"),
                           ({"due_days": 0}, "plazo_dias"), ({"escalation_group": "nadie"}, "grupo"),
                           ({"reminder_days": "pronto"}, "recordatorios"), ({"document_kind": "carta"}, "documento")):
        with office.uow() as uow, pytest.raises(InvalidInput) as bad:
            institutions.request_reply(office, uow.conn, **{**base, **changes})
        assert bad.value.details["errors"][0]["field"] == field, changes
    records.update_institution(office, SYSTEM, "pnc", {"active": False})
    with office.uow() as uow, pytest.raises(InvalidInput):
        institutions.request_reply(office, uow.conn, **base)


def test_admins_keep_the_institutions_and_everyone_reads_them(office):
    admin, clerk = principal_for("admin"), principal_for("tramite1", "clerk", ("tramite",))
    assert [i["key"] for i in records.list_institutions(office, clerk)] == sorted(
        (k for k, *_ in records.DEMO_INSTITUTIONS), key=lambda k: next(
            n for key, n, *_ in records.DEMO_INSTITUTIONS if key == k))
    assert records.seed_institutions(office) == []  # idempotent
    created = records.create_institution(office, admin, "mp", "Ministerio Público", "mp@example.org",
                                         contact="Fiscal distrital")
    assert created["active"] is True
    with pytest.raises(Conflict):
        records.create_institution(office, admin, "mp", "Otro", "otro@example.org")
    with pytest.raises(InvalidInput) as bad:
        records.create_institution(office, admin, "MP 2", "Ministerio", "no-es-correo")
    assert bad.value.details["errors"][0]["field"] == "key"
    with pytest.raises(InvalidInput) as bad:
        records.create_institution(office, admin, "mp2", "Ministerio", "no-es-correo")
    assert bad.value.details["errors"][0]["field"] == "email"
    with pytest.raises(Forbidden):
        records.create_institution(office, clerk, "pdh", "PDH", "pdh@example.org")
    changed = records.update_institution(office, admin, "mp", {"email": "fiscalia@example.org", "active": False})
    assert (changed["email"], changed["active"]) == ("fiscalia@example.org", False)
    assert "mp" not in [i["key"] for i in records.list_institutions(office, clerk, active=True)]
    with pytest.raises(records.InstitutionNotFound):
        records.get_institution(office, clerk, "nadie")


def test_a_case_lists_its_requests_without_the_link(office):
    case_id, token = ask(office)
    [shown] = records.requests_of_case(office, principal_for("supervisor1", "supervisor"), case_id)
    assert shown["institution_key"] == "pnc" and shown["state"] == "open"
    assert token not in repr(shown)
