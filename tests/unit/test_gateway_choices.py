"""A trial's gateway choices: the copy's conditions rewritten so the chosen flows are taken, whatever the data."""
from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.language.gateway_choices import check_choices, force_choices, gateways
from engine.language.specs import elements_of
from tests.bpmn import definitions

XML = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gx"/>
    <bpmn:exclusiveGateway id="gx" name="¿Monto alto?" default="f_bajo"/>
    <bpmn:sequenceFlow id="f_alto" name="Sí" sourceRef="gx" targetRef="gi">
      <bpmn:conditionExpression>monto &gt; 100</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_bajo" name="No" sourceRef="gx" targetRef="end"/>
    <bpmn:inclusiveGateway id="gi" name="Avisos"/>
    <bpmn:sequenceFlow id="f_mail" sourceRef="gi" targetRef="end"><bpmn:conditionExpression>correo</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_sms" sourceRef="gi" targetRef="end"><bpmn:conditionExpression>sms</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_nada" sourceRef="gi" targetRef="end"/>
    <bpmn:endEvent id="end" name="Fin"/>
""")


def conditions(xml) -> dict:
    return {i: e["values"].get("condition") for i, e in elements_of(xml).items() if e["type"] == "sequenceFlow"}


def test_the_gateways_with_their_ways_out():
    found = {g["id"]: g for g in gateways(XML)}
    assert found["gx"]["default"] == "f_bajo" and found["gx"]["type"] == "exclusiveGateway"
    assert [(f["id"], f["name"], f["target"], f["condition"]) for f in found["gx"]["flows"]] == [
        ("f_alto", "Sí", "Avisos", "monto > 100"), ("f_bajo", "No", "Fin", "")]
    assert [f["id"] for f in found["gi"]["flows"]] == ["f_mail", "f_sms", "f_nada"]


def test_a_chosen_flow_becomes_true_and_its_siblings_false_the_default_taken_when_chosen():
    forced = conditions(force_choices(XML, check_choices(XML, {"gx": "f_bajo", "gi": "f_mail,f_nada"})))
    assert forced["f_alto"] == "False" and forced["f_bajo"] is None  # the default keeps no condition
    assert (forced["f_mail"], forced["f_sms"], forced["f_nada"]) == ("True", "False", "True")
    assert conditions(force_choices(XML, check_choices(XML, {"gx": "f_alto", "gi": "datos"}))) == {
        **conditions(XML), "f_alto": "True"}


@pytest.mark.parametrize("choices, field", [
    ({"nada": "f_alto"}, "choices.nada"), ({"gx": "f_mail"}, "choices.gx"), ({"gx": "f_alto,f_bajo"}, "choices.gx"),
])
def test_wrong_choices_are_refused_naming_the_gateway(choices, field):
    with pytest.raises(InvalidInput) as refused:
        check_choices(XML, choices)
    assert refused.value.errors[0]["field"] == field
