"""Moving a running case to another version of its procedure, on its workflows in memory.

A case's workflow is tied to its version's spec (SpiffWorkflow rebuilds every task from its spec by name), so a case
cannot simply be loaded on the new version's spec. A migration therefore builds the case anew on the new version and
grafts its position there, with the machinery of a move inside a version (engine/runtime/moves.py):

1. the case's *position* is where its top-level process waits: the user, manual and receive tasks, the catch
   events, the running call activities (a running subprocess stands for its call activity) and the joins waiting
   for a branch (`waiting_elements`); the boundary events wait with their task and follow it;
2. each position is mapped to an element of the new version: by id when the new version has that id with a
   compatible kind (`auto_mapping`), otherwise by the supervisor's hand mapping;
3. a fresh workflow of the new version is started (its implicit start only: no script runs), every unfinished task
   below it is removed, and a task of the mapped element is grafted there with **all** the case's data, then run
   until it waits (a call activity starts its subprocess over from its start); a timer the case waited for that
   waits again (the same element) keeps its due moment (`keep_timers`).

What a move cannot do reliably is refused with a reason (`plan_problem`): a position without a mapping, a case waiting
in several places at once (parallel branches: their join would count tokens that never arrive), a target that a move
could not reach either (moves.target_problem). Those cases (but one that waits nowhere) go the second way instead,
engine/runtime/spec_swap.py: their live task tree is kept and its specs swapped for the new version's. The old
workflow is left untouched: the caller keeps its text for undo.
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.errors import ExpedienteError
from engine.messages import msg
from engine.runtime import moves
from engine.runtime.runner import Failure, all_tasks, current_data

_WAITING = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Specs that never stand for a position: they wait with, or before, another task.
_FOLLOWERS = frozenset({"BoundaryEvent", "BoundaryEventSplit", "BoundaryEventJoin", "BpmnStartTask", "StartEvent"})


@dataclass(frozen=True)
class Element:
    """An element of a version's top-level process: id, name and kind (user, manual, call, receive, catch, join,
    other)."""

    element_id: str
    name: str
    kind: str


def kind_of(task_spec) -> str:
    name = type(task_spec).__name__
    if isinstance(task_spec, SubWorkflowTask):
        return "call"
    if name == "UserTask":
        return "user"
    if name == "ManualTask" or getattr(task_spec, "manual", False):
        return "manual"
    if name == "ReceiveTask":
        return "receive"
    if name in ("IntermediateCatchEvent", "EventBasedGateway"):
        return "catch"
    if "Gateway" in name or "Join" in name:
        return "join"
    return "other"


def elements(spec) -> dict[str, Element]:
    """The elements of `spec`'s top-level process that a case may wait at, by id, in the diagram's order."""
    found = {}
    for task_spec in spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None)
        if not element_id or type(task_spec).__name__ in _FOLLOWERS or element_id in found:
            continue
        kind = kind_of(task_spec)
        if kind in ("other", "join"):
            continue
        found[element_id] = Element(element_id, getattr(task_spec, "bpmn_name", None) or element_id, kind)
    return found


def waiting_elements(wf) -> list[Element]:
    """Where the case's top-level process waits, sorted by element id."""
    found = {}
    for task in wf.tasks.values():
        spec = task.task_spec
        element_id = getattr(spec, "bpmn_id", None)
        if not element_id or not task.state & _WAITING or type(spec).__name__ in _FOLLOWERS:
            continue
        found[element_id] = Element(element_id, getattr(spec, "bpmn_name", None) or element_id, kind_of(spec))
    return [found[k] for k in sorted(found)]


def auto_mapping(old_elements: dict[str, Element], new_elements: dict[str, Element]) -> dict[str, str]:
    """old element id -> the same id in the new version, where it exists with the same kind."""
    return {e: e for e, old in old_elements.items() if e in new_elements and new_elements[e].kind == old.kind}


def plan_problem(positions: list[Element], mapping: dict[str, str], new_spec, new_subs: dict) -> str | None:
    """Why a case at `positions` cannot move to the new version with `mapping` (a Spanish message), or None."""
    if not positions:
        return msg("el expediente no espera en ningún paso del proceso principal")
    if len(positions) > 1:
        return msg("el expediente espera en varios pasos a la vez (%(elements)s): ramas paralelas no se migran",
                   elements=", ".join(p.element_id for p in positions))
    [position] = positions
    target = mapping.get(position.element_id)
    if not target:
        return msg("el paso «%(element)s» no tiene correspondencia en la nueva versión; indíquela a mano",
                   element=position.element_id)
    return moves.target_problem(new_spec, new_subs, target)


def migrate(runtime, old_wf, new_spec, new_subs: dict, target: str):
    """A new workflow of `new_spec` at `target` (checked with plan_problem first) carrying all of `old_wf`'s data,
    run until it waits: (workflow, None), or (None, the failure that stopped it)."""
    data = current_data(old_wf)
    wf = runtime.new_workflow(new_spec, new_subs, data)
    start = wf.task_tree
    try:
        with runtime._running():
            start.run()  # the implicit start only: its children are predicted, nothing of the diagram runs
    except (SpiffWorkflowException, ExpedienteError) as exc:
        return None, Failure(target, getattr(exc, "message", None) or str(exc))
    wf.last_task = start
    failure = moves.move(runtime, wf, target)
    if failure is not None:
        return None, failure
    keep_timers(old_wf, wf)
    return wf, None


def _waiting_timers(wf) -> dict[str, list]:
    found: dict[str, list] = {}
    for task in all_tasks(wf):
        definition = getattr(task.task_spec, "event_definition", None)
        if task.state == TaskState.WAITING and isinstance(definition, TimerEventDefinition):
            found.setdefault(task.task_spec.bpmn_id, []).append(task)
    return found


def keep_timers(old_wf, new_wf) -> None:
    """A timer the case waited for that waits again after the migration (the same element) keeps its due moment: the
    time it measures (an appeal window, an institution's deadline) started before the migration and is not given
    again. Timers new to the case count from now."""
    old = _waiting_timers(old_wf)
    for element, tasks in _waiting_timers(new_wf).items():
        values = [t._get_internal_data("event_value") for t in old.get(element, [])]
        if len(tasks) == 1 and len(values) == 1 and values[0] is not None:
            tasks[0]._set_internal_data(event_value=deepcopy(values[0]))
