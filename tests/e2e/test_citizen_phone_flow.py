"""A citizen's whole case from a 390 px phone in Debian's Chromium, with no account: the licence filed online,
confirmed from the e-mail the loopback SMTP server received, followed with its tracking code, a previo from the
clerk answered from the status page with a file and a note, the case resumed after the clerk's verification,
and the resolution downloaded from the status page and verified. axe-core checks every public page on the way.

(The LAIP request has no completeness review, so no previo: the licence is the procedure where a citizen answers
one. LAIP filing itself is walked by tests/e2e/test_phone_and_accessibility.py's public pages.)"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from engine.ops.scheduler import run_pass
from tests.documents_helpers import issued
from tests.e2e.chromium import CSP_VIOLATIONS, TIMEOUT_MS
from tests.e2e.public_pages import CONFIRMATION_LINK
from tests.e2e.test_phone_and_accessibility import (  # noqa: F401 (axe_source: the fixture)
    PHONE_WIDTH, VIEWPORTS, axe_source, fill_form, violations,
)
from tests.processes import licencia_walk as lic
from tests.processes.driver import Walk
from tests.smtp_inbox import loopback_mailer, smtp_inbox
from tests.waiting import free_port
from tests.web.conftest import as_form

EMAIL = "ana.xicara.celular@example.gt"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class CaseWalk(Walk):
    """A Walk over a case that already exists (filed online), for the clerks' steps."""

    def __init__(self, svc, case_id: int):  # noqa: D107 - no case is started here
        from engine.usecases import cases
        from tests.conftest import SYSTEM
        self.svc, self.id, self.route = svc, case_id, []
        self.case = cases.get_case(svc, SYSTEM, case_id)


def phone(browser):
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="es-GT")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None)
    return context.new_page()


def checked(page, axe: str) -> None:
    """The public page now shown passes axe-core's WCAG 2.2 AA rules and fits the phone."""
    assert violations(page, axe) == [], page.url
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH, page.url


def deliver(svc) -> list:
    """Send the outbox through a loopback SMTP server; the messages it received."""
    port = free_port()
    before, svc.mailer = svc.mailer, loopback_mailer(port)
    try:
        with smtp_inbox(port) as inbox:
            run_pass(svc)
        return list(inbox.messages)
    finally:
        svc.mailer = before


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def follow(page, base: str, tracking: str, axe: str) -> str:
    """Open /consulta, type the tracking code and the e-mail, and return the status page's text."""
    page.goto(f"{base}/consulta")
    checked(page, axe)
    fill_form(page, "consulta-form", {"codigo": tracking, "dato": EMAIL})
    with page.expect_navigation():
        page.click("#consulta-form [type=submit]")
    checked(page, axe)
    return page.inner_text("main")


def test_a_citizen_files_follows_answers_a_previo_and_verifies_the_resolution_from_a_phone(
        browser, server, axe_source):
    base, svc = server
    page = phone(browser)

    # Filed online: the licence's form, a file, then «Revise su correo».
    page.goto(f"{base}/tramites")
    checked(page, axe_source)
    page.goto(f"{base}/tramites/licencia")
    checked(page, axe_source)
    fill_form(page, "filing-form", as_form(lic.intake(contacto_correo=EMAIL, solicitante_nombre="Ana Lucía Xicará")))
    page.set_input_files("#f-archivos", files=[{"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_navigation():
        page.click("#filing-form [type=submit]")
    checked(page, axe_source)
    assert "correo" in page.inner_text("main").lower()

    # Confirmed from the e-mail, as received by the SMTP server.
    [confirmation] = [m for m in deliver(svc) if m["To"] == EMAIL]
    link = CONFIRMATION_LINK.search(body_of(confirmation))
    assert link, body_of(confirmation)
    page.goto(f"{base}/tramites/confirmar/{link.group(1)}")
    checked(page, axe_source)
    with page.expect_navigation():
        page.click("#confirm-form [type=submit]")
    checked(page, axe_source)
    shown = page.inner_text("main")
    number = re.search(r"EXP-GDCH-\d{4}-\d{5}", shown).group(0)
    from engine.storage import models
    with svc.uow(write=False) as uow:
        case_id, tracking = uow.conn.execute(models.cases.select().with_only_columns(
            models.cases.c.id, models.cases.c.tracking_code).where(models.cases.c.number == number)).one()
    assert tracking in shown.replace("-", "").replace(" ", "") or tracking in shown
    receipt_mail = [m for m in deliver(svc) if m["To"] == EMAIL and number in m["Subject"]]
    assert receipt_mail and any(a.get_content_type() == "application/pdf" for a in receipt_mail[0].iter_attachments())

    # Followed with the code: filed, nothing asked of the citizen yet.
    text = follow(page, base, tracking, axe_source)
    assert number in text and "Presentad" in text

    # The clerks review it and send the single previo.
    walk = CaseWalk(svc, case_id)
    lic.issue_previo(lic.review(lic.receive(walk), complete=False), svc.clock())

    # The status page asks for it; the citizen answers from the phone with a file and a note.
    text = follow(page, base, tracking, axe_source)
    assert "Licencia municipal de sonido" in text
    page.set_input_files("#archivos", files=[{"name": "licencia-sonido.pdf", "mimeType": "application/pdf",
                                              "buffer": PDF}])
    page.fill("#nota", "Adjunto la licencia municipal de sonido vigente.")
    with page.expect_navigation():
        page.click("#answer-form [type=submit]")
    checked(page, axe_source)
    assert walk.ready() == ["verificar_subsanacion"]  # the deadline stopped; the clerk verifies what came

    # The clerk finds it complete: the case resumes, and the licence is decided and notified.
    lic.verify_fix(walk, complete=True)
    lic.request_opinions(walk, svc.clock())
    lic.opinion(walk, "pnc", svc.clock())
    lic.opinion(walk, "coordinador", svc.clock())
    lic.sign(lic.dictamen(walk))
    lic.notify(walk, svc.clock())

    # The status page lists the resolution; it downloads and verifies on the public page.
    text = follow(page, base, tracking, axe_source)
    [resolution] = [d for d in issued(svc, case_id) if d["kind"] == "resolucion"]
    assert resolution["number"] in text
    link = page.locator(f'a[href$="/verificar/{resolution["verification_code"]}/pdf"]').first
    downloaded = page.request.get(f"{base}{urlsplit(link.get_attribute('href')).path}")
    assert downloaded.status == 200 and downloaded.body() == resolution["pdf"]
    page.goto(f"{base}/verificar/{resolution['verification_code']}")
    checked(page, axe_source)
    assert page.inner_text("#verify-outcome") == "Documento válido"
