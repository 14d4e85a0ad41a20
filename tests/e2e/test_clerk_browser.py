"""The clerk's pages in Debian's Chromium: a licence filed at the desk and walked to its resolution across
the lanes, server validation beside the field, two clerks racing for one task, and screenshots."""
from __future__ import annotations

import re
from datetime import timedelta

from engine.usecases import cases
from engine.usecases import timers
from tests.conftest import SYSTEM, principal_for
from tests.processes.licencia_walk import intake
from tests.e2e.chromium import SCREENSHOTS, new_page
from tests.e2e.licence_pages import STEPS, file_licence, fill, walk_to_certificate

INBOX_JS_LIMIT_BYTES = 300 * 1024


def test_licence_filed_at_the_desk_and_walked_to_resolution_shows_the_whole_path_green(browser, server):
    base, svc = server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk = new_page(browser, base, "ventanilla1")
    case_id, number = file_licence(desk)
    assert re.fullmatch(r"EXP-GDCH-\d{4}-\d{5}", number)
    assert re.fullmatch(r"\d\d:\d\d", desk.inner_text("#receipt-time").split(" ")[0])
    desk.click("#next-task")  # the receipt leads the desk on to the new case's first task, hers to work
    desk.wait_for_selector("#task-form")
    assert desk.inner_text("h1") == "Emitir constancia de recepción"
    pages = {"ventanilla1": desk}

    def at_inbox(page, _task, walked):
        if walked:
            return
        assert page.evaluate("() => typeof window.BpmnJS") == "undefined"
        scripts = page.evaluate("""() => performance.getEntriesByType('resource')
            .filter(e => e.initiatorType === 'script').map(e => [e.name, e.decodedBodySize])""")
        assert sum(size for _name, size in scripts) < INBOX_JS_LIMIT_BYTES
        assert not any("bpmn" in name for name, _size in scripts)
        page.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=True)

    def at_form(page, task, _walked):
        if task["element_id"] == "elaborar_dictamen":
            page.screenshot(path=str(SCREENSHOTS / "task_form.png"), full_page=True)

    walked = walk_to_certificate(browser, base, svc, case_id, number, pages, at_inbox=at_inbox, at_form=at_form)
    assert set(walked) == set(STEPS)
    # The appeal period passes without an appeal: the resolution becomes final and the case closes.
    svc.clock.advance(days=40)
    timers.fire_due_timers(svc)
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "completed"
    page = pages["ventanilla1"]
    page.goto(f"{base}/expedientes/{case_id}")
    page.wait_for_selector("#diagram[data-ready=true]")
    top_level = [e for e in walked if e not in ("revisar_completitud", "firmar_resolucion", "notificar_interesado")]
    for element_id in top_level + ["solicitud_presentada", "revision_completitud", "firma_gobernador",
                                   "notificar_resolucion", "declarar_firme", "fin_firme"]:
        assert page.locator(f'.djs-element.done[data-element-id="{element_id}"]').count() == 1, element_id
    assert page.locator(".djs-element.done").count() >= 20
    assert page.locator(".djs-connection.done").count() >= 15
    assert page.locator(".djs-element.active").count() == 0
    assert page.locator(".djs-element.failed").count() == 0
    assert page.inner_text("#case-state") == "Concluido"
    page.screenshot(path=str(SCREENSHOTS / "case_page.png"), full_page=True)
    svc.clock.now -= timedelta(days=40)
    for p in pages.values():
        p.context.close()


def test_wrong_dpi_shows_the_spanish_error_beside_the_field_and_keeps_the_other_values(browser, server):
    base, _svc = server
    page = new_page(browser, base, "ventanilla2")
    page.goto(f"{base}/expedientes/nuevo/licencia")
    fill(page, intake(solicitante_dpi="1234567890123", evento_nombre="Concierto de marimba"))
    page.click("#file-case")
    error = page.locator("#f-solicitante_dpi-error")
    error.wait_for()
    assert "DPI" in error.inner_text() or "CUI" in error.inner_text()
    assert page.locator("#f-solicitante_dpi").get_attribute("aria-invalid") == "true"
    assert page.input_value("#f-evento_nombre") == "Concierto de marimba"
    assert page.input_value("#f-solicitante_dpi") == "1234567890123"
    assert page.input_value("#f-municipio") == "Chimaltenango"
    page.context.close()


def test_two_clerks_race_for_one_task_and_the_loser_is_told_who_took_it(browser, server):
    base, svc = server
    started = cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake(evento_nombre="Feria patronal"))
    task_id = started.ready_tasks[0]["id"]
    first, second = new_page(browser, base, "ventanilla1"), new_page(browser, base, "ventanilla2")
    for page in (first, second):
        page.goto(f"{base}/tareas/{task_id}")
        page.wait_for_selector("#claim")
    first.click("#claim")
    first.wait_for_selector(".flash.info")
    second.click("#claim")
    message = second.locator(".flash.error")
    message.wait_for()
    assert "Marta Ixcoy (ventanilla1)" in message.inner_text()
    assert "ya la tomó" in message.inner_text()
    assert second.locator("h1").inner_text() != "Error"
    for page in (first, second):
        page.context.close()
