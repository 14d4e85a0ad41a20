"""The elements a step passed, as rows of element_visits, and the designated facts it set, as rows of case_facts:
written in the step's transaction by persistence.project (the heat map's and the LAIP report's source).

A visit is a task of the SpiffWorkflow tree (the process's or a called process's) that reached COMPLETED in this
step, for every BPMN element (tasks, gateways, events, script tasks; not SpiffWorkflow's own Start/End/Root
specs, which have no BPMN id). Its previous element is the nearest ancestor in the tree with a BPMN id (the flow
taken); it started when that element ended: now if it completed in this step too, else at that element's last
recorded end (an indexed probe inside the insert), else unknown.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from SpiffWorkflow.util.task import TaskState

from engine.runtime.runner import all_tasks
from engine.storage import models

_visits, _facts, _cases = models.element_visits, models.case_facts, models.cases

# Values of a case's data the reports count, recorded when the task that set them completes. The LAIP resolution's
# outcome (forms/laip_resolucion.schema.json) says what was denied and why; the review's decision, how it ended.
FACT_KEYS = ("laip_sentido", "laip_revision_decision")
FACT_MAX = 200

_VERSION_OF_CASE = select(_cases.c.process_version_id).where(_cases.c.id == bindparam("b_case")).scalar_subquery()
_INSERT_VISITS = insert(_visits).values(process_version_id=_VERSION_OF_CASE)
# A visit whose previous element waited since an earlier step starts at that element's last recorded end, read by the
# insert itself (b_since: that element; b_started: the start when known, else NULL).
_SINCE = (select(func.max(_visits.c.ended_at))
          .where(_visits.c.case_id == bindparam("b_case"), _visits.c.element_id == bindparam("b_since"))
          .scalar_subquery())
_INSERT_VISITS_SINCE = insert(_visits).values(
    process_version_id=_VERSION_OF_CASE,
    started_at=func.coalesce(bindparam("b_started", type_=_visits.c.started_at.type), _SINCE))
_LAST_ENDS = (select(_visits.c.element_id, func.max(_visits.c.ended_at))
              .where(_visits.c.case_id == bindparam("b_case"),
                     _visits.c.element_id.in_(bindparam("b_elements", expanding=True)))
              .group_by(_visits.c.element_id))


def completed(wf) -> dict:
    """Completed tasks of the workflow with a BPMN id, by task id (the objects: a later snapshot of the same
    workflow sees their state then)."""
    return {task.id: task for task in all_tasks(wf)
            if task.state == TaskState.COMPLETED and getattr(task.task_spec, "bpmn_id", None)}


def _previous(task):
    """The nearest ancestor with a BPMN id (the element the flow came from), or None."""
    parent = task.parent
    while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
        parent = parent.parent
    return parent


def record(conn, case_id: int, before: dict, after: dict, now: datetime, pending: list | None = None) -> None:
    """Write the visits of the tasks completed between the two snapshots, and the facts they set. `pending`: a
    batch's list to add the visit rows to instead, written by write_rows with other cases' (one statement)."""
    new = [task for task_id, task in after.items() if task_id not in before]
    if not new:
        return
    new_ids = {task.id for task in new}
    rows, earlier, facts = [], {}, {}
    for task in sorted(new, key=lambda t: t.last_state_change):
        prev = _previous(task)
        prev_element = prev.task_spec.bpmn_id[:200] if prev is not None else None
        row = {"b_case": case_id, "case_id": case_id, "element_id": task.task_spec.bpmn_id[:200],
               "previous_element_id": prev_element, "started_at": now, "ended_at": now, "b_since": None}
        if prev is not None and prev.id not in new_ids:  # it waited since an earlier step
            earlier.setdefault(prev_element, []).append(row)
            row["started_at"], row["b_since"] = None, prev_element
        rows.append(row)
        _facts_of(task, facts)
    if earlier.keys() & {row["element_id"] for row in rows}:
        # The ends are those recorded before this step: read first when some of its own rows are of those elements.
        ends = dict(conn.execute(_LAST_ENDS, {"b_case": case_id, "b_elements": sorted(earlier)}).all())
        for element, waiting in earlier.items():
            for row in waiting:
                row["started_at"], row["b_since"] = ends.get(element), None
    if pending is not None or earlier:
        since = [{**row, "b_started": row.pop("started_at")} for row in rows]
        if pending is not None:
            pending.extend(since)
        else:
            write_rows(conn, since)
    else:
        conn.execute(_INSERT_VISITS, [{k: v for k, v in row.items() if k != "b_since"} for row in rows])
    if facts:
        _upsert_facts(conn, case_id, facts, now)


def write_rows(conn, rows: list) -> None:
    """Write visit rows as record() builds them, one case's or a batch's of many cases' (a row's start, when not
    known, is read inside the insert from an earlier step's visit, never from one of this statement's own rows: for
    those record() reads first)."""
    if rows:
        conn.execute(_INSERT_VISITS_SINCE, rows)


def _facts_of(task, found: dict) -> None:
    """The designated values this task set (different from what its parent carried)."""
    data = task.data
    parent = task.parent.data if task.parent is not None else {}
    for key in FACT_KEYS:
        if key in data and data[key] is not None and data[key] != parent.get(key):
            found[key] = (str(data[key])[:FACT_MAX], task.task_spec.bpmn_id[:200])


def _upsert_facts(conn, case_id: int, facts: dict, now: datetime) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_facts).values([
        {"case_id": case_id, "key": key, "value": value, "element_id": element, "at": now}
        for key, (value, element) in facts.items()])
    conn.execute(statement.on_conflict_do_update(
        index_elements=["case_id", "key"], set_={"value": statement.excluded.value,
                                                 "element_id": statement.excluded.element_id,
                                                 "at": statement.excluded.at}))
