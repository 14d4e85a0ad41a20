"""What a step may keep: the values a task adds are checked before it completes, and a case's state before
it is written (engine.values says what a value may be).

Two lines of defence. When a task has run, the values it added or changed (compared with its parent's data,
as SpiffWorkflow's delta does) are checked before the task completes: a bad value stops that task in ERROR,
like a failing script, so the case goes to `error` naming the element and a retry runs it again. When the
case is written, every value the serializer is about to store is checked, and the estimated size of the
whole state is bounded, before any JSON is produced: what slipped past the first line (a script that changed
a nested value in place, a post-script) is refused there, and the case is kept as it was.
"""
from __future__ import annotations

import weakref
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from engine.errors import ExpedienteError
from engine.messages import msg
from engine.values import DEFAULT_LIMITS, ValueLimits, ValueRejected, value_size

# Tasks a step did not touch are stored again as they were loaded. Cases written before values were checked may
# hold integers past 63 bits there (the serializer keeps them exactly, if slowly): such a case must still move
# on, so those tasks are held to what the serializer can write, not to the limits for new values.
STORED_BEFORE_LIMITS = ValueLimits(max_int_bits=13_000)  # ~3,900 digits: what a stored case can read back
_loaded: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

# Serialized bookkeeping of one task besides its data (ids, state, children, internal data), measured on the
# office's procedures (about 330 bytes); an over-estimate only brings the early refusal a little closer.
TASK_OVERHEAD_BYTES = 400


class StateRejected(ExpedienteError):
    """The case's state cannot be written: `element_id` names the task whose data holds the value."""

    code = "state_rejected"

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message, element_id=element_id)
        self.element_id = element_id


def element_of(task) -> str | None:
    """The task's BPMN element, or its process for SpiffWorkflow's own tasks (the root holds the intake data)."""
    return getattr(task.task_spec, "bpmn_id", None) or task.workflow.spec.name


def _changed(task):
    """(key, value) of the task's data that differ from its parent's: what SpiffWorkflow stores for it."""
    parent = task.parent.data if task.parent is not None else None
    for key, value in task.data.items():
        if parent is not None and key in parent:
            old = parent[key]
            if old is value:
                continue
            try:
                if type(old) is type(value) and old == value:
                    continue
            except Exception:  # noqa: BLE001 - cyclic or very deep values, signalling NaNs: not equal
                pass
        yield key, value


def _check_items(items, limits: ValueLimits, memo: dict) -> int:
    """Check (key, value) pairs of one task's data; return their estimated size."""
    total = 2
    for key, value in items:
        if type(key) is not str:
            raise ValueRejected("data", msg("las claves deben ser textos, no %(type)s", type=type(key).__name__))
        kind = type(value)
        if kind is str and len(value) <= 64 and value.isascii():  # most values: no call, no path
            total += len(key) + len(value) + 6
        elif kind is bool or value is None:
            total += len(key) + 9
        else:
            try:
                total += len(key) + 4 + value_size(value, limits, "data", memo)
            except ValueRejected:  # walk it again to name the path (only when refusing)
                value_size(value, limits, _path(key), {})
                raise
        if total > limits.max_bytes:
            raise ValueRejected("data", msg("los datos de la tarea ocuparían más de %(limit)s KiB",
                                            limit=f"{limits.max_bytes // 1024:,}"))
    return total


def _path(key: str) -> str:
    return f"data.{key}" if key.isidentifier() else f"data[{key!r}]"


def check_task_output(task, limits: ValueLimits = DEFAULT_LIMITS) -> None:
    """Refuse (ValueRejected, with the element) values a task added that a case cannot store."""
    try:
        _check_items(_changed(task), limits, {})
    except ValueRejected as exc:
        exc.details["element_id"] = element_of(task)
        raise


def scrub_errored(tasks, limits: ValueLimits = DEFAULT_LIMITS) -> None:
    """Give tasks in ERROR back the parent's value of every key they hold that cannot be stored.

    A failed task runs again on retry, so what it added is recomputed; its unstorable values (left by the
    check above, or by a script that failed after assigning one) must not stop the error from being saved.
    """
    for task in tasks:
        if task.state != TaskState.ERROR:
            continue
        parent = task.parent.data if task.parent is not None else {}
        memo: dict = {}
        for key, value in list(_changed(task)):
            try:
                _check_items([(key, value)], limits, memo)
            except ValueRejected:
                if key in parent:
                    task.data[key] = parent[key]
                else:
                    del task.data[key]
        try:
            _check_items(_changed(task), limits, memo)
        except ValueRejected:  # each value fits but not all together: back to what the task received
            for key, _value in list(_changed(task)):
                if key in parent:
                    task.data[key] = parent[key]
                else:
                    del task.data[key]


def mark_loaded(wf) -> None:
    """Remember which tasks a loaded workflow holds and when each last changed (see STORED_BEFORE_LIMITS)."""
    _loaded[wf] = {str(task.id): task.last_state_change
                   for workflow in (wf, *wf.subprocesses.values()) for task in workflow.tasks.values()}


def check_serialized(wf, dct: dict, max_state_bytes: int, limits: ValueLimits = DEFAULT_LIMITS) -> int:
    """Check every value in the serializer's dict of `wf` (before it becomes JSON); return the estimated size.

    The dict holds each task's data as SpiffWorkflow stores it (the root's in full, the others' as a delta
    against their parent), so this walks exactly what will be written. Containers shared between tasks are
    walked once (one memo); they count once per place they are written.
    """
    loaded = _loaded.get(wf, {})
    memos: dict = {limits: {}, STORED_BEFORE_LIMITS: {}}  # a value fine by one limit is not by the other
    total = 0
    largest = (0, None)
    for holder, workflow in _holders(wf, dct):
        part_limits = STORED_BEFORE_LIMITS if loaded else limits
        total += _check_part(holder.get("data") or {}, part_limits, memos[part_limits], None, None)
        for task_id, task in holder["tasks"].items():
            data = task.get("data") or (task.get("delta") or {}).get("updates") or {}
            unchanged = task_id in loaded and loaded[task_id] == task.get("last_state_change")
            part_limits = STORED_BEFORE_LIMITS if unchanged else limits
            size = _check_part(data, part_limits, memos[part_limits], workflow, task_id) + TASK_OVERHEAD_BYTES
            total += size
            if size > largest[0]:
                largest = (size, (workflow, task_id))
    if total > max_state_bytes:
        workflow, task_id = largest[1]
        raise StateRejected(msg("los datos del expediente ocuparían unos %(size)s KiB; el máximo es %(limit)s KiB "
                                "(¿un script construyó valores muy grandes?)", size=f"{total // 1024:,}",
                                limit=f"{max_state_bytes // 1024:,}"), _element(workflow, task_id))
    return total


def _holders(wf, dct: dict):
    yield dct, wf
    for sub_id, sub in (dct.get("subprocesses") or {}).items():
        yield sub, _subprocess(wf, sub_id)


def _subprocess(wf, sub_id: str):
    return wf.subprocesses.get(UUID(sub_id))


def _element(workflow, task_id) -> str | None:
    task = workflow.tasks.get(UUID(task_id)) if workflow is not None and task_id is not None else None
    return element_of(task) if task is not None else None


def _check_part(data: dict, limits: ValueLimits, memo: dict, workflow, task_id) -> int:
    try:
        return _check_items(data.items(), limits, memo)
    except ValueRejected as exc:
        raise StateRejected(exc.message, _element(workflow, task_id)) from exc


__all__ = ["StateRejected", "TASK_OVERHEAD_BYTES", "STORED_BEFORE_LIMITS", "check_task_output", "scrub_errored",
           "mark_loaded", "check_serialized", "element_of"]
