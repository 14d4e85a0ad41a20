"""Mail: queued in the caller's transaction, Spanish templates, sent over a real SMTP server on loopback."""
from __future__ import annotations

import smtplib
from datetime import datetime, timezone

import pytest

from engine.usecases import cases
from engine.mail import notifications
from engine.usecases.deploy import deploy_files
from engine.mail.notifications import SmtpSettings, enqueue_mail, outbox_rows, render, send_pending
from tests.bpmn import linear, user
from tests.conftest import SYSTEM
from tests.smtp_inbox import loopback_mailer, smtp_inbox
from tests.unit.test_validators import make_cui
from tests.waiting import free_port


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp_server(smtp_port):
    with smtp_inbox(smtp_port) as inbox:
        yield inbox


@pytest.fixture
def mail_svc(svc, smtp_port):
    svc.mailer = loopback_mailer(smtp_port)
    return svc


def queue(svc, to="ana@example.gt", subject="Aviso", body="Hola"):
    with svc.uow() as uow:
        enqueue_mail(uow.conn, to=to, subject=subject, body=body, now=svc.clock())
        uow.commit()


# The procedure's intake form marks `correo` as the citizen's address ("x-correo-ciudadano").
WITH_INTAKE = linear(user("Revisar"), start_form="solicitud_ciudadana")


def intake(**changes) -> dict:
    return {"solicitante_nombre": "Ana Tuyuc", "solicitante_dpi": make_cui("24567890", 4, 3),
            "municipio": "San Martín Jilotepeque", "canal": "en_linea", "solicitud_categoria": "constancia",
            "asunto": "Constancia de residencia", "resumen": "Solicito una constancia de residencia.",
            "correo": "ana@example.gt"} | changes


def test_receipt_carries_case_number_tracking_code_and_the_date_and_hour_of_filing(svc):
    deploy_files(svc, {"p.bpmn": WITH_INTAKE})
    started = cases.start_case(svc, SYSTEM, "p", intake(correo=" ana@example.gt "))
    [mail] = outbox_rows(svc, started.id)
    assert (mail["to_address"], mail["status"], mail["kind"]) == ("ana@example.gt", "pending", "recepcion")
    assert started.number in mail["subject"]
    # The fake clock says 15:00 UTC on Monday 2 March 2026: 09:00 at the office.
    for text in (started.number, started.tracking_code, "lunes 2 de marzo de 2026", "09:00 h",
                 "Estimado(a) Ana Tuyuc:", "Proceso de prueba"):
        assert text in mail["body"]


def test_receipt_after_the_cutoff_says_which_day_the_filing_counts(svc, clock):
    deploy_files(svc, {"p.bpmn": WITH_INTAKE})
    clock.now = datetime(2026, 3, 2, 23, 0, tzinfo=timezone.utc)  # 17:00 in Guatemala
    started = cases.start_case(svc, SYSTEM, "p", intake())
    [mail] = outbox_rows(svc, started.id)
    assert "17:00 h" in mail["body"] and "se tiene por presentada el martes 3 de marzo de 2026" in mail["body"]


def test_no_receipt_is_queued_when_the_intake_leaves_the_address_empty(svc):
    deploy_files(svc, {"p.bpmn": WITH_INTAKE})
    data = intake(telefono="5512 3456")
    del data["correo"]
    started = cases.start_case(svc, SYSTEM, "p", data)
    assert outbox_rows(svc, started.id) == []


def test_only_the_declared_field_is_an_address_not_a_field_named_like_one(svc):
    deploy_files(svc, {"p.bpmn": linear(user("Revisar"))})  # no intake form: nothing declares an address
    started = cases.start_case(svc, SYSTEM, "p", {"solicitante_email": "ana@example.gt", "email": "ana@example.gt",
                                                  "correo": "ana@example.gt", "solicitante_nombre": "Ana"})
    assert outbox_rows(svc, started.id) == []


def test_queued_mail_rolls_back_with_its_transaction(svc):
    with svc.uow() as uow:
        enqueue_mail(uow.conn, to="ana@example.gt", subject="x", body="y", now=svc.clock())
    assert outbox_rows(svc) == []


def test_queued_mail_is_sent_over_smtp(mail_svc, smtp_server):
    queue(mail_svc, subject="Resolución del expediente", body="Su expediente fue resuelto.")
    assert send_pending(mail_svc).sent == 1
    [message] = smtp_server.messages
    assert message["To"] == "ana@example.gt"
    assert message["Subject"] == "Resolución del expediente"
    assert "Su expediente fue resuelto." in message.get_content()
    [row] = outbox_rows(mail_svc)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 1, mail_svc.clock())
    assert send_pending(mail_svc).sent == 0  # sent once


def test_refused_connection_is_retried_after_the_backoff_then_sent(mail_svc, smtp_port, clock):
    queue(mail_svc)
    result = send_pending(mail_svc)  # nothing listens on the port yet
    assert (result.sent, result.retried) == (0, 1)
    [row] = outbox_rows(mail_svc)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "ConnectionRefusedError" in row["last_error"]
    with smtp_inbox(smtp_port) as inbox:
        clock.advance(seconds=59)
        assert send_pending(mail_svc).sent == 0  # still backing off
        clock.advance(seconds=2)
        assert send_pending(mail_svc).sent == 1
    assert len(inbox.messages) == 1
    [row] = outbox_rows(mail_svc)
    assert (row["status"], row["attempts"]) == ("sent", 2)


def test_mail_is_given_up_after_the_last_attempt_with_doubling_delays(mail_svc, clock):
    queue(mail_svc)
    delays = []
    for _ in range(3):
        send_pending(mail_svc)
        [row] = outbox_rows(mail_svc)
        delays.append((row["next_attempt_at"] - clock.now).total_seconds())
        clock.now = row["next_attempt_at"]
    assert delays[:2] == [60, 120]
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert send_pending(mail_svc).sent == 0


def test_mail_taken_by_a_sender_that_died_is_sent_after_the_lease(mail_svc, smtp_server, clock):
    queue(mail_svc)
    notifications._lease(mail_svc, 10)  # taken, then the sender was killed before sending
    assert send_pending(mail_svc).sent == 0
    clock.advance(seconds=notifications.SEND_LEASE_SECONDS)
    assert send_pending(mail_svc).sent == 1
    assert len(smtp_server.messages) == 1


def test_without_smtp_settings_mail_waits_in_the_outbox(svc):
    queue(svc)
    assert send_pending(svc).sent == 0
    assert [r["status"] for r in outbox_rows(svc)] == ["pending"]


def test_every_template_renders_in_spanish_with_a_subject():
    values = {"saludo": "Estimado(a) Ana:", "numero": "EXP-GDCH-2026-00001", "codigo_seguimiento": "ABCD2345",
              "tramite": "Licencia", "fecha_presentacion": "lunes 2 de marzo de 2026", "hora_presentacion": "09:00 h",
              "nota_horario": "", "faltantes": "- Fianza", "fecha_limite": "lunes 16 de marzo de 2026",
              "fecha_resolucion": "lunes 2 de marzo de 2026", "referencia": "Resolución 12-2026",
              "sentido": "Con lugar", "detalle": "", "dias_recurso": 5, "tarea": "Resolver", "dia": 20, "dias": 30,
              "vence": "lunes 13 de abril de 2026, 16:30 h", "grupo": "tramite", "asignado": "oficial1",
              "titulo": "Resolución", "numero_documento": "RES-GDCH-2026-0001", "codigo": "7KQ2-M9XD-4TRB-PW3H",
              "url_verificacion": "https://gdch.example/verificar/7KQ2-M9XD-4TRB-PW3H",
              "fecha": "lunes 2 de marzo de 2026", "url_consulta": "https://gdch.example/consulta",
              "fecha_notificacion": "lunes 2 de marzo de 2026, 10:00 h", "acto": "el documento RES-GDCH-2026-0001"}
    names = ["alerta_plazo", "cierre", "documento", "notificacion", "plazo_vencido", "prorroga", "recepcion"]
    # The templates about a case, all of them; the online filing's confirmation comes before there is a case.
    assert set(names) <= {p.stem for p in notifications.TEMPLATES_DIR.glob("*.txt")}
    for name in names:
        subject, body = render(name, **values)
        assert subject and "{" not in subject + body and "EXP-GDCH-2026-00001" in subject


def test_smtp_settings_come_from_the_environment():
    assert SmtpSettings.from_env({}) is None
    settings = SmtpSettings.from_env({"EXPEDIENTE_SMTP_HOST": "smtp.gob.gt", "EXPEDIENTE_SMTP_PORT": "465",
                                      "EXPEDIENTE_SMTP_SECURITY": "TLS", "EXPEDIENTE_SMTP_USERNAME": "u",
                                      "EXPEDIENTE_SMTP_PASSWORD": "p", "EXPEDIENTE_MAIL_MAX_ATTEMPTS": "5"})
    assert (settings.host, settings.port, settings.security, settings.username, settings.max_attempts) == (
        "smtp.gob.gt", 465, "tls", "u", 5)
    with pytest.raises(ValueError):
        SmtpSettings(host="x", security="ssl3")


@pytest.mark.parametrize("error, final, cause", [
    (smtplib.SMTPRecipientsRefused({"a@example.gt": (550, b"5.1.1 Mailbox unavailable")}), True, "recipient_refused"),
    (smtplib.SMTPRecipientsRefused({"a@example.gt": (450, b"4.2.1 Try again later")}), False, "recipient_refused"),
    (smtplib.SMTPDataError(554, b"5.7.1 Message rejected"), True, "message_refused"),
    (smtplib.SMTPSenderRefused(553, b"5.1.8 Sender rejected", "no-responder@gob.gt"), False, "sender_refused"),
    (ConnectionRefusedError(111, "Connection refused"), False, "connection"),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False, "connection"),
])
def test_a_5xx_refusal_of_the_recipient_or_the_message_is_final_and_every_failure_has_a_cause(error, final, cause):
    assert notifications.permanent(error) is final
    assert notifications.failure_cause(f"{type(error).__name__}: {error}") == cause
    assert notifications.failure_cause(None) is None
