"""The clerk's pages in Debian's Chromium: a licence filed at the desk and walked to its resolution across
the lanes, server validation beside the field, two clerks racing for one task, and screenshots."""
from __future__ import annotations

import re
from datetime import timedelta

from engine.usecases import cases
from engine.usecases import timers
from tests.conftest import SYSTEM, principal_for
from tests.processes.licencia_walk import OFICIOS_OPINION, RESOLUTION_DRAFT, intake, iso, local
from tests.e2e.chromium import SCREENSHOTS, new_page
from tests.task_rows import task_rows
from tests.web.conftest import as_form

INBOX_JS_LIMIT_BYTES = 300 * 1024
# Who works each step of the favourable licence path, and what they type (valid per its form).
STEPS = {
    "emitir_constancia": ("ventanilla1", {"constancia_entrega": "ventanilla", "constancia_folios": 12}),
    "revisar_completitud": ("ventanilla1", {"completo": True}),
    # One oficio (the form shows one row; the PNC's): the system numbers it.
    "solicitar_opiniones": ("tramite1", {"oficios_opinion": OFICIOS_OPINION[:1],
                                         "opiniones_fecha_solicitud": iso(local(2026, 3, 30, 11))}),
    "registrar_opinion_pnc": ("tramite1", {"opinion_pnc_referencia": "OF-PNC-7",
                                           "opinion_pnc_fecha": iso(local(2026, 3, 30, 12)),
                                           "opinion_pnc_sentido": "favorable"}),
    "registrar_opinion_coordinador": ("tramite1", {"opinion_coordinador_referencia": "OF-COORD-7",
                                                   "opinion_coordinador_fecha": iso(local(2026, 3, 30, 12)),
                                                   "opinion_coordinador_sentido": "favorable"}),
    "elaborar_dictamen": ("juridico1", {
        "dictamen_sentido": "favorable",
        "dictamen_antecedentes": "Solicitud presentada con el plan de seguridad y la licencia de sonido.",
        "dictamen_analisis": "Cumple los requisitos del Decreto 574; la PNC opina favorablemente.",
        "dictamen_fundamento": "Decreto 574, art. 1; Decreto 114-97, art. 47.",
        "dictamen_conclusion": "Procede otorgar la licencia con las condiciones indicadas.",
        "licencia_condiciones": "Finalizar a las 23:00.", **RESOLUTION_DRAFT}),
    # The resolution's fields come pre-filled from the dictamen's draft; the Governor decides and names the co-signer.
    "firmar_resolucion": ("gobernador", {"resolucion_decision": "favorable", "cofirmante": "Ana Lucía Cutzal"}),
    "notificar_interesado": ("notificador1", {"notificacion_forma": "personal",
                                              "notificacion_lugar": "Oficina de la Gobernación",
                                              "notificacion_fecha_hora": iso(local(2026, 3, 30, 14)),
                                              "notificacion_recibido_por": "Ana Lucía Xicará"}),
    "emitir_certificado": ("tramite1", {"certificado_vigencia_desde": "2027-12-20",
                                        "certificado_vigencia_hasta": "2027-12-21"}),
}


def fill(page, data: dict) -> None:
    """Type a JSON object into the generated form, field by field, as a clerk would."""
    for name, value in as_form(data).items():
        if name.endswith(".present"):
            continue
        field = page.locator(f'[name="{name}"]')
        tag = field.evaluate("el => el.tagName + ':' + (el.type || '')")
        if tag.startswith("SELECT"):
            field.select_option(value.split("\n") if tag == "SELECT:select-multiple" else value)
        elif tag == "INPUT:checkbox":
            field.set_checked(value == "on")
        else:
            field.fill(value)


def ready(svc, case_id: int) -> list[dict]:
    return task_rows(svc, case_id)


def test_licence_filed_at_the_desk_and_walked_to_resolution_shows_the_whole_path_green(browser, server):
    base, svc = server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk = new_page(browser, base, "ventanilla1")
    desk.click("text=Nuevo expediente")
    desk.click("text=Licencia o autorización")
    fill(desk, intake())
    desk.click("#file-case")
    desk.wait_for_selector("#receipt")
    number = desk.inner_text("#receipt-number")
    assert re.fullmatch(r"EXP-GDCH-\d{4}-\d{5}", number)
    assert re.fullmatch(r"\d\d:\d\d", desk.inner_text("#receipt-time").split(" ")[0])
    case_id = int(re.search(r"/expedientes/(\d+)/constancia", desk.url).group(1))
    pages = {"ventanilla1": desk}
    walked = []
    while True:
        open_tasks = ready(svc, case_id)
        if not open_tasks:
            break
        task = open_tasks[0]
        username, data = STEPS[task["element_id"]]
        page = pages.get(username) or pages.setdefault(username, new_page(browser, base, username))
        page.goto(f"{base}/bandeja?vista=queue&q={number}")
        if not walked:
            assert page.evaluate("() => typeof window.BpmnJS") == "undefined"
            scripts = page.evaluate("""() => performance.getEntriesByType('resource')
                .filter(e => e.initiatorType === 'script').map(e => [e.name, e.decodedBodySize])""")
            assert sum(size for _name, size in scripts) < INBOX_JS_LIMIT_BYTES
            assert not any("bpmn" in name for name, _size in scripts)
            page.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=True)
        page.click(f'tr[data-task="{task["id"]}"] td:nth-child(3) a')
        page.wait_for_selector("#task-form")
        fill(page, data)
        if task["element_id"] == "elaborar_dictamen":
            page.screenshot(path=str(SCREENSHOTS / "task_form.png"), full_page=True)
        page.click("#complete")
        page.wait_for_url(re.compile(rf"/expedientes/{case_id}$"))
        assert "Tarea «" in page.inner_text(".flash")
        walked.append(task["element_id"])
        if task["element_id"] == "emitir_certificado":
            break
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
