"""The modeler in Debian's Chromium: a supervisor changes the licence procedure through the properties panel, sees
the problem pinned on the task it concerns, fixes it and publishes; a new case runs the new version while a case
started before finishes on the old one."""
from __future__ import annotations

import re
from pathlib import Path
from datetime import timezone

import pytest

from engine.usecases import cases
from engine.usecases import deploy
from engine.usecases import drafts
from engine.usecases import processes
from engine.usecases import timers
from engine.accounts.users import add_user
from tests.conftest import SYSTEM, principal_for
from tests.processes import licencia_walk as lic
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD, START
from tests.e2e.chromium import SCREENSHOTS, new_page

TASK = "emitir_constancia"  # the licence's first user task: a form, no deadline in version 1
OLD_NAME = "Emitir constancia de recepción"
SUPERVISOR = principal_for("supervisor1")  # who drafts and publishes in these tests
NEW_NAME = "Entregar constancia de recepción"
NEW_DEADLINE = 3  # working days
FORM = "licencia_constancia"


@pytest.fixture(scope="module")
def supervisor(server):  # noqa: F811
    _base, svc = server
    add_user(svc, "supervisor1", "supervisor", PASSWORD, display_name="Sonia Pérez", groups=["ventanilla"])
    return "supervisor1"


def open_modeler(browser, base: str, username: str):  # noqa: F811 (browser: the fixture's value)
    """Log in from the modeler's own address (the login page sends the supervisor back there)."""
    page = new_page(browser, base, username, "/modelador/licencia")
    page.wait_for_selector(f'.djs-element[data-element-id="{TASK}"]')
    page.wait_for_selector("#problems li")
    return page


def panel_entry(page, entry_id: str, group_id: str):
    """The properties panel's input `entry_id`, opening its group when it is collapsed."""
    field = page.locator(f"#bio-properties-panel-{entry_id}")
    if not field.is_visible():
        page.click(f'[data-group-id="group-{group_id}"] .bio-properties-panel-group-header')
    field.wait_for(state="visible")
    return field


def saved(page, key: str = "licencia") -> str:
    """Click «Guardar borrador» and wait for the page to show the server's answer."""
    with page.expect_response(lambda r: r.request.method == "PUT" and f"/api/drafts/{key}" in r.url):
        page.click("#save")
    page.wait_for_function("() => /^Borrador guardado[.,]/.test(document.getElementById('status').textContent)")
    return page.inner_text("#status")


def pinned(page, element_id: str) -> bool:
    badge = page.locator(f'.djs-overlays[data-container-id="{element_id}"] .expediente-problem')
    marked = page.locator(f'.djs-element.expediente-has-problem[data-element-id="{element_id}"]')
    return badge.count() == 1 and marked.count() == 1


def finish_on_version_one(walk) -> None:
    """The favourable path of the licence, to its close once the appeal period passes."""
    lic.receive(walk)
    lic.review(walk)
    lic.request_opinions(walk, lic.local(2026, 3, 30, 11))
    lic.opinion(walk, "pnc", lic.local(2026, 3, 30, 12))
    lic.opinion(walk, "coordinador", lic.local(2026, 3, 30, 12))
    lic.dictamen(walk)
    lic.sign(walk)
    lic.notify(walk, lic.local(2026, 3, 30, 14))
    lic.certificate(walk)
    walk.svc.clock.advance(days=40)
    timers.fire_due_timers(walk.svc)


def test_supervisor_changes_the_licence_and_publishes_while_running_cases_keep_their_version(
        browser, server, supervisor):  # noqa: F811
    base, svc = server
    svc.clock.now = START
    older = lic.start(svc)  # filed before the change: it stays on version 1
    assert cases.get_case(svc, SYSTEM, older.id)["process_version"] == 1
    assert older.task(TASK)["title"] == OLD_NAME and older.task(TASK)["due_at"] is None

    page = open_modeler(browser, base, supervisor)
    page.screenshot(path=str(SCREENSHOTS / "modeler.png"))
    assert page.locator("#import-warnings").is_hidden()  # every SpiffWorkflow extension is understood
    assert pinned(page, TASK) is False
    page.click(f'.djs-element[data-element-id="{TASK}"]')  # select the task on the canvas
    page.wait_for_selector(f'.bio-properties-panel-header-label:has-text("{OLD_NAME}")')

    # Rename it and give it a deadline, in the panel's own fields.
    name = panel_entry(page, "name", "general")
    assert name.input_value() == OLD_NAME
    name.fill(NEW_NAME)
    deadline = panel_entry(page, "spiff-deadline", "spiff-form")
    assert deadline.input_value() == ""
    deadline.fill(str(NEW_DEADLINE))
    form = panel_entry(page, "spiff-form", "spiff-form")
    assert form.input_value() == FORM

    # Remove its form: on save the error is listed and pinned on the task.
    form.select_option("")
    assert "con errores" in saved(page)
    assert pinned(page, TASK)
    problem = page.locator(f'#problems li[data-element="{TASK}"]')
    assert problem.count() == 1 and "no tiene formulario" in problem.inner_text() and NEW_NAME in problem.inner_text()
    page.fill("#comment", "Constancia: nuevo nombre y plazo de 3 días hábiles")
    page.click("#publish")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('Corrija los errores')")
    meanwhile = cases.start_case(svc, principal_for("ventanilla1"), "licencia", lic.intake())
    assert cases.get_case(svc, SYSTEM, meanwhile.id)["process_version"] == 1  # nothing was published

    # Clicking the listed problem selects the task again; fix it and publish with the comment.
    page.click('.djs-element[data-element-id="recibir_opinion_pnc"]')  # look elsewhere first
    page.wait_for_selector('.bio-properties-panel-header-label:has-text("Recibir la opinión de la PNC")')
    problem.click()
    page.wait_for_selector(f'.bio-properties-panel-header-label:has-text("{NEW_NAME}")')
    panel_entry(page, "spiff-form", "spiff-form").select_option(FORM)
    assert "Sin errores" in saved(page)
    assert not pinned(page, TASK)
    assert page.locator(f'#problems li[data-element="{TASK}"]').count() == 0
    page.click("#publish")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('Publicada la versión 2')")
    rows = page.locator("#versions tr")
    rows.nth(1).wait_for()
    by_version = {r.locator("td").nth(0).inner_text(): [c.inner_text() for c in r.locator("td").all()]
                  for r in rows.all()}
    assert by_version["2"][1] == supervisor and by_version["2"][3].startswith("Constancia: nuevo nombre")
    assert by_version["2"][4] == "0" and int(by_version["1"][4]) >= 1  # the older case is still open on 1
    # Publishing consumed the draft: the page now shows the published version, and nothing is left drafted.
    page.wait_for_function("() => document.getElementById('status').textContent.includes('Versión vigente 2, sin borrador')")
    assert page.locator("#discard").is_hidden()
    assert drafts.list_drafts(svc, SUPERVISOR) == []
    # The comparison of the two versions marks the task as changed on both diagrams and says what changed.
    page.click("text=Comparar con la versión 1")
    for side in ("old", "new"):
        page.wait_for_selector(f'#compare-{side}-canvas .djs-element.expediente-diff-changed[data-element-id="{TASK}"]')
    changes = page.locator("#compare-changes li").all_inner_texts()
    assert len(changes) == 1, changes  # only the task: the modeler's own rewriting of the file is no change
    assert OLD_NAME in changes[0] and NEW_NAME in changes[0]
    assert f"plazo en días hábiles «» → «{NEW_DEADLINE}»" in changes[0]
    assert FORM not in changes[0]  # removed and set again: unchanged
    assert page.locator("#compare-added li").all_inner_texts() == ["ninguno"]
    page.context.close()

    # A new case takes version 2: the renamed task, due after the new deadline.
    newer = lic.start(svc)
    assert cases.get_case(svc, SYSTEM, newer.id)["process_version"] == 2
    task = newer.task(TASK)
    cal = svc.calendar
    expected = cal.at_closing(cal.add_working_days(cal.effective_filing_date(START), NEW_DEADLINE))
    assert task["title"] == NEW_NAME
    assert task["due_at"].astimezone(timezone.utc) == expected.astimezone(timezone.utc)
    lic.receive(newer)  # its form is the one set again in the modeler
    assert task_rows(svc, newer.id)[0]["element_id"] == "revisar_completitud"

    # The older case finishes on version 1, its task still under the old name.
    finish_on_version_one(older)
    record = cases.get_case(svc, SYSTEM, older.id)
    assert record["state"] == "completed" and record["process_version"] == 1


KEY = "permiso_evento"
KEPT = ('<spiffworkflow:inventado nivel="2"><spiffworkflow:detalle>conservar</spiffworkflow:detalle>'
        '</spiffworkflow:inventado><otro:nota xmlns:otro="urn:otra:herramienta">de otra herramienta</otro:nota>')


def status_has(page, text: str) -> None:
    page.wait_for_function("(t) => document.getElementById('status').textContent.includes(t)", arg=text)


def test_a_new_procedure_from_the_template_then_an_uploaded_version_compared_element_by_element(
        browser, server, supervisor, tmp_path):  # noqa: F811
    base, svc = server
    page = new_page(browser, base, supervisor, "/modelador")

    # From the template: the draft opens in the editor, without problems, and is published as version 1.
    page.fill("#nuevo-clave", KEY)
    page.fill("#nuevo-nombre", "Permiso de evento público")
    page.click("#nuevo button[type=submit]")
    page.wait_for_url(re.compile(rf"/modelador/{KEY}$"))
    page.wait_for_selector('.djs-element[data-element-id="register"]')
    status_has(page, "procedimiento nuevo")
    assert page.inner_text("#problems") == "Sin problemas."
    page.fill("#comment", "Primera versión, desde la plantilla")
    page.click("#publish")
    status_has(page, "Publicada la versión 1")
    status_has(page, "Versión vigente 1, sin borrador")

    # Version 2 comes as a file: the review task replaced by another, carrying extensions the modeler does not
    # define (ours and another tool's). Uploading and saving keeps them, and the page warns of no loss.
    v1 = deploy.version_diagram(svc, processes.version_id(svc, KEY, 1))
    v2 = (v1.replace("register", "revisar").replace('name="Revisar solicitud"', 'name="Revisar requisitos"')
          .replace("<spiffworkflow:properties>", KEPT + "<spiffworkflow:properties>", 2))
    assert v2.count("spiffworkflow:inventado nivel") == 2  # the start event and the task
    upload = tmp_path / f"{KEY}.bpmn"
    upload.write_text(v2, encoding="utf-8")
    with page.expect_response(lambda r: r.request.method == "PUT" and f"/api/drafts/{KEY}" in r.url):
        page.set_input_files("#upload", str(upload))
    status_has(page, f"Archivo «{KEY}.bpmn» cargado. Borrador guardado. Sin errores")
    assert page.locator("#import-warnings").is_hidden()
    saved_xml = drafts.get_draft(svc, SUPERVISOR, KEY)["xml"]
    for kept in ('<spiffworkflow:inventado nivel="2">', "<spiffworkflow:detalle>conservar</spiffworkflow:detalle>",
                 "de otra herramienta</otro:nota>"):
        assert saved_xml.count(kept) == 2, (kept, saved_xml)
    page.fill("#comment", "La revisión ahora verifica requisitos")
    page.click("#publish")
    status_has(page, "Publicada la versión 2")
    assert "spiffworkflow:inventado" in deploy.version_diagram(svc, processes.version_id(svc, KEY, 2))

    # Compare 1 → 2 with the version pickers: the removed task is drawn on the old diagram, the added one on the new.
    page.wait_for_selector("#compare-form:not([hidden])")
    assert page.locator("#compare-old").input_value() == "1" and page.locator("#compare-new").input_value() == "2"
    page.click("#compare-form button[type=submit]")
    page.wait_for_selector('#compare-old-canvas .djs-element.expediente-diff-removed[data-element-id="register"]')
    page.wait_for_selector('#compare-new-canvas .djs-element.expediente-diff-added[data-element-id="revisar"]')
    assert page.locator('#compare-new-canvas [data-element-id="register"]').count() == 0
    assert page.locator('#compare-old-canvas .expediente-diff-added').count() == 0
    removed = page.locator("#compare-removed li").all_inner_texts()
    added = page.locator("#compare-added li").all_inner_texts()
    assert "Revisar solicitud (userTask)" in removed and "Revisar requisitos (userTask)" in added
    assert page.locator("#compare-title").inner_text() == "Cambios de la versión 1 a la versión 2"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "modeler_compare.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no horizontal scrolling
    page.context.close()



def test_two_supervisors_on_one_draft_the_second_save_is_refused_and_keeps_his_work(
        browser, server, supervisor):  # noqa: F811
    base, svc = server
    add_user(svc, "supervisor2", "supervisor", PASSWORD, display_name="Luis Xicará", groups=["ventanilla"])
    drafts.create_draft(svc, SUPERVISOR, "permiso_carrera", name="Permiso disputado")
    pages = [new_page(browser, base, u, "/modelador/permiso_carrera") for u in ("supervisor1", "supervisor2")]
    for page in pages:
        page.wait_for_selector('.djs-element[data-element-id="register"]')
        status_has(page, "Borrador guardado por supervisor1")
    first, second = pages
    assert "Sin errores" in saved(first, "permiso_carrera")
    with second.expect_response(lambda r: r.request.method == "PUT" and r.status == 409):
        second.click("#save")
    status_has(second, "supervisor1 guardó el borrador de «permiso_carrera» después de que usted lo abrió")
    mine = second.locator("#download-mine")
    assert mine.is_visible()
    with second.expect_download() as download:
        mine.click()
    assert 'id="permiso_carrera"' in Path(download.value.path()).read_text(encoding="utf-8")
    assert drafts.get_draft(svc, SUPERVISOR, "permiso_carrera")["revision"] == 2  # only the first save was written
    for page in pages:
        page.context.close()



def test_a_version_deployed_while_a_draft_is_open_must_be_compared_and_accepted_before_publishing(
        browser, server, supervisor):  # noqa: F811
    base, svc = server
    key = "permiso_rebase"
    drafts.create_draft(svc, SUPERVISOR, key, name="Permiso con dos caminos")
    assert drafts.publish_draft(svc, SUPERVISOR, key, "v1").version == 1
    page = new_page(browser, base, supervisor, f"/modelador/{key}")
    page.wait_for_selector('.djs-element[data-element-id="register"]')
    page.click('.djs-element[data-element-id="register"]')
    panel_entry(page, "name", "general").fill("Revisar en el borrador")
    assert "Sin errores" in saved(page, key)  # the draft, on version 1
    assert page.locator("#rebase").is_hidden()

    # Meanwhile somebody deploys version 2 from files (the CLI, `make run` or the API).
    v1 = deploy.version_diagram(svc, processes.version_id(svc, key, 1))
    deploy.deploy_files(svc, {f"{key}.bpmn": v1.replace("Trámite concluido", "Trámite cerrado").encode()},
                        actor="admin", comment="v2 desde archivo")
    page.fill("#comment", "Nuevo nombre de la revisión")
    with page.expect_response(lambda r: r.request.method == "POST" and r.status == 409):
        page.click("#publish")
    status_has(page, "Se publicó la versión 2")
    page.wait_for_selector("#rebase:not([hidden])")
    assert "parte de la versión 1" in page.inner_text("#rebase-text")

    # The comparison shows what publishing the draft would undo of version 2, then the supervisor accepts it.
    page.click("#rebase-compare")
    page.wait_for_selector('#compare-new-canvas .djs-element.expediente-diff-changed[data-element-id="end"]')
    assert page.inner_text("#compare-title") == "Cambios del borrador sobre la versión 2"
    changes = " ".join(page.locator("#compare-changes li").all_inner_texts())
    assert "Trámite cerrado" in changes and "Revisar en el borrador" in changes
    with page.expect_response(lambda r: r.request.method == "PUT" and r.status == 200):
        page.click("#rebase-accept")
    page.wait_for_selector("#rebase", state="hidden")
    assert drafts.get_draft(svc, SUPERVISOR, key)["base_version"] == 2
    page.click("#publish")
    status_has(page, "Publicada la versión 3")
    assert "Revisar en el borrador" in deploy.version_diagram(svc, processes.version_id(svc, key, 3))
    page.context.close()
