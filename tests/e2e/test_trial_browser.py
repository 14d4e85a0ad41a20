"""Trying a draft in Debian's Chromium: from the modeler, «Probar» opens the trial page; the supervisor chooses the
outcome of a gateway, starts the licence draft with test data, completes its tasks with the data boxes and sees the
path drawn on the diagram, to the end; the office's own cases are untouched."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import drafts
from tests.conftest import principal_for
from tests.e2e.chromium import SCREENSHOTS, new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: a fixture)
from tests.processes.licencia_walk import intake
from tests.web.conftest import PASSWORD


@pytest.fixture(scope="module")
def supervisor(server):
    _base, svc = server
    add_user(svc, "supervisor_prueba", "supervisor", PASSWORD, display_name="Sara Prueba", groups=["ventanilla"])
    return "supervisor_prueba"


@pytest.fixture
def trial_dir(tmp_path, monkeypatch):
    folder = tmp_path / "trials"
    monkeypatch.setenv("EXPEDIENTE_TRIAL_DIR", str(folder))
    return folder


def case_rows(svc) -> tuple[int, int]:
    with svc.uow(write=False) as uow:
        return tuple(uow.conn.execute(select(func.count()).select_from(t)).scalar()
                     for t in (models.cases, models.events))


def fill_json(page, selector: str, value: dict) -> None:
    page.fill(selector, json.dumps(value, ensure_ascii=False))


def complete(page, element_id: str, data: dict) -> None:
    page.wait_for_selector(f'button[data-task="{element_id}"]')
    fill_json(page, f"#task-data-{element_id}", data)
    with page.expect_response(lambda r: "/api/trials/" in r.url and "/tasks/" in r.url):
        page.click(f'button[data-task="{element_id}"]')


def test_the_licence_draft_tried_to_its_end_choosing_a_gateway_with_the_path_drawn(server, browser, supervisor,
                                                                                  trial_dir, axe_source):  # noqa: F811
    base, svc = server
    try:
        drafts.create_draft(svc, principal_for(supervisor, "supervisor"), "licencia")
    except Exception:  # noqa: BLE001 - another walk of this module left one: try that
        pass
    before = case_rows(svc)
    page = new_page(browser, base, supervisor, "/modelador/licencia")
    page.wait_for_selector("#problems li")
    page.click("#try-draft")
    page.wait_for_url(f"{base}/modelador/licencia/prueba")
    page.wait_for_selector("#choice-gw_archivado option[value=f_archivado]", state="attached")
    assert page.locator("#trial-start-data").input_value().startswith("{")  # the start form's example data
    assert violations(page, axe_source) == []  # the setup: gateways, start data
    page.select_option("#choice-gw_archivado", "f_archivado")
    fill_json(page, "#trial-start-data", intake())
    with page.expect_response(lambda r: r.url.endswith("/api/trials") and r.request.method == "POST"):
        page.click("#trial-start")
    page.wait_for_selector('.djs-element.active[data-element-id="emitir_constancia"]')
    assert violations(page, axe_source) == []  # a ready task's data box
    # This task on its own page, its form as the clerk sees it: a wrong number is refused naming the field.
    page.click('a[data-task="emitir_constancia"]')
    page.wait_for_selector("#trial-task-form")
    page.select_option('select[name="constancia_entrega"]', "ventanilla")
    page.fill('input[name="constancia_folios"]', "-3")
    page.click("#complete")
    page.wait_for_selector('input[name="constancia_folios"][aria-invalid="true"]')
    assert violations(page, axe_source) == []  # the clerk's form, with its error
    page.fill('input[name="constancia_folios"]', "12")
    page.click("#complete")
    page.wait_for_url(f"{base}/modelador/licencia/prueba?prueba=*")  # back to the same trial, where it is now
    page.wait_for_selector('.djs-element.active[data-element-id="revision_completitud"]')
    complete(page, "revisar_completitud", {"completo": True})  # complete, yet the chosen way is the archive
    page.wait_for_selector('#trial-run[data-state="completed"]')
    assert page.locator('.djs-element.done[data-element-id="archivar_expediente"]').count() == 1
    assert page.locator('.djs-connection.taken[data-element-id="f_archivado"]').count() == 1
    assert page.locator('.djs-connection.taken[data-element-id="f_completo"]').count() == 0
    assert page.locator('.djs-element.done[data-element-id="fijar_plazo_respuesta"]').count() == 0
    assert "archivada_por_falta_de_requisitos" in page.inner_text("#trial-data")
    assert page.locator("#trial-steps li").count() == 3
    assert violations(page, axe_source) == []  # the run: diagram, tasks, data, steps
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "trial-licencia.png"), full_page=True)
    assert list(trial_dir.glob("*.db"))
    page.click("#trial-end")
    page.wait_for_selector("#trial-setup:not([hidden])")
    assert list(trial_dir.glob("*.db")) == []
    assert case_rows(svc) == before  # nothing reached the office's cases or history
    page.context.close()


def test_a_gateway_chosen_again_once_the_data_took_the_other_way(server, browser, supervisor, trial_dir):
    base, svc = server
    try:
        drafts.create_draft(svc, principal_for(supervisor, "supervisor"), "licencia")
    except Exception:  # noqa: BLE001 - the walk above left one
        pass
    page = new_page(browser, base, supervisor, "/modelador/licencia/prueba")
    page.wait_for_selector("#choice-gw_archivado option[value=f_archivado]", state="attached")
    fill_json(page, "#trial-start-data", intake())
    with page.expect_response(lambda r: r.url.endswith("/api/trials") and r.request.method == "POST"):
        page.click("#trial-start")  # every gateway «según los datos»
    complete(page, "emitir_constancia", {"constancia_entrega": "ventanilla", "constancia_folios": 12})
    page.wait_for_selector('.djs-element.active[data-element-id="revision_completitud"]')
    complete(page, "revisar_completitud", {"completo": True})
    page.wait_for_selector('.djs-connection.taken[data-element-id="f_completo"]')
    assert page.locator("#trial-timers li").count() == 2  # the opinions' deadlines wait
    page.click("#trial-choose-again")
    page.select_option("#choice-gw_archivado", "f_archivado")
    with page.expect_response(lambda r: r.url.endswith("/choices")):
        page.click("#trial-rechoose")
    page.wait_for_selector('#trial-run[data-state="completed"]')
    assert "Pasos repetidos con las nuevas elecciones: 2 de 2." in page.inner_text("#trial-status")
    assert page.locator('.djs-connection.taken[data-element-id="f_archivado"]').count() == 1
    assert page.locator('.djs-connection.taken[data-element-id="f_completo"]').count() == 0
    page.click("#trial-end")
    page.wait_for_selector("#trial-setup:not([hidden])")
    assert list(trial_dir.glob("*.db")) == []
    page.context.close()


INCLUSIVE = """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="avisos"/>
    <bpmn:inclusiveGateway id="avisos" name="¿A quién avisar?"/>
    <bpmn:sequenceFlow id="f_correo" name="Por correo" sourceRef="avisos" targetRef="correo">
      <bpmn:conditionExpression>correo</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_sms" name="Por SMS" sourceRef="avisos" targetRef="sms">
      <bpmn:conditionExpression>sms</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="correo" name="Enviar correo"/>
    <bpmn:userTask id="sms" name="Enviar SMS"/>
    <bpmn:sequenceFlow id="f1" sourceRef="correo" targetRef="end"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sms" targetRef="end"/>
    <bpmn:endEvent id="end"/>
"""


def test_an_inclusive_gateway_takes_the_ways_ticked(server, browser, supervisor, trial_dir):
    from tests.bpmn import definitions
    base, svc = server
    drafts.save_draft(svc, principal_for(supervisor, "supervisor"), "avisos_prueba",
                      definitions(INCLUSIVE, "avisos_prueba", "Avisos").decode())
    page = new_page(browser, base, supervisor, "/modelador/avisos_prueba/prueba")
    page.wait_for_selector("#choice-avisos-f_sms")
    page.check("#choice-avisos-f_sms")  # the data say neither: correo and sms are false
    fill_json(page, "#trial-start-data", {"correo": False, "sms": False})
    with page.expect_response(lambda r: r.url.endswith("/api/trials") and r.request.method == "POST") as answer:
        page.click("#trial-start")
    state = answer.value.json()
    assert [t["element_id"] for t in state["ready_tasks"]] == ["sms"] and "f_sms" in state["path"]["flows"]
    page.wait_for_selector('button[data-task="sms"]')
    page.click("#trial-end")
    page.context.close()
