"""Writing a step: case state, the human-task projection and history rows, in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import orjson
from sqlalchemy import and_, bindparam, insert, or_, select, update

from engine.storage.chain import seal
from engine.storage.closure_sync import sync_calendar
from engine.storage.message_rows import project_waits, queue_message
from engine.storage import models
from engine.storage import legal_rows, visits
from engine.runtime import serializer
from engine.errors import CaseNotFound, Conflict
from engine.storage.concurrency import bump_version, versioned_update
from engine.messages import msg
from engine.runtime.runner import Failure, HumanTask, all_tasks, is_finished, ready_human_tasks
from engine.runtime.storable import StateRejected, check_serialized, mark_loaded, scrub_errored

# Attachments live outside the case state; a case's own data stays far below this.
MAX_CASE_STATE_BYTES = 8 * 1024 * 1024
_cases = models.cases
_tasks = models.tasks
_timers = models.timers
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
              data=None, changes=None) -> dict:
    return {"case_id": case_id, "at": at, "kind": kind, "element_id": element_id, "task_id": task_id,
            "actor": actor, "data_json": dump_data(data) if data is not None else None,
            "changes_json": dump_data(changes) if changes else None}


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
_UPDATE_CASE = versioned_update(_cases)
_INSERT_CASE = insert(_cases)
_INSERT_EVENTS = insert(_events)
_READ_CASE = select(_cases.c.id, _cases.c.version, _cases.c.state, _cases.c.process_key,
                    _cases.c.process_version_id, _cases.c.workflow_json).where(_cases.c.id == bindparam("b_id"))


def insert_case(conn, values: dict) -> int:
    return conn.execute(_INSERT_CASE, values).inserted_primary_key[0]


def dump_state(wf) -> str:
    """Serialize a case; StateRejected (naming the task) if it holds a value a case cannot store, or would
    outgrow MAX_CASE_STATE_BYTES (estimated before any JSON is written, so a huge value costs no time)."""
    scrub_errored(all_tasks(wf))
    text = serializer.dump_workflow(wf, check=lambda dct: check_serialized(wf, dct, MAX_CASE_STATE_BYTES))
    if len(text) > MAX_CASE_STATE_BYTES:
        raise StateRejected(msg("los datos del expediente ocuparían unos %(size)s KiB; el máximo es %(limit)s KiB "
                                "(¿un script construyó valores muy grandes?)", size=f"{len(text) // 1024:,}",
                                limit=f"{MAX_CASE_STATE_BYTES // 1024:,}"))
    return text


def refusal(exc: StateRejected) -> Failure:
    """The failure a case records when its new state could not be written (it keeps the previous one)."""
    return Failure(exc.element_id, exc.message)


def dump_or_refuse(wf, state: str, failure: Failure | None) -> tuple[str | None, str, Failure | None]:
    """What a step stores: its workflow text with its state and failure; or, when the step made a value a case
    cannot store, (None, "error", the refusal): the case goes to error and keeps its state from before the step."""
    try:
        return dump_state(wf), state, failure
    except StateRejected as exc:
        return None, "error", refusal(exc)


class Written(NamedTuple):
    """A step written to its case row: the new version, the state and failure stored, and whether the step's own
    state was refused (the case then kept its state from before the step, in error)."""

    version: int
    state: str
    failure: Failure | None
    refused: bool


def write_step(conn, case: CaseRow, wf, state: str, failure: Failure | None, now: datetime) -> Written:
    """Store the step's workflow, or record its refusal (dump_or_refuse), with the case's version check."""
    text, state, failure = dump_or_refuse(wf, state, failure)
    if text is None:
        return Written(write_refused(conn, case, failure, now), state, failure, True)
    return Written(_write_text(conn, case, text, state, failure, now), state, failure, False)


def write_case(conn, case: CaseRow, wf, state: str, failure: Failure | None, now: datetime) -> int:
    """Save the workflow if nobody changed the case since it was read; return the new version."""
    return _write_text(conn, case, dump_state(wf), state, failure, now)


def _write_text(conn, case: CaseRow, text: str, state: str, failure: Failure | None, now: datetime) -> int:
    values = {
        "workflow_json": text, "serializer_version": serializer.SERIALIZER_VERSION,
        "state": state, "updated_at": now,
        "error_element": failure.element_id if failure else None,
        "error_message": failure.message if failure else None,
    }
    if state == "completed":
        values["completed_at"] = now
    return bump_case(conn, case.id, case.version, values)


def write_refused(conn, case: CaseRow, failure: Failure, now: datetime) -> int:
    """Put the case in `error` with its stored state unchanged (the step's state was refused); new version."""
    return bump_case(conn, case.id, case.version, {"state": "error", "updated_at": now,
                                                   "error_element": failure.element_id,
                                                   "error_message": failure.message})


def bump_case(conn, case_id: int, version: int, values: dict) -> int:
    """Write `values` to the case if it is still at `version` (else Conflict); return the new version."""
    return bump_version(conn, _UPDATE_CASE, case_id, version, values,
                        Conflict("the case was changed by someone else; reload it and try again", case_id=case_id))


def project_tasks(conn, case_id: int, process_key: str, before: list[HumanTask], after: list[HumanTask],
                  now: datetime, completed_id: str | None = None, deadlines=None) -> list[HumanTask]:
    """Insert rows for new ready tasks and cancel rows of tasks that vanished; return the new ones."""
    before_ids = {t.id for t in before}
    after_ids = {t.id for t in after}
    new = [t for t in after if t.id not in before_ids]
    gone = before_ids - after_ids - ({completed_id} if completed_id else set())
    if gone:
        conn.execute(_CANCEL_TASKS, {"b_ids": sorted(gone), "b_now": now})
    # `deadlines` (engine.timekeeping.deadlines.DeadlinePlanner) dates tasks that declare one and plans their alerts.
    plans = deadlines.plan(new, now) if deadlines is not None and new else {}
    if new:
        conn.execute(_INSERT_TASK, [{
            "id": t.id, "case_id": case_id, "element_id": t.element_id, "title": t.title[:300],
            "lane": t.lane, "b_lane": t.lane, "b_process_key": process_key, "form_key": t.form_key,
            "document_kind": t.document_kind,
            "assignee": None, "state": "ready", "created_at": now,
            "due_at": plans[t.id].due_at if t.id in plans else None,
        } for t in new])
    if plans:
        record_alerts(conn, case_id, plans)
    return new


@dataclass(frozen=True)
class Snapshot:
    """What a case waits for: ready human tasks, timers (id -> (element, due)), message and signal catches
    (id -> (element, kind, name, keys)); and the messages its last steps threw (Runtime.thrown)."""

    tasks: list[HumanTask]
    timers: dict
    waits: dict = field(default_factory=dict)
    thrown: list = field(default_factory=list)
    marks: dict = field(default_factory=dict)  # completed elements acting on legal deadlines (usecases.legal_deadlines)
    legal: bool = False                         # the process declares legal deadlines at all
    done: dict = field(default_factory=dict)    # completed BPMN elements' tasks by id (storage.visits)


EMPTY = Snapshot([], {})


def snapshot(runtime, wf) -> Snapshot:
    legal = legal_rows.declares(wf)
    return Snapshot(ready_human_tasks(wf), runtime.waiting_timers(wf), runtime.waiting_messages(wf),
                    runtime.thrown(wf), legal_rows.legal_marks(wf) if legal else {}, legal, visits.completed(wf))


_INSERT_TIMER = insert(_timers)
_CANCEL_TIMERS = (update(_timers).where(_timers.c.id.in_(bindparam("b_ids", expanding=True)),
                                        _timers.c.state == "waiting")
                  .values(state=bindparam("b_state"), fired_at=bindparam("b_now")))
_MOVE_TIMER = (update(_timers).where(_timers.c.id == bindparam("b_id"), _timers.c.state == "waiting")
               .values(due_at=bindparam("b_due")))


def project(conn, case_id: int, process_key: str, before: Snapshot, after: Snapshot, now: datetime,
            completed_id: str | None = None, fired_ids: frozenset = frozenset(), deadlines=None,
            actor: str | None = None, visit_rows: list | None = None) -> list[HumanTask]:
    """Bring the task, timer and legal deadline rows in line with the workflow; return the new human tasks.
    `visit_rows`: a batch's list collecting the element visits (visits.write_rows writes them), else written
    here."""
    new = project_tasks(conn, case_id, process_key, before.tasks, after.tasks, now, completed_id, deadlines)
    visits.record(conn, case_id, before.done, after.done, now, pending=visit_rows)
    if after.legal and deadlines is not None:
        legal_rows.project(conn, case_id, process_key, before.marks, after.marks, new, now, actor, deadlines)
    gone = set(before.timers) - set(after.timers)
    fired = gone & fired_ids
    if fired:
        conn.execute(_CANCEL_TIMERS, {"b_ids": sorted(fired), "b_state": "fired", "b_now": now})
    if gone - fired:
        conn.execute(_CANCEL_TIMERS, {"b_ids": sorted(gone - fired), "b_state": "cancelled", "b_now": now})
    added = [{"id": tid, "case_id": case_id, "element_id": element, "due_at": due, "state": "waiting",
              "created_at": now, "attempts": 0} for tid, (element, due) in after.timers.items()
             if tid not in before.timers]
    if added:
        conn.execute(_INSERT_TIMER, added)
    for tid, (_element, due) in after.timers.items():  # cycle timers move their next due moment
        if tid in before.timers and before.timers[tid][1] != due:
            conn.execute(_MOVE_TIMER, {"b_id": tid, "b_due": due})
    if before.waits or after.waits:
        project_waits(conn, case_id, before.waits, after.waits, now)
    if after.thrown:
        send_thrown(conn, case_id, after.thrown, now)
    return new


def send_thrown(conn, case_id: int, thrown: list[dict], now: datetime) -> None:
    """Queue what the step threw (the outbox, in the step's transaction) and note it in the case's history."""
    sent = []
    for message in thrown:
        message_id = queue_message(conn, kind=message["kind"], name=message["name"][:200],
                                   correlation=message["correlation"], payload=message["payload"], source="case",
                                   now=now, source_case_id=case_id, source_element=message["element_id"])
        sent.append(event_row(case_id, now, "message_sent", element_id=message["element_id"],
                              data={"name": message["name"], "kind": message["kind"], "message_id": message_id,
                                    "correlation": message["correlation"]}))
    append_events(conn, sent)


def append_events(conn, rows: list[dict]) -> None:
    """Append history rows, sealed into the per-case and global chains (engine.storage.chain) in this transaction."""
    if rows:
        seal(conn, rows)
        conn.execute(_INSERT_EVENTS, rows)


def read_case(conn, case_id: int) -> CaseRow | None:
    row = conn.execute(_READ_CASE, {"b_id": case_id}).first()
    return CaseRow(*row) if row else None


def require_case(conn, case_id: int) -> CaseRow:
    """The case row, or CaseNotFound."""
    case = read_case(conn, case_id)
    if case is None:
        raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)
    return case


def load_case_workflow(svc, conn, case: CaseRow, closures: tuple | None = None):
    """The case's workflow on its version's cached spec, with the sandbox re-attached (`closures`: the closure
    days' fingerprint the caller's read of the case carried, closure_sync.FINGERPRINT_COLUMNS).

    SpiffWorkflow does not serialize the script engine and falls back to plain exec after loading,
    so every load goes through here.
    """
    sync_calendar(svc, conn, fingerprint=closures)  # a closure day another worker declared counts from this step on
    spec, subs = svc.specs.get(conn, case.process_version_id)
    wf = serializer.load_workflow(case.workflow_json, spec, subs)
    mark_loaded(wf)
    return svc.runtime.attach(wf)


def claim_filter(task_id: str, actor: str):
    """Rows a given actor may take: ready and either free or already theirs."""
    return and_(_tasks.c.id == task_id, _tasks.c.state == "ready",
                or_(_tasks.c.assignee.is_(None), _tasks.c.assignee == actor))


def record_alerts(conn, case_id: int, plans: dict) -> None:
    """Store the alert moments of freshly written task rows (plans: task id -> timekeeping.deadlines.Deadline)."""
    conn.execute(insert(models.deadline_alerts), [
        {"task_id": task_id, "case_id": case_id, "point": point, "working_days": plan.working_days,
         "due_at": at, "state": "pending", "sent_at": None}
        for task_id, plan in plans.items() for point, at in plan.alerts])
