"""Migrating a case by swapping the spec under its live task tree: the second way of engine/runtime/migration.py.

The move-based way rebuilds the case on the new version at one element, so it refuses a case waiting in several
places at once (parallel branches: a licence waiting for the PNC's and the coordinator's opinions, a mediation
waiting for its certificates while the sessions are prepared), a case waiting at a receive task, a message or timer
catch or an event-based gateway, and positions inside parallel branches. Those keep their tree here instead: the
stored document names each task's spec by name, so it is rewritten to name the new version's specs and loaded on the
new version (SpiffWorkflow rebuilds every task from its spec by name). Task ids do not change: the rows of the tasks,
timers and message waits stay the case's, the institution's reply link still reaches its receive task.

Rules, on the serializer's dict (`rewrite`), with the mapping (old element id -> new; a spec `old` or `old.<suffix>`,
such as `x.BoundaryEventSplit`, becomes `new` or `new.<suffix>`; any other name stays):

- a *live* task (waiting, ready, started or in error, or future below a finished task) needs a spec of its name in
  the new version of the same kind (the same SpiffWorkflow class; for events also the same kind of event: a timer
  stays a timer, a receive task does not become a user task) and with the same boundary events (their split is
  already in the tree); otherwise the case is refused, naming the element by name and id;
- a *finished task a live one hangs from* (the parent of a live task) needs its spec too: a parallel join counts a
  branch by its completed last task's spec, a boundary event's join looks up its split;
- a *predicted* task (maybe, likely; or future below a task that has not finished: SpiffWorkflow predicts the whole
  way ahead of a waiting task as future, by the old diagram) is dropped with what hangs from it, whatever its spec,
  and the task above it predicts again by the new diagram (kept, an old prediction that the new diagram does not
  follow would make the task's completion fail: SpiffWorkflow refuses to drop a future child that its spec no
  longer has);
- any *other finished task* (the spine the pruning keeps: engine/runtime/pruning.py) whose spec is gone is re-pointed
  to its process's start (`Start`). Finished tasks never run again; the start task has no element id, so it adds no
  visit, no legal deadline mark and no done mark on the diagram, and no join or gateway ever looks up a start task.
  Re-pointing to the nearest kept ancestor's spec instead would make that element look done twice and could satisfy a
  lookup (`find_ancestor`, a join's count) that should not be;
- a subprocess goes with its call activity: its tasks follow the same rules against the process the new call
  activity calls; a *finished* call activity's subprocess that the new version cannot load is dropped (nothing runs
  it again; its history is in the events);
- the names of the elements done in the pruned part (DONE_KEY) are mapped too.

The caller loads the rewritten text on the new version (`swap`), runs it as a step does but without refreshing its
timers (`run`: a timer already due fires through the scheduler, with its row and history, not inside the migration),
and checks that it loads again the same (`round_trip_problem`). Timers keep their due moments (their time started
before the migration) and a kept task keeps its due date; what the new version says of a kept task, timer or wait
(element, title, lane and group, form, message name) is rewritten in its rows (engine/storage/swap_rows.py). Undo puts
the stored text back (engine/usecases/case_migration_apply.py), the same ids again.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from engine.messages import msg
from engine.runtime import serializer
from engine.runtime.migration import kind_of
from engine.runtime.pruning import DONE_KEY, subtree
from engine.runtime.runner import all_tasks

START = "Start"
_PREDICTED = int(TaskState.PREDICTED_MASK)
_LIVE = int(TaskState.DEFINITE_MASK | TaskState.ERROR)  # future, waiting, ready, started, error
_FINISHED = int(TaskState.FINISHED_MASK)


class Refused(Exception):
    """The case cannot be swapped: `message` says why, in Spanish."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _kind_labels() -> dict[str, str]:
    return {"user": msg("una tarea de usuario"), "manual": msg("una tarea manual"), "call": msg("un subproceso"),
            "receive": msg("una tarea de recepción"), "catch": msg("un evento de espera"),
            "join": msg("una compuerta"), "other": msg("otro tipo de elemento")}


def _event_kind(task_spec) -> str:
    definition = getattr(task_spec, "event_definition", None)
    return type(definition).__name__ if definition is not None else ""


def _compatible(old, new) -> bool:
    return type(old).__name__ == type(new).__name__ and _event_kind(old) == _event_kind(new)


def _label(task_spec) -> str:
    label = _kind_labels()[kind_of(task_spec)]
    event = _event_kind(task_spec)
    for prefix, word in (("Timer", msg("tiempo")), ("Message", msg("mensaje")), ("Signal", msg("señal"))):
        if event.startswith(prefix):
            return msg("%(kind)s de %(event)s", kind=label, event=word)
    return label


def _element(specs: dict, name: str) -> tuple[str, str]:
    """(name, id) of the element the spec `name` of `specs` stands for (a boundary event's split or join stands for
    its task's element)."""
    task_spec = specs.get(name)
    if getattr(task_spec, "bpmn_id", None) is None:
        task_spec = specs.get(name.rpartition(".")[0]) or task_spec
    element_id = getattr(task_spec, "bpmn_id", None) or name.rpartition(".")[0] or name
    return (getattr(task_spec, "bpmn_name", None) or element_id), element_id


def _boundary(task_spec) -> frozenset[str]:
    """The names of the boundary events waiting with a task (its split's other outputs), as specs name them."""
    for parent in getattr(task_spec, "inputs", ()):
        if type(parent).__name__ == "BoundaryEventSplit":
            return frozenset(o.name for o in parent.outputs if o is not task_spec)
    return frozenset()


def renamed(name: str, mapping: dict[str, str]) -> str:
    if name in mapping:
        return mapping[name]
    head, dot, tail = name.rpartition(".")
    if dot and head in mapping:
        return f"{mapping[head]}.{tail}"
    return name


def _missing(old_specs: dict, name: str) -> Refused:
    shown, element_id = _element(old_specs, name)
    return Refused(msg("el paso «%(name)s» (%(element)s) no tiene correspondencia en la nueva versión; indíquela a "
                       "mano", name=shown, element=element_id))


def _predicted(tasks: dict, task: dict) -> bool:
    """Whether a task only stands for what may come: predicted, or future below a task that has not finished
    (SpiffWorkflow predicts the whole way ahead of a waiting task as future, by the old diagram)."""
    if task["state"] & _PREDICTED:
        return True
    parent = tasks.get(task["parent"])
    return bool(task["state"] & TaskState.FUTURE) and parent is not None and not parent["state"] & _FINISHED


def _rewrite_holder(holder: dict, old_specs: dict, new_specs: dict, mapping: dict[str, str]) -> None:
    """Rewrite one process's tasks in place (the rules above); Refused if it cannot."""
    tasks: dict = holder["tasks"]
    drop: set[str] = set()
    for tid, task in tasks.items():
        if tid not in drop and _predicted(tasks, task):
            drop |= subtree(tasks, tid)
    for tid in drop:
        parent = tasks[tid]["parent"]
        if parent in tasks and parent not in drop:
            tasks[parent]["children"] = [c for c in tasks[parent]["children"] if c != tid]
    for tid in drop:
        del tasks[tid]
    if holder.get("last_task") in drop:
        holder["last_task"] = None
    for task in tasks.values():
        name = task["task_spec"]
        new_name = renamed(name, mapping)
        new, old = new_specs.get(new_name), old_specs.get(name)
        if task["state"] & _LIVE or any(tasks[c]["state"] & _LIVE for c in task["children"] if c in tasks):
            if new is None:
                raise _missing(old_specs, name)
            if old is not None and not _compatible(old, new):
                shown, element_id = _element(old_specs, name)
                raise Refused(msg("el paso «%(name)s» (%(element)s) es %(old)s y en la nueva versión es %(new)s; "
                                  "no se migra", name=shown, element=element_id, old=_label(old), new=_label(new)))
            if old is not None and {renamed(n, mapping) for n in _boundary(old)} != _boundary(new):
                # The split that made the boundary events wait is in the tree already: added or removed events
                # would never wait, or be waited for by a join that cannot find them.
                shown, element_id = _element(old_specs, name)
                raise Refused(msg("los eventos de borde del paso «%(name)s» (%(element)s) cambian en la nueva "
                                  "versión; no se migra mientras espera allí", name=shown, element=element_id))
            task["task_spec"] = new_name
        else:
            task["task_spec"] = new_name if new is not None else START


def _pruned(children_before: dict[str, set], tasks: dict) -> set[str]:
    """The tasks that lost children (dropped predictions)."""
    return {tid for tid, kids in children_before.items() if tid in tasks and kids - set(tasks[tid]["children"])}


def rewrite(dct: dict, old_wf, new_spec, new_subs: dict, mapping: dict[str, str]) -> set[str]:
    """Rewrite a stored document (serializer.read_document) to name `new_spec`'s and `new_subs`' specs, in place.
    Returns the ids of the tasks whose predicted children were dropped (to predict again). Refused if it cannot."""
    old_specs = old_wf.spec.task_specs
    before = {tid: set(t["children"]) for tid, t in dct["tasks"].items()}
    _rewrite_holder(dct, old_specs, new_spec.task_specs, mapping)
    repredict = _pruned(before, dct["tasks"])
    where = {tid: (dct, new_spec) for tid in dct["tasks"]}
    subprocesses: dict = dct.get("subprocesses") or {}
    pending = dict(subprocesses)
    while pending:
        ready = [sid for sid in pending if sid in where]
        if not ready:  # their call activities are gone (dropped predictions): nothing can reach them
            for sid in pending:
                del subprocesses[sid]
            break
        for sid in ready:
            sub = pending.pop(sid)
            holder, spec = where[sid]
            call_task = holder["tasks"][sid]
            call_spec = spec.task_specs.get(call_task["task_spec"])
            called = call_spec.spec if isinstance(call_spec, SubWorkflowTask) else None
            live = bool(call_task["state"] & _LIVE)
            sub_spec = new_subs.get(called) if called else None
            old_sub = old_wf.subprocess_specs.get(sub.get("spec"))
            try:
                if sub_spec is None or old_sub is None:
                    raise _missing(spec.task_specs, call_task["task_spec"])
                kids = {tid: set(t["children"]) for tid, t in sub["tasks"].items()}
                _rewrite_holder(sub, old_sub.task_specs, sub_spec.task_specs, mapping)
            except Refused:
                if live:
                    raise
                del subprocesses[sid]  # a finished call's subprocess the new version cannot load: never run again
                continue
            sub["spec"] = called
            repredict |= _pruned(kids, sub["tasks"])
            where.update({tid: (sub, sub_spec) for tid in sub["tasks"]})
    if dct.get(DONE_KEY):
        dct[DONE_KEY] = sorted({renamed(name, mapping) for name in dct[DONE_KEY]})
    return repredict


def swap(runtime, text: str, old_wf, new_spec, new_subs: dict, mapping: dict[str, str]):
    """The case stored as `text` (its workflow `old_wf`) on `new_spec`, loaded and predicted again but not yet run
    (the caller advances it as a step does). Refused says why it cannot."""
    dct = serializer.read_document(text)
    repredict = rewrite(dct, old_wf, new_spec, new_subs, mapping)
    wf = runtime.attach(serializer.load_workflow(serializer.write_document(dct), new_spec, new_subs))
    if repredict:
        with runtime._running():
            for task in list(all_tasks(wf)):
                if str(task.id) in repredict and task.state & TaskState.NOT_FINISHED_MASK:
                    task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    return wf


def run(runtime, wf):
    """Run the swapped workflow as a step does (engine steps: what the new diagram makes ready runs), but without
    refreshing its timers: one already due fires through the scheduler as always (its row kept, marked fired, with
    its history), not as a side effect of the migration. The failure that stopped it, or None."""
    wf.refresh_timers = lambda: None  # the instance attribute shadows the method for this run
    try:
        return runtime.advance(wf)
    finally:
        del wf.refresh_timers


def fingerprint(runtime, wf) -> tuple:
    """What must survive a save and a load: the unfinished tasks (id, spec, state), waiting timers and catches."""
    live = sorted((str(t.id), t.task_spec.name, t.state) for t in all_tasks(wf) if t.state & _LIVE)
    return live, sorted(runtime.waiting_timers(wf).items()), sorted(runtime.waiting_messages(wf).items())


def round_trip_problem(runtime, wf, new_spec, new_subs: dict) -> str | None:
    """Why the swapped workflow would not load again as it is (a Spanish message), or None."""
    try:
        again = runtime.attach(serializer.load_workflow(serializer.dump_workflow(wf), new_spec, new_subs))
        if fingerprint(runtime, again) == fingerprint(runtime, wf):
            return None
        reason = msg("las tareas pendientes no coinciden")
    except Exception as exc:  # noqa: BLE001 - any failure to load again refuses the case, with its reason
        reason = str(exc)[:300]
    return msg("la nueva versión no vuelve a leer el expediente migrado: %(reason)s", reason=reason)
