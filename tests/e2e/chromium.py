"""Debian's Chromium driven by Playwright: the browser, the app served on a free port, a logged-in page.

Browser tests are mandatory in CI (like PostgreSQL): there a missing /usr/bin/chromium fails them; elsewhere
they skip with the command that installs it.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
TIMEOUT_MS = 30_000  # generous: the suite must pass on a loaded machine
# What the Content-Security-Policy refused in any page of new_page's contexts (Chromium logs every refusal);
# tests/e2e/conftest.py fails the test during which one happened.
CSP_VIOLATIONS: list[str] = []


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") or os.environ.get("EXPEDIENTE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is required here (CI or EXPEDIENTE_REQUIRE_BROWSER=1) but missing: "
                        "apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) to run the browser tests")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(web_office):
    """The app on a free port of 127.0.0.1, served from a background thread."""
    svc, app = web_office
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", svc
    httpd.shutdown()
    thread.join(5)
    httpd.server_close()


# The page each role lands on after logging in (web/pages.py LANDING): the inbox, supervision, audit, admin.
LANDING = re.compile(r"/(bandeja|supervision|auditoria|admin)$")


def new_page(browser, base: str, username: str, path: str | None = None):
    """A fresh context (its own cookies) logged in as `username`, at 1366×768: at his own page (a clerk's inbox),
    or at `path` (the login page sends the user back to the address asked for)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="es-GT")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None)
    page = context.new_page()
    page.goto(f"{base}{path or '/entrar'}")
    page.wait_for_url(re.compile(r"/entrar"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(path)}$") if path else LANDING)
    return page


