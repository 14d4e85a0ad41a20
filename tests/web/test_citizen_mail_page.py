"""The case page's «Correos al ciudadano»: every message queued to the citizen with its delivery state as the
scheduler left it after talking to a real SMTP server on loopback (queued, sent on a date, failed with its reason
and attempts); the server's own error text only for supervisors and administrators. Staff alerts about the case
are not the citizen's mail and are not listed."""
from __future__ import annotations

import pytest

from engine.accounts.users import add_user
from engine.mail.notifications import enqueue_template, outbox_rows, send_pending
from engine.usecases import cases
from tests.conftest import principal_for
from tests.processes.test_solicitud_ciudadana import intake
from tests.smtp_inbox import loopback_mailer, smtp_inbox
from tests.waiting import free_port
from tests.web.conftest import PASSWORD, login
from tests.web.test_pages import text

REFUSED = "buzon.inexistente@example.com"


@pytest.fixture(scope="module")
def filed(web_office):
    """Two LAIP requests filed at the desk: one to an address the mail server refuses, one it accepts, and a
    third whose receipt still waits; the scheduler's sender ran once."""
    svc, _app = web_office
    add_user(svc, "supervisor_correo", "supervisor", PASSWORD, display_name="Supervisora", groups=["ventanilla"])
    clerk = principal_for("ventanilla1", role="clerk", groups=("ventanilla",))
    refused = cases.start_case(svc, clerk, "solicitud_ciudadana", intake(correo=REFUSED))
    accepted = cases.start_case(svc, clerk, "solicitud_ciudadana", intake(correo="maria.tuyuc@example.com"))
    with svc.uow() as uow:  # a staff alert about the refused case: not the citizen's mail
        enqueue_template(uow.conn, "alerta_plazo", to="uip1@gob.test", now=svc.clock(), case_id=refused.id,
                         tarea="Localizar la información", numero=refused.number, dia=8, dias=10,
                         vence="miércoles 15 de abril de 2026, 16:30 h", grupo="uip", asignado="uip1")
        uow.commit()
    port = free_port()
    svc.mailer = loopback_mailer(port)
    try:
        with smtp_inbox(port, refuse=frozenset({REFUSED, "uip1@gob.test"})) as inbox:
            result = send_pending(svc)
    finally:
        svc.mailer = None
    waiting = cases.start_case(svc, clerk, "solicitud_ciudadana", intake(correo="ana.sotz@example.com"))
    assert (result.sent, result.failed, len(inbox.messages)) == (1, 2, 1)
    return refused, accepted, waiting


def case_page(app, username: str, case_id: int) -> str:
    client = app.test_client()
    assert login(client, username).status_code == 302
    response = client.get(f"/expedientes/{case_id}")
    assert response.status_code == 200
    return text(response)


def test_a_refused_recipient_shows_failed_with_its_reason_after_one_attempt(app, office_svc, filed):
    refused, _accepted, _waiting = filed
    [row] = [m for m in outbox_rows(office_svc, refused.id) if m["kind"] == "recepcion"]
    assert (row["status"], row["attempts"]) == ("failed", 1)  # a 550 is final: not retried
    page = case_page(app, "auditor1", refused.id)
    assert "Correos al ciudadano" in page
    assert f"Constancia de recepción del expediente {refused.number}" in page and REFUSED in page
    assert "falló: el servidor de correo rechazó la dirección , tras 1 intento" in page
    # The server's text is for supervisors. (Not a bare "550": a random code on the page, a tracking or
    # verification code, may hold those digits.)
    assert "550 5.1.1" not in page and "Mailbox unavailable" not in page and "SMTPRecipientsRefused" not in page
    assert "Plazo por vencer" not in page and "uip1@gob.test" not in page  # staff alerts are not listed


def test_supervisors_see_the_servers_error_text(app, filed):
    refused, _accepted, _waiting = filed
    page = case_page(app, "supervisor_correo", refused.id)
    assert "falló: el servidor de correo rechazó la dirección" in page
    assert "SMTPRecipientsRefused" in page and "550" in page and "Mailbox unavailable" in page


def test_a_delivered_message_shows_when_it_was_sent_and_a_waiting_one_is_queued(app, office_svc, filed):
    _refused, accepted, waiting = filed
    page = case_page(app, "auditor1", accepted.id)
    assert "maria.tuyuc@example.com" in page
    assert "enviado el 30/03/2026 09:00" in page
    page = case_page(app, "auditor1", waiting.id)
    assert "ana.sotz@example.com" in page and "en cola" in page and "falló" not in page
