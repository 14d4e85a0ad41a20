"""A diagram of any size, for scale tests and bench/parse_scale.py: `tasks` user tasks in sequence.

What the office's rules expect of every task: a lane mapped to a group in processes/lanes.json and a form that
exists in forms/, so the diagram is clean at any size. The tasks are grouped in stages (sub-processes) of
`stage_tasks`, as the engine asks of long procedures: SpiffWorkflow reads a chain of steps recursively and
gives up after about 490 steps in a row (`stage_tasks=None` makes that one flat chain, the issue's diagram).
`flaws=True` gives every block of six tasks the same five faults, so the problems found grow with the size
and nothing else: an unreachable task, a flow from an element that does not exist, an exclusive gateway
whose two flows have no condition, a boundary event attached to nothing and a pre-script that does not
compile. `di=True` adds the layout bpmn-js draws (shapes and edges, a plane per stage); it costs about 260
bytes a task, so 6,000 tasks no longer fit in the 2 MiB a document may have.
"""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

LANES = ("Ventanilla", "Trámite", "Jurídico")  # "*" in processes/lanes.json
FORMS = ("previo", "subsanacion", "notificacion")  # forms/<name>.schema.json
STAGE_TASKS = 100
FLAW_BLOCK = 6  # tasks per block of faults with flaws=True

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
         'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
         'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
         'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
         'id="definiciones_{pid}" targetNamespace="http://gobernacion-chimaltenango.gob.gt/expediente">\n')
_TASK_WIDTH, _TASK_HEIGHT, _STEP_X, _LANE_HEIGHT = 100, 80, 150, 120


def sequence(tasks: int, *, stage_tasks: int | None = STAGE_TASKS, di: bool = False, flaws: bool = False,
             process_id: str = "secuencia") -> bytes:
    """A BPMN document: start, `tasks` user tasks in sequence (in stages of `stage_tasks`), end."""
    if tasks < 1:
        raise ValueError("at least one task")
    per_stage = stage_tasks or tasks
    stages = [range(first, min(first + per_stage, tasks)) for first in range(0, tasks, per_stage)]
    staged = stage_tasks is not None
    body: list[str] = []
    lanes: dict[str, list[str]] = {lane: [] for lane in LANES}
    lanes[LANES[0]].append("inicio")
    body.append('<bpmn:startEvent id="inicio" name="Solicitud recibida"/>')
    previous = "inicio"
    for number, stage in enumerate(stages, 1):
        if staged:
            stage_id = f"etapa{number}"
            lanes[LANES[0]].append(stage_id)
            body.append(f'<bpmn:subProcess id="{stage_id}" name="Etapa {number}">')
            body.append(f'<bpmn:startEvent id="{stage_id}_inicio"/>')
            body += _chain(stage, f"{stage_id}_inicio", f"{stage_id}_fin", lanes, flaws)
            body.append(f'<bpmn:endEvent id="{stage_id}_fin"/>')
            body.append("</bpmn:subProcess>")
            body.append(f'<bpmn:sequenceFlow id="{stage_id}_entra" sourceRef="{previous}" targetRef="{stage_id}"/>')
            previous = stage_id
        else:
            body += _chain(stage, "inicio", "fin", lanes, flaws)
            previous = None
    lanes[LANES[0]].append("fin")
    body.append('<bpmn:endEvent id="fin" name="Expediente concluido"/>')
    if previous:
        body.append(f'<bpmn:sequenceFlow id="f_fin" sourceRef="{previous}" targetRef="fin"/>')
    lane_set = [f'<bpmn:laneSet id="carriles_{process_id}">']
    for index, (lane, refs) in enumerate(lanes.items()):
        lane_set.append(f'<bpmn:lane id="carril{index}" name="{lane}">')
        lane_set += [f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs]
        lane_set.append("</bpmn:lane>")
    lane_set.append("</bpmn:laneSet>")
    parts = [_HEAD.format(pid=process_id),
             f'<bpmn:process id="{process_id}" name="Secuencia de {tasks} pasos" isExecutable="true">',
             *lane_set, *body, "</bpmn:process>"]
    if di:
        parts += _diagram(process_id, stages, staged, flaws)
    parts.append("</bpmn:definitions>\n")
    return "\n".join(parts).encode("utf-8")


def _chain(stage: range, first: str, last: str, lanes: dict[str, list[str]], flaws: bool) -> list[str]:
    out, previous = [], first
    for i in stage:
        task = f"t{i}"
        lanes[LANES[i % len(LANES)]].append(task)
        pre = '<spiffworkflow:preScript>x = = 1</spiffworkflow:preScript>' if flaws and i % FLAW_BLOCK == 5 else ""
        out.append(f'<bpmn:userTask id="{task}" name={quoteattr(f"Paso {i + 1}")}><bpmn:extensionElements>'
                   f'<spiffworkflow:properties><spiffworkflow:property name="form" value="{FORMS[i % len(FORMS)]}"/>'
                   f'</spiffworkflow:properties>{pre}</bpmn:extensionElements></bpmn:userTask>')
        out.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="{task}"/>')
        if flaws:
            out += _flaws(i, task, lanes)
        previous = task
    out.append(f'<bpmn:sequenceFlow id="f{stage[-1]}_fin" sourceRef="{previous}" targetRef="{last}"/>')
    return out


def _flaws(i: int, task: str, lanes: dict[str, list[str]]) -> list[str]:
    kind = i % FLAW_BLOCK
    if kind == 1:  # nothing leads to it
        lanes[LANES[0]].append(f"suelta{i}")
        return [f'<bpmn:manualTask id="suelta{i}" name="Tarea suelta {i}"/>']
    if kind == 2:  # its source does not exist
        return [f'<bpmn:sequenceFlow id="fx{i}" sourceRef="falta{i}" targetRef="{task}"/>']
    if kind == 3:  # an (unreachable) exclusive gateway whose flows have no condition
        lanes[LANES[0]].append(f"gw{i}")
        return [f'<bpmn:exclusiveGateway id="gw{i}"/>',
                f'<bpmn:sequenceFlow id="ga{i}" sourceRef="gw{i}" targetRef="{task}"/>',
                f'<bpmn:sequenceFlow id="gb{i}" sourceRef="gw{i}" targetRef="{task}"/>']
    if kind == 4:  # attached to nothing
        return [f'<bpmn:boundaryEvent id="b{i}" attachedToRef="nada{i}"><bpmn:timerEventDefinition>'
                '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>']
    return []  # 0: clean; 5: the pre-script, written with the task


def _diagram(process_id: str, stages: list[range], staged: bool, flaws: bool) -> list[str]:
    """bpmn-js's layout: the main plane (lanes, start, stages collapsed, end) and one plane per stage."""
    out = [f'<bpmndi:BPMNDiagram id="diagrama_{process_id}">',
           f'<bpmndi:BPMNPlane id="plano_{process_id}" bpmnElement="{process_id}">']
    width = _STEP_X * (2 + (len(stages) if staged else stages[0].stop))
    for index in range(len(LANES)):
        out.append(_shape(f"carril{index}", 0, index * _LANE_HEIGHT, width, _LANE_HEIGHT, ' isHorizontal="true"'))
    out.append(_shape("inicio", 50, 20, 36, 36))
    if staged:
        previous = ("inicio", 86)
        for number in range(1, len(stages) + 1):
            x = number * _STEP_X
            out.append(_shape(f"etapa{number}", x, 20, _TASK_WIDTH, _TASK_HEIGHT, ' isExpanded="false"'))
            out.append(_edge(f"etapa{number}_entra", previous[1], x, 60))
            previous = (f"etapa{number}", x + _TASK_WIDTH)
        end_x = (len(stages) + 1) * _STEP_X
        out.append(_shape("fin", end_x, 42, 36, 36))
        out.append(_edge("f_fin", previous[1], end_x, 60))
        out += ["</bpmndi:BPMNPlane>", "</bpmndi:BPMNDiagram>"]
        for number, stage in enumerate(stages, 1):
            out += [f'<bpmndi:BPMNDiagram id="diagrama_etapa{number}">',
                    f'<bpmndi:BPMNPlane id="plano_etapa{number}" bpmnElement="etapa{number}">',
                    _shape(f"etapa{number}_inicio", 50, 42, 36, 36),
                    *_tasks_layout(stage, f"etapa{number}_inicio", f"etapa{number}_fin", flaws),
                    "</bpmndi:BPMNPlane>", "</bpmndi:BPMNDiagram>"]
        return out
    out += _tasks_layout(stages[0], "inicio", "fin", flaws)
    return out + ["</bpmndi:BPMNPlane>", "</bpmndi:BPMNDiagram>"]


def _tasks_layout(stage: range, first: str, last: str, flaws: bool) -> list[str]:
    out, previous_right = [], 86
    for column, i in enumerate(stage, 1):
        x, y = column * _STEP_X, (i % len(LANES)) * _LANE_HEIGHT + 20
        out.append(_shape(f"t{i}", x, y, _TASK_WIDTH, _TASK_HEIGHT))
        out.append(_edge(f"f{i}", previous_right, x, y + _TASK_HEIGHT // 2))
        if flaws and i % FLAW_BLOCK in (1, 3):
            out.append(_shape(f"suelta{i}" if i % FLAW_BLOCK == 1 else f"gw{i}", x, y + _TASK_HEIGHT + 10, 50, 50))
        previous_right = x + _TASK_WIDTH
    end_x = (len(stage) + 1) * _STEP_X
    out.append(_shape(last, end_x, 42, 36, 36))
    out.append(_edge(f"f{stage[-1]}_fin", previous_right, end_x, 60))
    return out


def _shape(element: str, x: int, y: int, width: int, height: int, extra: str = "") -> str:
    return (f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}"{extra}>'
            f'<dc:Bounds x="{x}" y="{y}" width="{width}" height="{height}"/></bpmndi:BPMNShape>')


def _edge(flow: str, from_x: int, to_x: int, y: int) -> str:
    return (f'<bpmndi:BPMNEdge id="{flow}_di" bpmnElement="{flow}"><di:waypoint x="{from_x}" y="{y}"/>'
            f'<di:waypoint x="{to_x}" y="{y}"/></bpmndi:BPMNEdge>')
