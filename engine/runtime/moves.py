"""Moving a running case to another step (like Camunda's process instance modification), on its workflow in memory.

SpiffWorkflow can only reset to a task still in the tree (`reset_from_task_id`), and our saves prune the finished
part of the tree (engine/runtime/pruning.py), so an earlier step is usually no longer there. A move therefore
*grafts* instead, the same way backwards and forwards:

1. the case's current data is taken (the last completed task's, with every live branch's over it);
2. the *anchor* is the deepest completed task above every unfinished or errored task of the top-level process;
   every unfinished task below it is removed from the tree (with the subprocesses they started and the events
   they waited for), and so is every errored one;
3. a new task of the target's spec (of its boundary-event split when the target has boundary events, so they
   wait again with it) is added under the anchor with the case's data, and made ready; then the workflow runs
   until it waits (a call activity starts its subprocess over from its start).

Removing rather than cancelling keeps a parallel gateway from counting the old branches' tokens later. What
cannot be done reliably is refused with a reason (`target_problem`): a step that is not a user task, manual
task or call activity of the top-level process, a multi-instance or looping step, a step inside parallel
branches (the join would wait for branches that never run).
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.errors import ExpedienteError
from engine.messages import msg
from engine.runtime.runner import Failure, all_tasks, current_data

_OPEN = TaskState.NOT_FINISHED_MASK | TaskState.ERROR


@dataclass(frozen=True)
class MoveTarget:
    """A step a case may be moved to: its element id, name and kind ("user", "manual" or "call")."""

    element_id: str
    name: str
    kind: str


def _kind(task_spec) -> str | None:
    if isinstance(task_spec, SubWorkflowTask):
        return "call"
    if getattr(task_spec, "manual", False):
        return "user" if type(task_spec).__name__ == "UserTask" else "manual"
    return None


def _specs_of(spec, element_id: str) -> list:
    return [s for s in spec.task_specs.values() if getattr(s, "bpmn_id", None) == element_id]


def move_targets(spec) -> list[MoveTarget]:
    """The steps of the top-level process a case may be moved to, in the diagram's order."""
    found = []
    for task_spec in spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None)
        if element_id and _kind(task_spec) and target_problem(spec, {}, element_id) is None:
            found.append(MoveTarget(element_id, task_spec.bpmn_name or element_id, _kind(task_spec)))
    return found


def target_problem(spec, subprocess_specs: dict, element_id: str) -> str | None:
    """Why a case of `spec` cannot be moved to `element_id` (a Spanish message), or None."""
    specs = _specs_of(spec, element_id)
    if not specs:
        if any(_specs_of(sub, element_id) for sub in subprocess_specs.values()):
            return msg("el paso «%(element)s» está dentro de un subproceso; mueva el expediente al subproceso "
                       "(que empieza de nuevo) o a un paso del proceso principal", element=element_id)
        return msg("el procedimiento no tiene el paso «%(element)s»", element=element_id)
    if any(isinstance(s, LoopTask) for s in specs):
        return msg("el paso «%(element)s» es de instancias múltiples o se repite en bucle; no se puede mover a él",
                   element=element_id)
    task_spec = specs[0]
    if _kind(task_spec) is None:
        return msg("el paso «%(element)s» no es una tarea de usuario, tarea manual ni subproceso", element=element_id)
    if _inside_parallel_branches(task_spec):
        return msg("el paso «%(element)s» está dentro de ramas paralelas; su unión esperaría ramas que no se "
                   "ejecutarán", element=element_id)
    return None


def _inside_parallel_branches(task_spec) -> bool:
    """Whether a parallel or inclusive join is reached from the step before any parallel or inclusive split."""
    seen, stack = set(), list(task_spec.outputs)
    while stack:
        current = stack.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if isinstance(current, (ParallelGateway, InclusiveGateway)):
            if len(current.inputs) > 1:
                return True
            if len(current.outputs) > 1:
                continue  # a split: what lies beyond is a fork of its own
        stack.extend(current.outputs)
    return False


def open_tasks(wf) -> list:
    """The unfinished and errored tasks of the top-level process (a running call activity stands for its
    subprocess)."""
    return [t for t in wf.tasks.values() if t.state & _OPEN]


def errored_elements(wf) -> list[str]:
    """The element ids of the case's errored tasks (a move closes them)."""
    return sorted({t.task_spec.bpmn_id for t in all_tasks(wf) if t.state == TaskState.ERROR})


def element_names(wf) -> dict[str, str]:
    """Element id -> name over the process and the processes it calls (for saying what a move closes)."""
    names = {}
    for spec in [*wf.subprocess_specs.values(), wf.spec]:
        for task_spec in spec.task_specs.values():
            element_id = getattr(task_spec, "bpmn_id", None)
            if element_id:
                names[element_id] = getattr(task_spec, "bpmn_name", None) or element_id
    return names


def move(runtime, wf, element_id: str) -> Failure | None:
    """Move `wf` to the step `element_id` (checked with target_problem first), then run it until it waits.
    Returns the failure that stopped the move (the workflow is then to be discarded), or None."""
    task_spec = _specs_of(wf.spec, element_id)[0]
    data = deepcopy(current_data(wf))
    anchor = _anchor(wf)
    if anchor is None:
        return Failure(element_id, msg("no se encontró desde dónde mover el expediente"))
    _remove_open(wf, anchor)
    inputs = task_spec.inputs
    graft_spec = inputs[0] if len(inputs) == 1 and isinstance(inputs[0], BoundaryEventSplit) else task_spec
    graft = anchor._add_child(graft_spec, TaskState.FUTURE)
    graft.data = data
    # The new task must start from the case's data as it is now, not from the anchor's (older) data that
    # SpiffWorkflow's _update_hook would merge over it; the instance attribute shadows the method for this call.
    graft._inherit_data = lambda: None
    try:
        with runtime._running():
            # As Task.reset_branch does: predict what follows the new task, then let it become ready.
            graft.task_spec._predict(graft, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
            graft.task_spec._update(graft)
    except (SpiffWorkflowException, ExpedienteError) as exc:
        return Failure(element_id, getattr(exc, "message", None) or str(exc))
    finally:
        del graft._inherit_data
    wf.last_task = anchor
    return runtime.advance(wf)


def _anchor(wf):
    """The deepest completed task above every open task (the task tree's root when nothing is open)."""
    chains = []
    for task in open_tasks(wf):
        chain, current = [], task
        while current is not None:
            chain.append(current)
            current = current.parent
        chains.append(chain[::-1])
    if not chains:
        return None
    common = None
    for level in zip(*chains):
        if any(t is not level[0] for t in level):
            break
        common = level[0]
    while common is not None and common.state != TaskState.COMPLETED:
        common = common.parent
    return common


def _remove_open(wf, anchor) -> None:
    """Take every unfinished or errored task below `anchor` out of the tree, with what they started or awaited."""
    doomed = [t for t in open_tasks(wf) if t.is_descendant_of(anchor)]
    top = [t for t in doomed if not any(t is not o and t.is_descendant_of(o) for o in doomed)]
    for task in top:
        if task.id not in wf.tasks:
            continue
        for gone in list(task):  # the task and its subtree (walked with the library's cap: predictions only)
            wf.event_manager.remove_task(gone)
            if gone.id in wf.subprocesses:
                for sub_task in wf.delete_subprocess(gone):
                    wf.event_manager.remove_task(sub_task)
        wf._remove_task(task.id)
