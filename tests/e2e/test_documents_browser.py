"""The documents in Debian's Chromium: a licence walked to its certificate by an office that signs (PAdES, a demo
certificate), each document reviewed as a draft from its task page first; then, as anyone would, the
certificate's verification URL opened on the public page (valid, its signature too, the original downloadable)
and a copy uploaded to compare: a tampered one does not match, the original does."""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from engine.documents import signing
from tests.documents_helpers import issued, pdf_text
from tests.e2e.chromium import CSP_VIOLATIONS, TIMEOUT_MS, new_page
from tests.e2e.licence_pages import file_licence, walk_to_certificate
from tests.task_rows import task_rows

# The documents the favourable licence path issues, in order: the filing receipt, then one per document step.
# The opinion request opens with its default pair of oficios (the PNC and the risk coordinator).
LICENCE_DOCUMENTS = ["constancia_recepcion", "oficio", "oficio", "dictamen", "resolucion", "cedula_notificacion",
                     "licencia"]
VERIFY_URL = re.compile(r"(https?://[^\s/]+)/verificar/([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})")


def served(page, address: re.Pattern, method: str, action) -> list[tuple[int, str, bytes]]:
    """Do `action()` on the page; returns (status, content type, body) of each answer the server sent to a
    `method` request for `address` meanwhile. Chromium shows a PDF in its viewer, which hides the bytes from the
    page's responses: the requests pass through a route that keeps the answers as they came."""
    answers = []

    def keep(route):
        if route.request.method != method:
            route.fallback()
            return
        answer = route.fetch()
        answers.append((answer.status, answer.headers.get("content-type"), answer.body()))
        route.fulfill(response=answer)

    page.context.route(address, keep)
    try:
        action()
    finally:
        page.context.unroute(address, keep)
    return answers


def review_draft(page, svc, case_id: int, task: dict) -> str | None:
    """On a task page that issues a document, «Ver borrador del documento (PDF)» once: the draft opens in a new tab
    as a PDF and issues nothing. Returns the draft's text (None when the task issues no document)."""
    if page.locator("#preview").count() == 0:
        return None
    before = [d["id"] for d in issued(svc, case_id)]
    address = re.compile(rf"/tareas/{task['id']}$")

    def preview():
        with page.context.expect_page() as opened:
            page.click("#preview")
        opened.value.wait_for_url(address)
        opened.value.close()

    answers = served(page, address, "POST", preview)
    assert [(status, content_type) for status, content_type, _body in answers] == [(200, "application/pdf")]
    body = answers[0][2]
    assert body.startswith(b"%PDF-")
    assert [d["id"] for d in issued(svc, case_id)] == before, "the draft issued a document"
    assert task_rows(svc, case_id)[0]["id"] == task["id"], "the draft completed the task"
    return pdf_text(body)


def public_page(browser):
    """A page of a fresh context with no login: a citizen checking a document."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="es-GT")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None)
    return context.new_page()


def upload(page, name: str, pdf: bytes) -> str:
    """Send a PDF through the verification page's comparison form; returns what the page says of it."""
    page.set_input_files("#archivo", files=[{"name": name, "mimeType": "application/pdf", "buffer": pdf}])
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    return page.inner_text("#upload-outcome")


def test_a_signed_licence_walked_in_the_browser_is_verified_on_the_public_page_and_a_tampered_copy_is_refused(
        browser, server, tmp_path):
    base, svc = server
    before, svc.signer = svc.signer, signing.load_signer(*map(str, signing.make_demo_certificate(tmp_path / "firma")))
    pages = {}
    try:
        desk = pages["ventanilla1"] = new_page(browser, base, "ventanilla1")
        case_id, number = file_licence(desk, evento_nombre="Festival de barriletes")
        drafts = {}

        def at_form(page, task, _walked):
            text = review_draft(page, svc, case_id, task)
            if text is not None:
                drafts[task["element_id"]] = text

        walk_to_certificate(browser, base, svc, case_id, number, pages, at_form=at_form)
        assert set(drafts) == {"elaborar_dictamen", "firmar_resolucion",
                               "notificar_interesado", "emitir_certificado"}
        for element_id, text in drafts.items():
            assert "BORRADOR" in text and number in text, element_id
        documents = issued(svc, case_id)
        assert [d["kind"] for d in documents] == LICENCE_DOCUMENTS
        certificate = documents[-1]
        assert certificate["signature"] == "pades"
        assert "BORRADOR" not in certificate["text"] and "Festival de barriletes" in certificate["text"]
        printed = VERIFY_URL.search(certificate["text"])
        assert printed, certificate["text"]
        assert printed.group(2) == certificate["verification_code"]
        assert printed.group(1) == svc.settings.public_base_url

        citizen = pages["(público)"] = public_page(browser)
        verify_page = base + urlsplit(printed.group(0)).path  # the printed address, on the test server
        citizen.goto(verify_page)
        assert citizen.inner_text("#verify-outcome") == "Documento válido"
        assert citizen.locator("#doc-signature").get_attribute("data-status") == "valid"
        assert citizen.inner_text("#doc-code") == certificate["verification_code"]
        pdf_address = re.compile(r"/verificar/[^/]+/pdf$")
        original = served(citizen, pdf_address, "GET", lambda: (
            citizen.click("#doc-pdf"), citizen.wait_for_url(pdf_address)))
        assert original == [(200, "application/pdf", certificate["pdf"])]
        citizen.goto(verify_page)

        tampered = bytearray(certificate["pdf"])
        tampered[len(tampered) // 2] ^= 0x01
        assert "no coincide" in upload(citizen, "licencia.pdf", bytes(tampered))
        assert citizen.inner_text("#upload-sha256") == hashlib.sha256(tampered).hexdigest()
        outcome = upload(citizen, "licencia.pdf", certificate["pdf"])
        assert "coincide" in outcome and "no coincide" not in outcome
        assert citizen.inner_text("#upload-sha256") == certificate["sha256"]
    finally:
        svc.signer = before
        for page in pages.values():
            page.context.close()
