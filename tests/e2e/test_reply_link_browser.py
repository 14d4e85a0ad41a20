"""An institution answers by link from a 390 px phone in Debian's Chromium, with no account: the PNC's mail (as the
loopback SMTP server received it) carries the link; the page shows what is asked, takes the answer and a PDF, and
the answer reaches the case waiting for it. The same link then says it was answered (410), a wrong one that it is
not valid (404). axe-core checks each page."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from engine.usecases import cases, institution_records
from engine.usecases.attachments import list_attachments
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM
from tests.e2e.test_citizen_phone_flow import body_of, checked, deliver, phone
from tests.e2e.test_phone_and_accessibility import axe_source  # noqa: F401 (the fixture)
from tests.integration.test_institutions import asking
from tests.task_rows import task_rows

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LINK = re.compile(r"https?://\S+(/responder/[A-Za-z0-9_-]+)")
DEADLINE_SECONDS = 30.0  # generous: the machine may be loaded


def waiting_until(condition, what: str):
    """Poll `condition()` until it is truthy (the message is delivered right after the page's transaction)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"still waiting for {what}")


def test_the_pnc_answers_from_the_mailed_link_and_the_case_goes_on(browser, server, axe_source):  # noqa: F811
    base, svc = server
    institution_records.seed_institutions(svc)
    deploy_files(svc, {"opinion_pnc.bpmn": asking()}, actor="test")
    case_id = cases.start_case(svc, SYSTEM, "opinion_pnc", {}).id
    number = cases.get_case(svc, SYSTEM, case_id)["number"]
    [mail] = [m for m in deliver(svc) if m["To"] == "pnc.chimaltenango@example.org"]
    path = LINK.search(body_of(mail)).group(1)

    page = phone(browser)
    page.goto(f"{base}{path}")
    checked(page, axe_source)
    assert page.inner_text("#request-number") == number
    assert page.inner_text("#request-subject") == "Opinión sobre la feria patronal"
    assert "Policía Nacional Civil" in page.inner_text("#request-institution")

    # Sent empty: the page says what is missing and keeps the link usable.
    with page.expect_navigation():
        page.click("#send-reply")
    checked(page, axe_source)
    assert page.locator("#respuesta-error").is_visible()

    page.fill("#respuesta", "Sin objeción. Se asignan cuatro agentes al evento.")
    page.set_input_files("#archivos", files=[{"name": "opinion-pnc.pdf", "mimeType": "application/pdf",
                                              "buffer": PDF}])
    with page.expect_navigation():
        page.click("#send-reply")
    checked(page, axe_source)
    assert page.inner_text("#reply-outcome") == "Recibimos su respuesta"
    assert page.inner_text("#receipt-number") == number

    # The message reached the waiting case: its next task is ready, with the answer in its data.
    waiting_until(lambda: [t["element_id"] for t in task_rows(svc, case_id)] == ["revisar"], "the case to go on")
    data = cases.case_data(svc, SYSTEM, case_id)
    [attached] = list_attachments(svc, SYSTEM, case_id)
    assert data["respuesta"] == "Sin objeción. Se asignan cuatro agentes al evento."
    assert data["documentos"] == [attached["id"]] and attached["filename"] == "opinion-pnc.pdf"

    # The link served once; a wrong one tells nothing.
    answered = page.goto(f"{base}{path}")
    assert answered.status == 410
    checked(page, axe_source)
    assert "ya fue respondida" in page.inner_text("#notice")
    wrong = page.goto(f"{base}/responder/{'x' * 43}")
    assert wrong.status == 404
    checked(page, axe_source)
    assert number not in page.inner_text("main")
    assert urlsplit(page.url).path == f"/responder/{'x' * 43}"
    page.context.close()
