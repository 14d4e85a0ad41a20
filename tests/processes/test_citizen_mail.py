"""Citizens get their receipt by mail: filed through each procedure's real intake form, queued in the outbox to
the address in the field that form marks "x-correo-ciudadano", and sent by the scheduler's pass through a real
SMTP server on loopback."""
from __future__ import annotations

import pytest

from engine.mail.notifications import outbox_rows
from engine.ops.scheduler import run_pass
from forms.registry import FormRegistry
from tests.documents_helpers import issued
from tests.processes.driver import Walk, local
from tests.processes.licencia_walk import intake as licencia_intake
from tests.processes.test_consistency import intake_forms
from tests.processes.test_mediacion_tierras import intake as mediacion_intake
from tests.processes.test_solicitud_ciudadana import intake as solicitud_intake
from tests.smtp_inbox import loopback_mailer, smtp_inbox
from tests.waiting import free_port

# Every procedure whose intake form has a citizen's address: its intake builder and the field the form marks.
FILED = {
    "licencia": (licencia_intake, "contacto_correo"),
    "mediacion_tierras": (mediacion_intake, "correo"),
    "solicitud_ciudadana": (solicitud_intake, "correo"),
}


def test_every_procedure_with_a_citizen_address_is_filed_here():
    forms = FormRegistry()
    declared = {pid: forms.citizen_email_field(form) for pid, form in intake_forms().items()}
    assert {pid: field for pid, field in declared.items() if field} == {pid: f for pid, (_b, f) in FILED.items()}


@pytest.mark.parametrize("process_key", sorted(FILED))
def test_the_receipt_goes_to_the_declared_address_and_leaves_by_smtp(svc, process_key):
    build, field = FILED[process_key]
    svc.clock.now = local(2027, 3, 1, 9, 30)
    walk = Walk(svc, process_key, build(**{field: "ciudadana.xajil@example.com"}), actor="ventanilla1")
    [queued] = outbox_rows(svc, walk.id)
    assert (queued["to_address"], queued["kind"], queued["status"]) == (
        "ciudadana.xajil@example.com", "recepcion", "pending")
    port = free_port()
    svc.mailer = loopback_mailer(port)
    with smtp_inbox(port) as inbox:
        assert run_pass(svc).mail_sent == 1
    [message] = inbox.messages
    assert message["To"] == "ciudadana.xajil@example.com"
    assert walk.case.number in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    name = build()["solicitante_nombre"]
    for text in (walk.case.number, walk.case.tracking_code, f"Estimado(a) {name}:", "lunes 1 de marzo de 2027",
                 "09:30 h"):
        assert text in body
    [sent] = outbox_rows(svc, walk.id)
    assert (sent["status"], sent["attempts"]) == ("sent", 1)
    # The receipt was issued at filing and travels as its PDF, byte for byte the stored document.
    [receipt] = issued(svc, walk.id)
    assert (receipt["kind"], receipt["id"]) == ("constancia_recepcion", sent["document_id"])
    [attached] = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == receipt["pdf"]
    assert walk.case.tracking_code in receipt["text"]


@pytest.mark.parametrize("process_key", ["mediacion_tierras", "solicitud_ciudadana"])  # the licence requires it
def test_no_receipt_is_queued_when_the_citizen_leaves_the_address_empty(svc, process_key):
    build, field = FILED[process_key]
    data = build(telefono="5512 3456")
    data.pop(field, None)
    walk = Walk(svc, process_key, data, actor="ventanilla1")
    assert outbox_rows(svc, walk.id) == []
    assert issued(svc, walk.id) == []  # the receipt is issued when first downloaded
