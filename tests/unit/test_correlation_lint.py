"""The lint of the property `correlacion` (docs/messages.md): "clave=ruta, ..." on message events and tasks; a
malformed one is refused naming the element, one where it does nothing is a warning."""
from __future__ import annotations

import pytest

from engine.errors import SpecInvalid
from engine.language.specs import parse_bundle
from tests.bpmn import definitions

MESSAGE = '<bpmn:message id="m" name="respuesta"/>'


def catch(rule: str) -> bytes:
    body = f"""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="recibir"/>
    <bpmn:intermediateCatchEvent id="recibir">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="correlacion" value="{rule}"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:messageEventDefinition messageRef="m"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="recibir" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
    return definitions(body, "correlado").replace(b'<bpmn:process id="correlado"',
                                                   MESSAGE.encode() + b'\n  <bpmn:process id="correlado"')


@pytest.mark.parametrize("rule", ["solicitud=solicitud_pnc.solicitud", "caso", "caso=origen.caso, nit",
                                  "solicitud = solicitud_pnc.solicitud , "])
def test_well_formed_correlations_pass(rule):
    assert "correlado" in parse_bundle({"c.bpmn": catch(rule)}).processes


@pytest.mark.parametrize("rule", ["=x", "solicitud=", "solicitud=a..b", "clave con espacio=x", "x=a.b-c",
                                  "solicitud=solicitud_pnc['solicitud']"])
def test_a_malformed_correlation_is_refused_naming_the_element(rule):
    if rule == "solicitud=":  # an empty path means the key's own name: valid
        assert parse_bundle({"c.bpmn": catch(rule)})
        return
    with pytest.raises(SpecInvalid) as info:
        parse_bundle({"c.bpmn": catch(rule)})
    [problem] = [p for p in info.value.problems if p.severity == "error"]
    assert problem.element_id == "recibir" and "correlación" in problem.message


def test_a_correlation_on_an_element_that_sends_or_waits_for_no_message_is_a_warning():
    body = """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="tarea"/>
    <bpmn:userTask id="tarea"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="correlacion" value="caso"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="tarea" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
    bundle = parse_bundle({"t.bpmn": definitions(body, "suelto")})
    assert [w.element_id for w in bundle.warnings if "correlacion" in w.message] == ["tarea"]
