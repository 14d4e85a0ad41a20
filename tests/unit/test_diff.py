"""engine.language.diff: elements compared by id, with every changed field named."""
from __future__ import annotations

import pytest

from engine.language.diff import diff_xml
from engine.errors import SpecInvalid

HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" xmlns:x="urn:other" id="d">'
        '<bpmn:process id="p" isExecutable="true">')
TAIL = "</bpmn:process></bpmn:definitions>"


def doc(body: str) -> str:
    return HEAD + body + TAIL


def props(**values) -> str:
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties>" \
           "</bpmn:extensionElements>"


def changes(old: str, new: str, element_id: str) -> list[dict]:
    return {e["id"]: e["changes"] for e in diff_xml(doc(old), doc(new))["changed"]}.get(element_id, [])


def test_identical_documents_have_no_differences():
    body = f'<bpmn:userTask id="t" name="A">{props(form="f")}</bpmn:userTask>'
    assert diff_xml(doc(body), doc(body)) == {"added": [], "removed": [], "changed": []}


def test_added_and_removed_elements_are_listed_with_type_and_name():
    d = diff_xml(doc('<bpmn:userTask id="a" name="Uno"/>'), doc('<bpmn:scriptTask id="b" name="Dos"/>'))
    assert d["added"] == [{"id": "b", "type": "scriptTask", "name": "Dos"}]
    assert d["removed"] == [{"id": "a", "type": "userTask", "name": "Uno"}]


def test_type_name_and_properties_changes_are_named():
    old = f'<bpmn:userTask id="t" name="A">{props(form="f1", deadlineWorkingDays="5")}</bpmn:userTask>'
    new = f'<bpmn:manualTask id="t" name="B">{props(form="f2")}</bpmn:manualTask>'
    assert changes(old, new, "t") == [
        {"field": "type", "old": "userTask", "new": "manualTask"},
        {"field": "name", "old": "A", "new": "B"},
        {"field": "property:deadlineWorkingDays", "old": "5", "new": None},
        {"field": "property:form", "old": "f1", "new": "f2"}]


def test_script_condition_timer_and_extension_text_changes_are_named():
    old = ('<bpmn:scriptTask id="s"><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'
           '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="s">'
           '<bpmn:conditionExpression>a &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>'
           '<bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition>'
           '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
           '<bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:preScript>x = 1</spiffworkflow:preScript>'
           '</bpmn:extensionElements></bpmn:userTask>')
    new = (old.replace("a = 1", "a = 2").replace("a &gt; 1", "a &gt; 2").replace('"P1D"', '"P2D"')
           .replace("x = 1", "x = 2"))
    assert changes(old, new, "s") == [{"field": "script", "old": "a = 1", "new": "a = 2"}]
    assert changes(old, new, "f") == [{"field": "condition", "old": "a > 1", "new": "a > 2"}]
    assert changes(old, new, "w") == [{"field": "timer:timeDuration", "old": '"P1D"', "new": '"P2D"'}]
    assert changes(old, new, "u") == [{"field": "extension:spiffworkflow:preScript", "old": "x = 1", "new": "x = 2"}]


def test_lane_moves_and_foreign_attributes_are_changes():
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Ventanilla"><bpmn:flowNodeRef>t</bpmn:flowNodeRef>'
             '</bpmn:lane><bpmn:lane id="l2" name="Trámite"/></bpmn:laneSet>')
    old = lanes + '<bpmn:userTask id="t" x:color="red"/>'
    new = lanes.replace("<bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane><bpmn:lane id=\"l2\" name=\"Trámite\"/>",
                        '</bpmn:lane><bpmn:lane id="l2" name="Trámite"><bpmn:flowNodeRef>t</bpmn:flowNodeRef>'
                        '</bpmn:lane>') + '<bpmn:userTask id="t" x:color="blue"/>'
    assert changes(old, new, "t") == [{"field": "lane", "old": "Ventanilla", "new": "Trámite"},
                                      {"field": "attribute:{urn:other}color", "old": "red", "new": "blue"}]


def test_unsafe_or_non_bpmn_documents_are_refused_by_the_one_parser():
    with pytest.raises(SpecInvalid):
        diff_xml('<!DOCTYPE x [<!ENTITY e "x">]><x/>', doc(""))
    with pytest.raises(SpecInvalid):
        diff_xml("<nada/>", doc(""))


def test_an_attribute_at_its_bpmn_default_is_the_same_as_no_attribute():
    """The modeler drops cancelActivity="true" and its kin on save; that is not a change of the diagram."""
    timer = '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
    old = f'<bpmn:userTask id="t"/><bpmn:boundaryEvent id="b" attachedToRef="t" cancelActivity="true">{timer}' \
          '</bpmn:boundaryEvent><bpmn:startEvent id="s" isInterrupting="true"/>' \
          '<bpmn:exclusiveGateway id="g" gatewayDirection="Unspecified"/>'
    new = f'<bpmn:userTask id="t"/><bpmn:boundaryEvent id="b" attachedToRef="t">{timer}</bpmn:boundaryEvent>' \
          '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g"/>'
    assert diff_xml(doc(old), doc(new))["changed"] == []
    interrupting = new.replace('attachedToRef="t"', 'attachedToRef="t" cancelActivity="false"')
    assert changes(old, interrupting, "b") == [{"field": "attribute:cancelActivity", "old": "true", "new": "false"}]
    assert changes(interrupting, new, "b") == [{"field": "attribute:cancelActivity", "old": "false", "new": None}]
