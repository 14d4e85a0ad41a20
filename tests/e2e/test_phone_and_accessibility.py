"""Phones and accessibility in Debian's Chromium: every public page and the clerk's main pages pass axe-core's
WCAG 2.0/2.1/2.2 A and AA rules at 1366×900 and at 390×844 (a phone), none scrolls sideways at 390 px, and each
public page weighs at most 50 KB transferred. The phone opens the public pages and sends their forms once more
with JavaScript turned off: they work and fit without it (axe-core needs the page's timers, so it runs only with
JavaScript on).

axe-core comes from the npm registry (package-lock.json; `make install` runs `npm ci`). The pages' policy allows
only the site's own scripts, so its source is evaluated through the DevTools protocol, which the policy does
not govern, instead of being added as an inline <script>.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.accounts.users import add_user
from tests.e2e.chromium import CSP_VIOLATIONS, LANDING, SCREENSHOTS, TIMEOUT_MS
from tests.e2e.public_pages import CLERK, PUBLIC_PAGE_LIMIT_BYTES, PUBLIC_PAGES, PublicPage, file_sample_case
from tests.web.conftest import PASSWORD

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PHONE_WIDTH = VIEWPORTS["phone"]["width"]
# The clerk's main pages. `{case}` is a licence filed at the desk, `{task}` its first task, taken by CLERK.
STAFF_PAGES = ("/bandeja", "/bandeja?vista=queue", "/expedientes", "/expedientes/{case}", "/tareas/{task}",
               "/expedientes/nuevo", "/expedientes/nuevo/licencia", "/expedientes/{case}/constancia")
SUPERVISOR = "supervisor1"
SUPERVISOR_PAGES = ("/modelador", "/modelador/licencia")
# What shows that a page's script has drawn it (axe-core must see the drawn page).
DRAWN = {"/expedientes/{case}": "#diagram[data-ready=true]",
         "/modelador/licencia": '.djs-element[data-element-id="emitir_constancia"]'}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make install does)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def filed(server, web_office) -> dict:
    return file_sample_case(server[1], web_office[1].extensions["expediente.attachments"])


def fresh_page(browser, viewport: str, javascript: bool = True):
    """A page of a new context (no session, no cache) at one of VIEWPORTS, its scripts on or off."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="es-GT", java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None)
    return context.new_page()


def logged_in(browser, base: str, viewport: str, username: str):
    page = fresh_page(browser, viewport)
    page.goto(f"{base}/entrar")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(LANDING)
    return page


def violations(page, axe_source: str) -> list[str]:
    """axe-core's violations of AXE_TAGS on the page as loaded, one line per rule with the elements it names."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    found = page.evaluate("""async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},
        resultTypes: ['violations']})).violations.map(v => `${v.id} (${v.impact}): ${v.help} — ` +
        v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' [' + n.failureSummary.replace(/\\s+/g, ' ')
        + ']' : '')).join('; '))""", AXE_TAGS)
    return found


def transferred(page, action) -> int:
    """Do `action()` (a navigation) on the page: the bytes of every response Chromium received for it (headers and
    body as sent). The page itself must answer 200."""
    responses = []
    page.on("response", lambda r: responses.append(r))
    action()
    page.wait_for_load_state("load")
    document = [r for r in responses if r.request.resource_type == "document"][-1]  # after any redirect
    assert document.status == 200, (document.url, document.status)
    return sum(s["responseBodySize"] + s["responseHeadersSize"] for s in (r.request.sizes() for r in responses))


def open_public(page, base: str, shown: PublicPage, filed: dict) -> int:
    """Open a public page as a first visit would (a fresh context, nothing cached): what transferred() says."""
    weight = transferred(page, lambda: page.goto(f"{base}{shown.path.format(**filed)}"))
    if not shown.form:
        return weight
    fill_form(page, shown.form, {name: value.format(**filed) for name, value in shown.fill.items()})
    return transferred(page, lambda: page.click(f"#{shown.form} [type=submit]"))


def fill_form(page, form_id: str, values: dict) -> None:
    """Type a form's values (name -> value, as the form posts them) into its fields, as a citizen would."""
    for name, value in values.items():
        if name.endswith(".present"):  # a checkbox's marker, posted by the page itself
            continue
        field = page.locator(f'#{form_id} [name="{name}"]')
        kind = field.first.evaluate("el => el.tagName + ':' + (el.type || '')")
        if kind.startswith("SELECT"):
            field.select_option(value.split("\n") if kind == "SELECT:select-multiple" else value)
        elif kind == "INPUT:radio":
            field.and_(page.locator(f'[value="{value}"]')).check()
        elif kind == "INPUT:checkbox":
            field.set_checked(value == "on")
        else:
            field.fill(value)


def overflow(page, template: str) -> str | None:
    """At the phone's width, what makes the page wider than the screen (None when nothing does). Keeps a
    screenshot of the whole page in var/screenshots/phone-<page>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^a-z]+", "-", template.lower()).strip("-")  # /verificar/{code} -> verificar-code
    page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width <= PHONE_WIDTH:
        return None
    wide = page.evaluate("""(limit) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > limit + 0.5)
        .filter(e => { for (let a = e.parentElement; a; a = a.parentElement)  // not clipped by a scrolling box
                         if (getComputedStyle(a).overflowX !== 'visible') return false;
                       return true; })
        .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                             (e.className && typeof e.className === 'string' ? '.' + e.className : '') +
                             ' right=' + Math.round(e.getBoundingClientRect().right))""", PHONE_WIDTH)
    return f"scrollWidth {width}: {wide}"


def test_public_pages_pass_axe_fit_a_phone_without_javascript_and_weigh_at_most_50_kb(browser, server, filed,
                                                                                      axe_source):
    base, _svc = server
    problems = []
    for viewport, javascript in (("desktop", True), ("phone", True), ("phone", False)):
        for shown in PUBLIC_PAGES:
            page = fresh_page(browser, viewport, javascript)
            weight = open_public(page, base, shown, filed)
            seen = f"{viewport}{'' if javascript else ' without JavaScript'} {shown.name}"
            if weight > PUBLIC_PAGE_LIMIT_BYTES:
                problems.append(f"{seen}: {weight} bytes transferred")
            if javascript:
                problems += [f"{seen}: {v}" for v in violations(page, axe_source)]
            if viewport == "phone" and (wide := overflow(page, shown.name)):
                problems.append(f"{seen}: {wide}")
            page.context.close()
    assert not problems, "\n".join(problems)


def test_staff_pages_pass_axe_and_fit_a_phone(browser, server, filed, axe_source):
    base, svc = server
    add_user(svc, SUPERVISOR, "supervisor", PASSWORD, display_name="Sonia Pérez", groups=["ventanilla"])
    problems = []
    for viewport in VIEWPORTS:
        for username, templates in ((CLERK, STAFF_PAGES), (SUPERVISOR, SUPERVISOR_PAGES)):
            page = logged_in(browser, base, viewport, username)
            for template in templates:
                path = template.format(**filed)
                page.goto(f"{base}{path}")
                if template in DRAWN:
                    page.wait_for_selector(DRAWN[template])
                problems += [f"{viewport} {path}: {v}" for v in violations(page, axe_source)]
                if viewport == "phone" and (wide := overflow(page, template)):
                    problems.append(f"{path}: {wide}")
            page.context.close()
    assert not problems, "\n".join(problems)
