"""The form editor in Debian's Chromium: a supervisor opens a draft of the licence, edits its intake form (a label
changed, a field added with the DPI validator), sees the clerk's view update, saves and publishes; a clerk's new
case shows the new field and refuses a bad DPI, while the case filed before keeps version 1 and its form."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases
from tests.conftest import SYSTEM
from tests.e2e.chromium import SCREENSHOTS, new_page
from tests.e2e.licence_pages import fill
from tests.processes import licencia_walk as lic
from tests.web.conftest import PASSWORD, START

FORM = "licencia_solicitud"
NEW_LABEL = "Nombre completo del solicitante"
NEW_FIELD = "testigo_dpi"


@pytest.fixture(scope="module")
def supervisor(server):  # noqa: F811
    _base, svc = server
    add_user(svc, "supervisor1", "supervisor", PASSWORD, display_name="Sonia Pérez", groups=["ventanilla"])
    return "supervisor1"


def preview_label(page, field: str) -> str:
    label = page.locator(f'#fe-preview label[for="f-{field}"]')
    return label.inner_text() if label.count() else ""


def test_supervisor_edits_the_intake_form_previews_saves_and_publishes_and_the_clerk_gets_it(
        browser, server, supervisor):  # noqa: F811
    base, svc = server
    svc.clock.now = START
    older = lic.start(svc)  # filed before the change: it stays on version 1 with its form
    assert cases.get_case(svc, SYSTEM, older.id)["process_version"] == 1

    # The modeler's editor links to the draft's forms; without a draft the page offers to open one.
    page = new_page(browser, base, supervisor, "/modelador/licencia")
    page.click("#draft-forms")
    page.click("#open-draft")
    row = page.locator(f'#draft-forms tr[data-form="{FORM}"]')
    assert "Sin cambios" in row.inner_text()
    row.locator("a").click()
    page.wait_for_selector('#fe-fields .fe-field[data-path="solicitante_nombre"]')
    assert preview_label(page, "solicitante_nombre").startswith("Nombre del solicitante")
    # A group of fields (the legal representative) is edited field by field too; the conditions are kept as they are.
    assert page.locator('#fe-fields .fe-field[data-path="representante_legal/nombre"] .fe-label').input_value() \
        == "Nombre del representante legal"

    # Change a label: the preview, drawn by the server as the intake page draws it, follows.
    page.fill('[data-path="solicitante_nombre"] .fe-label', NEW_LABEL)
    page.wait_for_function("(t) => { const l = document.querySelector('#fe-preview label[for=\"f-solicitante_nombre\"]');"
                           " return l && l.textContent.startsWith(t); }", arg=NEW_LABEL)

    # Add a field with the DPI validator, required.
    before = page.locator("#fe-fields > .fe-field").count()
    page.click("#fe-add")
    added = page.locator("#fe-fields > .fe-field").nth(before)
    added.locator(".fe-key").fill(NEW_FIELD)
    added.locator(".fe-key").press("Tab")  # the key is taken on change
    added = page.locator(f'#fe-fields > .fe-field[data-path="{NEW_FIELD}"]')
    added.locator(".fe-label").fill("DPI del testigo")
    added.locator(".fe-validator").select_option("cui")
    added.locator(".fe-required").check()
    added.locator(".fe-help").fill("13 dígitos del DPI de quien acompaña al solicitante.")
    page.wait_for_function("() => { const l = document.querySelector('#fe-preview label[for=\"f-testigo_dpi\"]');"
                           " return l && l.textContent.includes('DPI del testigo') && l.querySelector('.required-mark'); }")
    assert page.locator("#f-testigo_dpi-help").inner_text().startswith("13 dígitos")

    # Move it up one place: the preview draws it before the field that was above it.
    above = page.locator("#fe-fields > .fe-field").nth(before - 1).get_attribute("data-path")
    added.locator(".fe-up").click()
    page.wait_for_function("([a, b]) => { const ids = [...document.querySelectorAll('#fe-preview [id^=\"f-\"]')]"
                           ".map(e => e.id); return ids.indexOf('f-' + a) >= 0 && ids.indexOf('f-' + a) < ids.indexOf('f-' + b); }",
                           arg=[NEW_FIELD, above])
    # A field added and removed again leaves no trace.
    page.click("#fe-add")
    page.locator("#fe-fields > .fe-field").last.locator(".fe-label").fill("Campo de más")
    page.wait_for_function("() => document.getElementById('fe-preview').textContent.includes('Campo de más')")
    page.locator("#fe-fields > .fe-field").last.locator(".fe-remove").click()
    page.wait_for_function("() => !document.getElementById('fe-preview').textContent.includes('Campo de más')")
    assert page.locator("#fe-problems li").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "form_editor.png"), full_page=True)

    # Save into the draft, then publish the draft from the forms' page.
    with page.expect_response(lambda r: r.request.method == "PUT" and f"/forms/{FORM}" in r.url):
        page.click("#fe-save")
    page.wait_for_function("() => document.getElementById('fe-status').textContent.includes('Formulario guardado')")
    page.click("text=Formularios del borrador")
    assert "Cambiado por supervisor1" in page.locator(f'#draft-forms tr[data-form="{FORM}"]').inner_text()
    page.fill("#publish-comment", "Solicitud: DPI del testigo y nombre completo")
    page.click("#publish")
    page.wait_for_function("() => document.getElementById('publish-status').textContent.includes('Publicada la versión 2')")
    page.context.close()

    # A clerk files a new case on version 2: the new field is there, and a bad DPI in it is refused.
    desk = new_page(browser, base, "ventanilla1", "/expedientes/nuevo/licencia")
    assert desk.locator('label[for="f-solicitante_nombre"]').inner_text().startswith(NEW_LABEL)
    assert "DPI del testigo" in desk.locator(f'label[for="f-{NEW_FIELD}"]').inner_text()
    fill(desk, lic.intake(**{NEW_FIELD: "1234 56789 0123"}))
    desk.click("#file-case")
    desk.wait_for_selector(f"#f-{NEW_FIELD}-error")
    assert "DPI/CUI no es válido" in desk.inner_text(f"#f-{NEW_FIELD}-error")
    desk.fill(f"#f-{NEW_FIELD}", lic.DPI_ANA)
    desk.click("#file-case")
    desk.wait_for_selector("#receipt")
    desk.context.close()

    with svc.uow(write=False) as uow:
        newest = uow.conn.execute(select(models.cases.c.id).order_by(models.cases.c.id.desc()).limit(1)).scalar()
        versions = dict(uow.conn.execute(select(models.process_versions.c.version, models.process_versions.c.forms_json)
                                         .where(models.process_versions.c.process_key == "licencia")).all())
    record = cases.get_case(svc, SYSTEM, newest)
    assert record["process_version"] == 2
    assert cases.case_data(svc, SYSTEM, newest)[NEW_FIELD] == lic.DPI_ANA
    # Version 1 keeps the form its cases started with; the older case is still on it.
    assert NEW_FIELD not in json.loads(versions[1])[FORM]["properties"]
    assert NEW_FIELD in json.loads(versions[2])[FORM]["required"]
    assert cases.get_case(svc, SYSTEM, older.id)["process_version"] == 1
