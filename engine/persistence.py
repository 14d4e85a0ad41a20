"""Writing a step: case state, the human-task projection and history rows, in one transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import and_, bindparam, insert, or_, select, update

from engine import models, serializer
from engine.errors import Conflict
from engine.runtime import Failure, HumanTask, is_finished, ready_human_tasks

_cases = models.cases
_tasks = models.tasks
_events = models.events
_lanes = models.lane_groups
_groups = models.groups


@dataclass(frozen=True)
class CaseRow:
    id: int
    version: int
    state: str
    process_key: str
    process_version_id: int
    workflow_json: str


def state_after(wf, failure: Failure | None) -> str:
    if failure is not None:
        return "error"
    return "completed" if is_finished(wf) else "running"


def event_row(case_id: int, at: datetime, kind: str, *, element_id=None, task_id=None, actor=None,
              data=None) -> dict:
    return {"case_id": case_id, "at": at, "kind": kind, "element_id": element_id, "task_id": task_id,
            "actor": actor, "data_json": dump_data(data) if data is not None else None}


def dump_data(data) -> str:
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _candidate_group_subquery():
    """The group working the task's lane: a row for the process wins over the '*' row."""
    return (select(_groups.c.name).join(_lanes, _lanes.c.group_id == _groups.c.id)
            .where(_lanes.c.lane == bindparam("b_lane"),
                   _lanes.c.process_key.in_([bindparam("b_process_key"), "*"]))
            .order_by(_lanes.c.process_key == "*").limit(1).scalar_subquery())


# Pre-built statements: building SQLAlchemy constructs per call cost more than the SQL itself.
_INSERT_TASK = insert(_tasks).values(candidate_group=_candidate_group_subquery())
_CANCEL_TASKS = (update(_tasks).where(_tasks.c.id.in_(bindparam("b_ids", expanding=True)),
                                      _tasks.c.state == "ready")
                 .values(state="cancelled", completed_at=bindparam("b_now")))
_UPDATE_CASE = update(_cases).where(_cases.c.id == bindparam("b_id"), _cases.c.version == bindparam("b_version"))
_INSERT_CASE = insert(_cases)
_INSERT_EVENTS = insert(_events)
_READ_CASE = select(_cases.c.id, _cases.c.version, _cases.c.state, _cases.c.process_key,
                    _cases.c.process_version_id, _cases.c.workflow_json).where(_cases.c.id == bindparam("b_id"))


def insert_case(conn, values: dict) -> int:
    return conn.execute(_INSERT_CASE, values).inserted_primary_key[0]


def write_case(conn, case: CaseRow, wf, state: str, failure: Failure | None, now: datetime) -> int:
    """Save the workflow if nobody changed the case since it was read; return the new version."""
    values = {
        "workflow_json": serializer.dump_workflow(wf), "serializer_version": serializer.SERIALIZER_VERSION,
        "version": case.version + 1, "state": state, "updated_at": now,
        "error_element": failure.element_id if failure else None,
        "error_message": failure.message if failure else None,
    }
    if state == "completed":
        values["completed_at"] = now
    result = conn.execute(_UPDATE_CASE, {"b_id": case.id, "b_version": case.version, **values})
    if result.rowcount != 1:
        raise Conflict("the case was changed by someone else; reload it and try again",
                       case_id=case.id)
    return case.version + 1


def project_tasks(conn, case_id: int, process_key: str, before: list[HumanTask], after: list[HumanTask],
                  now: datetime, completed_id: str | None = None) -> list[HumanTask]:
    """Insert rows for new ready tasks and cancel rows of tasks that vanished; return the new ones."""
    before_ids = {t.id for t in before}
    after_ids = {t.id for t in after}
    new = [t for t in after if t.id not in before_ids]
    gone = before_ids - after_ids - ({completed_id} if completed_id else set())
    if gone:
        conn.execute(_CANCEL_TASKS, {"b_ids": sorted(gone), "b_now": now})
    if new:
        conn.execute(_INSERT_TASK, [{
            "id": t.id, "case_id": case_id, "element_id": t.element_id, "title": t.title[:300],
            "lane": t.lane, "b_lane": t.lane, "b_process_key": process_key, "form_key": t.form_key,
            "assignee": None, "state": "ready", "created_at": now,
        } for t in new])
    return new


def append_events(conn, rows: list[dict]) -> None:
    if rows:
        conn.execute(_INSERT_EVENTS, rows)


def read_case(conn, case_id: int) -> CaseRow | None:
    row = conn.execute(_READ_CASE, {"b_id": case_id}).first()
    return CaseRow(*row) if row else None


def claim_filter(task_id: str, actor: str):
    """Rows a given actor may take: ready and either free or already theirs."""
    return and_(_tasks.c.id == task_id, _tasks.c.state == "ready",
                or_(_tasks.c.assignee.is_(None), _tasks.c.assignee == actor))
