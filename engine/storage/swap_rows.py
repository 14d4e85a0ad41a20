"""The projection rows of a case migrated by swapping its spec (engine/runtime/spec_swap.py), and of its undo.

A swap keeps the task ids, so the step's projection (persistence.project, by id) sees the same ready tasks, timers and
message waits before and after and leaves their rows alone. What the new version says of them may differ all the
same (a renamed element, a new title, another lane and so another group, another form, another message name): those
rows are brought in line here, in place (the inbox follows through its triggers). A task's due moment is kept: its
time started before the migration, as a waiting timer's does.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select, update

from engine.storage import models
from engine.storage.message_rows import dumps
from engine.storage.persistence import _candidate_group_subquery

_tasks, _timers, _waits = models.tasks, models.timers, models.message_waits

_UPDATE_TASK = (update(_tasks).where(_tasks.c.id == bindparam("b_id"), _tasks.c.state == "ready")
                .values(element_id=bindparam("b_element"), title=bindparam("b_title"), lane=bindparam("b_lane_value"),
                        form_key=bindparam("b_form"), document_kind=bindparam("b_document"),
                        candidate_group=_candidate_group_subquery()))
_UPDATE_TIMER = (update(_timers).where(_timers.c.id == bindparam("b_id"), _timers.c.state == "waiting")
                 .values(element_id=bindparam("b_element")))
_UPDATE_WAIT = (update(_waits).where(_waits.c.id == bindparam("b_id"), _waits.c.state == "waiting")
                .values(element_id=bindparam("b_element"), kind=bindparam("b_kind"), name=bindparam("b_name"),
                        keys_json=bindparam("b_keys")))


def _described(task) -> tuple:
    return task.element_id, task.title[:300], task.lane, task.form_key, task.document_kind


def redescribe(conn, case_id: int, process_key: str, before, after) -> int:
    """Rewrite the rows of the tasks, timers and waits present in both snapshots (persistence.Snapshot) whose
    description changed; how many rows changed."""
    changed = 0
    old = {t.id: t for t in before.tasks}
    rows = [t for t in after.tasks if t.id in old and _described(old[t.id]) != _described(t)]
    if rows:
        present = set(conn.execute(select(_tasks.c.id).where(_tasks.c.case_id == case_id,
                                                             _tasks.c.id.in_([t.id for t in rows]))).scalars())
        for task in rows:
            if task.id in present:
                conn.execute(_UPDATE_TASK, {"b_id": task.id, "b_element": task.element_id[:200],
                                            "b_title": task.title[:300], "b_lane_value": task.lane,
                                            "b_lane": task.lane, "b_process_key": process_key,
                                            "b_form": task.form_key, "b_document": task.document_kind})
                changed += 1
    for tid, (element, _due) in after.timers.items():
        if tid in before.timers and before.timers[tid][0] != element:
            conn.execute(_UPDATE_TIMER, {"b_id": tid, "b_element": element[:200]})
            changed += 1
    for tid, (element, kind, name, keys) in after.waits.items():
        if tid in before.waits and tuple(before.waits[tid]) != (element, kind, name, keys):
            conn.execute(_UPDATE_WAIT, {"b_id": tid, "b_element": element[:200], "b_kind": kind,
                                        "b_name": name[:200], "b_keys": dumps(keys)})
            changed += 1
    return changed
