"""Tiny BPMN documents for tests, built from a process body."""
from __future__ import annotations


def definitions(body: str, process_id: str = "p", name: str = "Proceso de prueba") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_{process_id}" targetNamespace="http://expediente.gt/test">
  <bpmn:process id="{process_id}" name="{name}" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>""".encode()


def linear(*elements: str, process_id: str = "p", start_form: str | None = None) -> bytes:
    """start → elements… → end, each element an XML fragment whose id is `e<i>`; `start_form`: the intake form."""
    parts = ['<bpmn:startEvent id="start"/>' if start_form is None else
             '<bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>'
             f'<spiffworkflow:property name="form" value="{start_form}"/>'
             '</spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>']
    prev = "start"
    for i, el in enumerate(elements):
        parts.append(el.format(id=f"e{i}"))
        parts.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{prev}" targetRef="e{i}"/>')
        prev = f"e{i}"
    parts.append('<bpmn:endEvent id="end"/>')
    parts.append(f'<bpmn:sequenceFlow id="f_end" sourceRef="{prev}" targetRef="end"/>')
    return definitions("\n".join(parts), process_id)


def script(code: str) -> str:
    return '<bpmn:scriptTask id="{id}"><bpmn:script>' + code.replace("&", "&amp;").replace("<", "&lt;") \
        + "</bpmn:script></bpmn:scriptTask>"


def user(name: str = "Tarea") -> str:
    return '<bpmn:userTask id="{id}" name="' + name + '"/>'


LOOP = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init"/>
    <bpmn:scriptTask id="init"><bpmn:script>i = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="work"/>
    <bpmn:userTask id="work" name="Sesión"/>
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="inc"/>
    <bpmn:scriptTask id="inc"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="inc" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="back"/>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="work"/>
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>i &gt;= limit</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
""", "loop")

# A loop with no wait state: only the engine's step bound can stop it.
ENDLESS = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inc"/>
    <bpmn:scriptTask id="inc"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="inc" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="back"/>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="inc"/>
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>False</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
""", "endless")

# Parallel split/join inside a loop: SpiffWorkflow 3.2 raises RecursionError after ~164 rounds.
PARALLEL_LOOP = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init"/>
    <bpmn:scriptTask id="init"><bpmn:script>i = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="split"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:sequenceFlow id="a1" sourceRef="split" targetRef="left"/>
    <bpmn:sequenceFlow id="b1" sourceRef="split" targetRef="right"/>
    <bpmn:scriptTask id="left"><bpmn:script>l = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="right"><bpmn:script>r = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="a2" sourceRef="left" targetRef="join"/>
    <bpmn:sequenceFlow id="b2" sourceRef="right" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f3" sourceRef="join" targetRef="inc"/>
    <bpmn:scriptTask id="inc"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="inc" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="back"/>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="split"/>
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>i &gt;= limit</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
""", "parallel_loop")
