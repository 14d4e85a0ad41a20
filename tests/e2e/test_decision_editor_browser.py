"""The decision-table editor in Debian's Chromium: a supervisor opens the licence draft's requirements table from the
draft's list of tables, tries a licence type and sees the rule it matches highlighted and its outputs, types a new
requirement into the rule's cell of the dmn-js table, tries again and sees the output change, saves and publishes;
a new case gets the new requirement while a case filed before keeps its version's table. Both pages pass axe-core."""
from __future__ import annotations

import pytest

from engine.accounts.users import add_user
from engine.usecases import cases, decisions, drafts
from tests.conftest import SYSTEM, principal_for
from tests.e2e.chromium import SCREENSHOTS, new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: a fixture)
from tests.processes import licencia_walk as lic
from tests.web.conftest import PASSWORD

KEY, FILE = "licencia", "requisitos_licencia.dmn"
RULE, COLUMN = "regla_actividad_via_publica", "salida_requisitos"
SUPERVISOR = principal_for("supervisor1", "supervisor", ("ventanilla", "tramite"))
ADDED = "Permiso de la municipalidad"


@pytest.fixture(scope="module")
def supervisor(server):
    _base, svc = server
    add_user(svc, "supervisor1", "supervisor", PASSWORD, display_name="Sonia Pérez", groups=["ventanilla", "tramite"])
    return "supervisor1"


def tried(page, kind: str) -> dict[str, str]:
    """Try the licence type `kind` in the form; the outputs shown, by data name."""
    page.fill("#try-entrada_tipo_licencia", kind)
    with page.expect_response(lambda r: r.url.endswith(f"/decisions/{FILE}/try")):
        page.click("#try")
    # The answer is shown after the response arrives: wait until the page has drawn it (the last try's result is
    # still on screen until then).
    page.wait_for_selector('#try-result[aria-busy="false"]:not([hidden])')
    return {row.get_attribute("data-output"): row.locator("td").nth(2).inner_text()
            for row in page.locator("#try-outputs tr").all()}


def test_supervisor_edits_a_cell_tries_it_saves_and_publishes(browser, server, supervisor, axe_source):  # noqa: F811
    base, svc = server
    older = lic.start(svc, "actividad_via_publica")  # filed before the change, its decision still to run
    version = cases.get_case(svc, SYSTEM, older.id)["process_version"]
    drafts.create_draft(svc, SUPERVISOR, KEY)

    page = new_page(browser, base, supervisor, f"/modelador/{KEY}/decisiones")
    assert violations(page, axe_source) == []
    page.click(f'#tablas a:has-text("{FILE}")')
    page.wait_for_selector(f'td[data-row-id="{RULE}"][data-col-id="{COLUMN}"]')
    assert page.inner_text("#problems") == "Sin problemas."
    assert page.inner_text(".hit-policy .dms-label") == "Política de coincidencia:"  # dmn-js's texts in Spanish
    assert page.locator(".view-drd").is_hidden()  # one decision per file: no diagram of decisions to switch to
    assert "sin cambios" in page.inner_text("#status")
    assert page.inner_text('label[for="try-entrada_tipo_licencia"]') == "Tipo de licencia"

    # The version's table: the rule for public-road activities asks for the route's sketch only.
    outputs = tried(page, "actividad_via_publica")
    assert outputs["requisitos"] == "Croquis del recorrido" and outputs["requiere_opinion_pnc"] == "sí"
    assert page.locator("#try-matched li").all_inner_texts() == [
        "Regla 2: Desfiles, procesiones y carreras en la vía pública"]
    page.wait_for_selector(f'td.matched-rule[data-row-id="{RULE}"]')
    assert page.locator("td.matched-rule").count() == page.locator(f'td[data-row-id="{RULE}"]').count()
    assert page.inner_text("#try-error") == "" and page.locator("#try-error").is_hidden()
    assert violations(page, axe_source) == []  # the editor, the try form and its result

    # Type the new requirement into the rule's cell, as text, in the table itself.
    cell = page.locator(f'td[data-row-id="{RULE}"][data-col-id="{COLUMN}"] [contenteditable]')
    cell.click()
    page.keyboard.press("Control+End")  # the end of the text, not of its first wrapped line
    page.keyboard.press("Backspace")  # the list's closing bracket
    page.keyboard.type(f', "{ADDED}"]')
    assert cell.inner_text().strip() == f'["Croquis del recorrido", "{ADDED}"]'
    page.click("#try-entrada_tipo_licencia")  # leave the cell

    # Trying the table on screen (not saved yet) gives the new output; another type still hits its own rule.
    outputs = tried(page, "actividad_via_publica")
    assert outputs["requisitos"] == f"Croquis del recorrido; {ADDED}"
    assert decisions.get_decision(svc, SUPERVISOR, KEY, FILE)["revision"] == 0  # nothing saved by trying
    outputs = tried(page, "rifa_sorteo")
    assert page.locator("#try-matched li").all_inner_texts() == ["Regla 3: Rifas y sorteos: fianza y listado de premios"]
    assert outputs["requiere_opinion_coordinador"] == "no"
    page.wait_for_selector('td.matched-rule[data-row-id="regla_rifa_sorteo"]')
    assert page.locator(f'td.matched-rule[data-row-id="{RULE}"]').count() == 0
    tried(page, "otra_cosa")
    assert page.inner_text("#try-error").startswith("Ninguna regla se cumple con estos datos")

    # Save, then publish with a comment: the new version pins the edited table.
    with page.expect_response(lambda r: r.request.method == "PUT" and r.url.endswith(f"/decisions/{FILE}")):
        page.click("#save")
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Tabla guardada')")
    assert ADDED in decisions.get_decision(svc, SUPERVISOR, KEY, FILE)["xml"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "decision_editor.png"), full_page=True)
    page.fill("#comment", "Desfiles: se pide el permiso de la municipalidad")
    page.click("#publish")
    page.wait_for_function("(v) => document.getElementById('status').textContent.includes("
                           "`Publicada la versión ${v}`)", arg=version + 1)
    page.context.close()

    newer = lic.receive(lic.start(svc, "actividad_via_publica"))
    assert cases.get_case(svc, SYSTEM, newer.id)["process_version"] == version + 1
    assert cases.case_data(svc, SYSTEM, newer.id)["requisitos"] == ["Croquis del recorrido", ADDED]
    lic.receive(older)
    assert cases.case_data(svc, SYSTEM, older.id)["requisitos"] == ["Croquis del recorrido"]
