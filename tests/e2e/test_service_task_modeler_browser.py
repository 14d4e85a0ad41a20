"""The modeler's panel for a service task, in Debian's Chromium: the supervisor chooses the operation from those the
engine declares, fills its parameters (text as text, expressions as Python) and its result variable, publishes; a
case of the new procedure runs the operation (a mail queued for it)."""
from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases, drafts
from tests.conftest import SYSTEM, principal_for
from tests.e2e.chromium import new_page
from tests.web.conftest import PASSWORD

KEY = "aviso_servicio"
TASK = "avisar"
DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs" targetNamespace="http://expediente.gt/test">
  <bpmn:process id="{KEY}" name="Aviso por servicio" isExecutable="true">
    <bpmn:startEvent id="inicio" />
    <bpmn:sequenceFlow id="f1" sourceRef="inicio" targetRef="{TASK}" />
    <bpmn:serviceTask id="{TASK}" name="Avisar al solicitante" />
    <bpmn:sequenceFlow id="f2" sourceRef="{TASK}" targetRef="fin" />
    <bpmn:endEvent id="fin" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dia">
    <bpmndi:BPMNPlane id="plane" bpmnElement="{KEY}">
      <bpmndi:BPMNShape id="inicio_di" bpmnElement="inicio"><dc:Bounds x="100" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{TASK}_di" bpmnElement="{TASK}"><dc:Bounds x="200" y="78" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="fin_di" bpmnElement="fin"><dc:Bounds x="360" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="300" y="118" /><di:waypoint x="360" y="118" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def supervisor(server):  # noqa: F811
    _base, svc = server
    add_user(svc, "supervisor2", "supervisor", PASSWORD, display_name="Sara Ixcot")
    drafts.save_draft(svc, principal_for("supervisor2", "supervisor"), KEY, DIAGRAM)
    return "supervisor2"


def panel_entry(page, entry_id: str, group_id: str):
    """The properties panel's input `entry_id`, opening its group when it is collapsed."""
    field = page.locator(f"#bio-properties-panel-{entry_id}")
    if not field.is_visible():
        page.click(f'[data-group-id="group-{group_id}"] .bio-properties-panel-group-header')
    field.wait_for(state="visible")
    return field


def saved(page) -> str:
    with page.expect_response(lambda r: r.request.method == "PUT" and f"/api/drafts/{KEY}" in r.url):
        page.click("#save")
    page.wait_for_function("() => /^Borrador guardado[.,]/.test(document.getElementById('status').textContent)")
    return page.inner_text("#status")


def test_supervisor_chooses_an_operation_and_fills_its_parameters_in_the_panel(browser, server, supervisor):
    base, svc = server
    page = new_page(browser, base, supervisor, f"/modelador/{KEY}")
    page.wait_for_selector(f'.djs-element[data-element-id="{TASK}"]')
    page.wait_for_selector("#problems li")
    problem = page.locator(f'#problems li[data-element="{TASK}"]')
    assert "no indica qué servicio llamar" in problem.inner_text()

    page.click(f'.djs-element[data-element-id="{TASK}"]')
    page.wait_for_selector('.bio-properties-panel-header-label:has-text("Avisar al solicitante")')
    operation = panel_entry(page, "spiff-operator", "spiff-service")
    options = operation.locator("option").all_inner_texts()
    assert "Enviar un correo (enviar_correo)" in options and "Emitir un documento (emitir_documento)" in options
    operation.select_option("enviar_correo")
    panel_entry(page, "spiff-parameter-para", "spiff-service").fill("correo")
    panel_entry(page, "spiff-parameter-asunto", "spiff-service").fill("Su trámite «avanza»")
    panel_entry(page, "spiff-parameter-cuerpo", "spiff-service").fill("Estimado(a) solicitante:\nya está listo.")
    panel_entry(page, "spiff-result-variable", "spiff-service").fill("aviso")
    page.wait_for_timeout(600)  # the panel's inputs are debounced (300 ms)
    assert "Sin errores" in saved(page)

    xml = drafts.draft_diagram(svc, principal_for(supervisor, "supervisor"), KEY)
    assert 'serviceTaskOperator id="enviar_correo" resultVariable="aviso"' in xml
    params = {p.get("id"): (p.get("type"), p.get("value")) for p in etree.fromstring(xml.encode()).iter(
        "{http://spiffworkflow.org/bpmn/schema/1.0/core}parameter")}
    assert params == {"para": ("any", "correo"), "asunto": ("any", "'Su trámite «avanza»'"),
                      "cuerpo": ("any", "'Estimado(a) solicitante:\\nya está listo.'")}

    page.fill("#comment", "Aviso por correo")
    page.click("#publish")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('Publicada la versión 1')")
    started = cases.start_case(svc, SYSTEM, KEY, {"correo": "ana@example.gt"})
    assert started.state == "completed", cases.get_case(svc, SYSTEM, started.id)["error_message"]
    with svc.db.connect() as conn:
        [mail] = conn.execute(select(models.outbox).where(models.outbox.c.case_id == started.id)).mappings().all()
    assert (mail["to_address"], mail["subject"]) == ("ana@example.gt", "Su trámite «avanza»")
    assert mail["body"] == "Estimado(a) solicitante:\nya está listo."
