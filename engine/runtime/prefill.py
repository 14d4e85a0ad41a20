"""Which of the case's values a task's form opens with: only those its diagram declares.

A user task's property `prefill` names them: "all" (a step that reviews or corrects the case's data), or field
names separated by commas or spaces (a signer's form that opens with the draft an earlier step wrote under the
same names). Without it the form opens empty (or with its schema's defaults): a task repeated in a case, such as
a second notification, never shows the first one's answers as if they were its own. A draft the clerk saved for
the task itself is restored whatever this says (engine.usecases.tasks).
"""
from __future__ import annotations

from uuid import UUID

from engine.runtime.runner import current_data

PREFILL_PROPERTY = "prefill"
PREFILL_ALL = "all"


def prefill_fields(task_spec) -> tuple[str, ...] | str:
    """The fields a task spec declares to pre-fill: PREFILL_ALL, or a tuple of names (empty without one)."""
    props = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    raw = (props.get(PREFILL_PROPERTY) or "").strip()
    if raw.lower() == PREFILL_ALL:
        return PREFILL_ALL
    return tuple(name for name in raw.replace(",", " ").split() if name)


def prefilled(wf, task_id: str) -> dict:
    """The case's current values that the task `task_id` of `wf` declares to pre-fill ({} without a declaration
    or for a task the workflow no longer holds)."""
    task = wf.get_task_from_id(UUID(task_id))
    fields = prefill_fields(task.task_spec) if task is not None else ()
    if not fields:
        return {}
    data = current_data(wf)
    if fields == PREFILL_ALL:
        return data
    return {key: data[key] for key in fields if key in data}
