"""The pages under their Content-Security-Policy in Debian's Chromium: the login, the public verification page,
the inbox, filing a case and its receipt, the case diagram, a task form, the modeler's index and editor and the
API docs all work, and the browser reports no violation of the policy on any of them."""
from __future__ import annotations

import re

import pytest

from engine.accounts.users import add_user
from tests.e2e.chromium import LANDING, TIMEOUT_MS
from tests.e2e.licence_pages import fill
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD

# Runs before any script of every page: records what the policy refused, and stands in for the print dialog.
WATCH = """
document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(
  `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`));
window.print = () => { document.documentElement.dataset.printed = 'yes'; };
"""


@pytest.fixture(scope="module")
def supervisor(server):
    _base, svc = server
    add_user(svc, "supervisor1", "supervisor", PASSWORD, display_name="Sonia Pérez", groups=["ventanilla"])
    return "supervisor1"


def watched_page(browser, base: str, username: str | None, violations: list[str]):
    """A fresh context whose pages report every policy violation and script error into `violations`."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="es-GT")
    context.set_default_timeout(TIMEOUT_MS)
    context.expose_binding("reportViolation", lambda _source, text: violations.append(text))
    context.add_init_script(WATCH)
    page = context.new_page()
    # Chromium also logs each refusal ("... violates the following Content Security Policy directive ...").
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: violations.append(f"page error: {exc}"))
    page.goto(f"{base}/entrar")
    if username:
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(LANDING)
    return page


def test_every_kind_of_page_works_under_the_policy_without_a_violation(browser, server, supervisor):
    base, svc = server
    violations: list[str] = []
    anonymous = watched_page(browser, base, None, violations)
    assert anonymous.locator("#username").is_visible()
    policy = anonymous.evaluate("async () => (await fetch('/entrar')).headers.get('content-security-policy')")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    anonymous.goto(f"{base}/verificar")  # the public verification page: its form, then an unknown code's answer
    anonymous.fill("#codigo", "7kq2 m9xd 4trb pw3h")
    anonymous.click("#verify-form button[type=submit]")
    anonymous.wait_for_selector("#verify-outcome")
    anonymous.context.close()

    clerk = watched_page(browser, base, "ventanilla1", violations)
    clerk.goto(f"{base}/expedientes/nuevo/licencia")
    fill(clerk, intake())
    clerk.click("#file-case")
    clerk.wait_for_selector("#receipt")
    clerk.click("#print-receipt")  # its handler lives in a file now, not in an onclick attribute
    assert clerk.get_attribute("html", "data-printed") == "yes"
    case_id = int(re.search(r"/expedientes/(\d+)/constancia", clerk.url).group(1))

    clerk.goto(f"{base}/expedientes/{case_id}")
    clerk.wait_for_selector("#diagram[data-ready=true]")
    assert clerk.locator(".djs-element.active").count() >= 1
    task_id = task_rows(svc, case_id)[0]["id"]
    clerk.goto(f"{base}/bandeja?vista=queue")
    clerk.wait_for_selector(f'a[href="/tareas/{task_id}"]')
    clerk.goto(f"{base}/tareas/{task_id}")
    clerk.wait_for_selector("h1")
    clerk.context.close()

    manager = watched_page(browser, base, supervisor, violations)
    manager.goto(f"{base}/modelador")
    manager.click("#nuevo button[type=submit]")  # the index's script (moved out of the page) answers
    manager.wait_for_function("() => document.getElementById('nuevo-error').textContent.length > 0")
    manager.goto(f"{base}/modelador/licencia")
    manager.wait_for_selector('.djs-element[data-element-id="emitir_constancia"]')
    manager.wait_for_selector("#problems li")
    manager.goto(f"{base}/api/docs")
    manager.wait_for_selector(".swagger-ui .opblock")
    manager.context.close()

    assert not violations, "\n".join(violations)
