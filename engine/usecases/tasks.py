"""Use cases on human tasks: list, claim, release, assign, save a draft, complete."""
from __future__ import annotations

from uuid import UUID

import orjson

from sqlalchemy import bindparam, delete, insert, select, update

from engine.storage import models
from engine.usecases.cases import check_data, outcome_events
from engine.errors import Conflict, InvalidInput, NotFound, TaskNotFound, TaskNotReady
from engine.storage.persistence import (
    append_events, claim_filter, dump_data, event_row, load_case_workflow, project, read_case, refusal, snapshot,
    state_after, write_case, write_refused,
)
from engine.services import Services
from engine.accounts import permissions
from engine.accounts.permissions import Principal
from engine.usecases import cases
from engine.storage.storable import StateRejected

_tasks = models.tasks
_cases = models.cases
_t, _c = models.tasks, models.cases
_READ_TASK = select(_tasks).where(_tasks.c.id == bindparam("b_id"))
_FINISH_TASK = (update(_tasks).where(_tasks.c.id == bindparam("b_id"), _tasks.c.state == "ready")
                .values(state="completed", completed_at=bindparam("b_now"), completed_by=bindparam("b_actor"),
                        assignee=bindparam("b_assignee")))


def list_tasks(svc: Services, *, groups: list[str] | None = None, assignee: str | None = None,
               state: str = "ready", case_id: int | None = None, limit: int = 100) -> list[dict]:
    """Task rows from the indexed projection (never from workflows)."""
    q = select(_tasks, _cases.c.number.label("case_number")).join(_cases, _cases.c.id == _tasks.c.case_id)
    q = q.where(_tasks.c.state == state)
    if groups is not None:
        q = q.where(_tasks.c.candidate_group.in_(groups))
    if assignee is not None:
        q = q.where(_tasks.c.assignee == assignee)
    if case_id is not None:
        q = q.where(_tasks.c.case_id == case_id)
    q = q.order_by(_tasks.c.created_at, _tasks.c.id).limit(limit)
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(q).mappings()]


def get_task(svc: Services, task_id: str) -> dict:
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(select(_tasks).where(_tasks.c.id == task_id)).mappings().first()
    if row is None:
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    return dict(row)


def claim_task(svc: Services, task_id: str, actor: str) -> dict:
    """Take a ready task; fails with a conflict naming the holder if someone else has it."""
    with svc.uow() as uow:
        now = svc.clock()
        result = uow.conn.execute(update(_tasks).where(claim_filter(task_id, actor))
                                  .values(assignee=actor, claimed_at=now))
        row = _task_row(uow.conn, task_id)
        if result.rowcount != 1:
            raise _not_takeable(row, actor)
        append_events(uow.conn, [event_row(row["case_id"], now, "task_claimed", element_id=row["element_id"],
                                           task_id=task_id, actor=actor)])
        uow.commit()
    return {**row, "assignee": actor, "claimed_at": now}


def release_task(svc: Services, task_id: str, actor: str, *, force: bool = False) -> dict:
    """Give a claimed task back to its group (its holder, or a supervisor with `force`)."""
    with svc.uow() as uow:
        now = svc.clock()
        cond = (_tasks.c.id == task_id) & (_tasks.c.state == "ready") & _tasks.c.assignee.is_not(None)
        if not force:
            cond = cond & (_tasks.c.assignee == actor)
        result = uow.conn.execute(update(_tasks).where(cond).values(assignee=None, claimed_at=None))
        row = _task_row(uow.conn, task_id)
        if result.rowcount != 1:
            if row["state"] == "ready" and row["assignee"] is None:
                raise Conflict("the task is not claimed", task_id=task_id)
            raise _not_takeable(row, actor)
        append_events(uow.conn, [event_row(row["case_id"], now, "task_released", element_id=row["element_id"],
                                           task_id=task_id, actor=actor)])
        uow.commit()
    return row


def complete_task(svc: Services, task_id: str, data: dict | None, actor: str) -> dict:
    """Complete a ready task with submitted data and run the case until it waits again."""
    data = check_data(data or {})
    with svc.uow() as uow:
        conn = uow.conn
        row = _task_row(conn, task_id)
        if row["state"] != "ready" or (row["assignee"] not in (None, actor)):
            raise _not_takeable(row, actor)
        if svc.forms is not None:
            data = svc.forms.validate(row["form_key"], data)
        case = read_case(conn, row["case_id"])
        if case.state != "running":
            raise Conflict(f"the case is {case.state}; its tasks cannot be completed now", state=case.state)
        wf = load_case_workflow(svc, conn, case)
        task = wf.get_task_from_id(UUID(task_id))
        if task is None or not task.task_spec.manual:
            raise TaskNotFound(f"task {task_id} is not a human task of case {case.id}", task_id=task_id)
        before = snapshot(svc.runtime, wf)
        failure = svc.runtime.run_task(wf, task, data)
        now = svc.clock()
        state = state_after(wf, failure)
        try:
            version = write_case(conn, case, wf, state, failure, now)
        except StateRejected as exc:
            # The step made a value that cannot be stored: the case keeps its state from before the step, in
            # error; the task stays ready for when a supervisor's retry lets the case run again.
            failure = refusal(exc)
            version = write_refused(conn, case, failure, now)
            append_events(conn, outcome_events(case.id, now, "error", failure))
            uow.commit()
            return {"case_id": case.id, "case_state": "error", "case_version": version,
                    "error_element": failure.element_id, "error_message": failure.message, "ready_tasks": []}
        done = conn.execute(_FINISH_TASK, {"b_id": task_id, "b_now": now, "b_actor": actor,
                                           "b_assignee": row["assignee"] or actor})
        if done.rowcount != 1:
            raise Conflict("the task was completed by someone else", task_id=task_id)
        new = project(conn, case.id, case.process_key, before, snapshot(svc.runtime, wf), now,
                      completed_id=task_id, deadlines=svc.deadlines)
        append_events(conn, [event_row(case.id, now, "task_completed", element_id=row["element_id"],
                                       task_id=task_id, actor=actor, data=data)]
                      + outcome_events(case.id, now, state, failure))
        uow.commit()
    return {"case_id": case.id, "case_state": state, "case_version": version,
            "error_element": failure.element_id if failure else None,
            "error_message": failure.message if failure else None,
            "ready_tasks": [{"id": t.id, "element_id": t.element_id, "title": t.title} for t in new]}


def _task_row(conn, task_id: str) -> dict:
    try:
        UUID(task_id)
    except (ValueError, TypeError):
        raise InvalidInput(f"'{task_id}' is not a task id", errors=[{"field": "task_id", "message": "not a UUID"}])
    row = conn.execute(_READ_TASK, {"b_id": task_id}).mappings().first()
    if row is None:
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    return dict(row)


def _not_takeable(row: dict, actor: str) -> Conflict:
    if row["state"] == "completed":
        return TaskNotReady(f"the task was already completed by {row['completed_by']}",
                            task_id=row["id"], completed_by=row["completed_by"])
    if row["state"] != "ready":
        return TaskNotReady(f"the task is {row['state']}", task_id=row["id"], state=row["state"])
    return TaskNotReady(f"the task is held by {row['assignee']}", task_id=row["id"], assignee=row["assignee"])


def assign_task(svc: Services, task_id: str, assignee: str, actor: str) -> dict:
    """Give a ready task to someone (a supervisor's call: it may take it from its current holder)."""
    with svc.uow() as uow:
        now = svc.clock()
        row = _task_row(uow.conn, task_id)
        result = uow.conn.execute(update(_tasks).where(_tasks.c.id == task_id, _tasks.c.state == "ready")
                                  .values(assignee=assignee, claimed_at=now))
        if result.rowcount != 1:
            raise _not_takeable(row, actor)
        append_events(uow.conn, [event_row(row["case_id"], now, "task_assigned", element_id=row["element_id"],
                                           task_id=task_id, actor=actor,
                                           data={"assignee": assignee, "previous": row["assignee"]})])
        uow.commit()
    return {**row, "assignee": assignee, "claimed_at": now}


def save_draft(svc: Services, task_id: str, data: dict, actor: str) -> dict:
    """Keep unfinished form data for a ready task its holder (or its group) is working on."""
    d = models.task_drafts
    data = check_data(data)
    with svc.uow() as uow:
        row = _task_row(uow.conn, task_id)
        if row["state"] != "ready" or row["assignee"] not in (None, actor):
            raise _not_takeable(row, actor)
        now = svc.clock()
        # Drafts are private work in progress, so they stay out of the case history until completed.
        uow.conn.execute(delete(d).where(d.c.task_id == task_id))
        uow.conn.execute(insert(d).values(task_id=task_id, case_id=row["case_id"], data_json=dump_data(data),
                                          saved_by=actor, saved_at=now))
        uow.commit()
    return {"task_id": task_id, "data": data, "saved_by": actor, "saved_at": now}

_TASK_WITH_CASE = (select(_t, _c.c.number.label("case_number"), _c.c.title.label("case_title"),
                          _c.c.process_key, _c.c.state.label("case_state"))
                   .join(_c, _c.c.id == _t.c.case_id))
_TASK_BY_ID = _TASK_WITH_CASE.where(_t.c.id == bindparam("b_id"))
# Inbox statements built once (building SQLAlchemy constructs per request costs more than running them).


def visible_task(svc: Services, principal: Principal, task_id: str) -> dict:
    """A task row with its case's number and title, if the principal may see it."""
    try:
        UUID(task_id)
    except ValueError:
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(_TASK_BY_ID, {"b_id": task_id}).mappings().first()
    if row is None:
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    return permissions.check_task_visible(principal, dict(row))




def task_draft(svc: Services, task_id: str) -> dict | None:
    """The saved draft of a task's form, if any."""
    d = models.task_drafts
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(select(d).where(d.c.task_id == task_id)).mappings().first()
    return None if row is None else {**row, "data": orjson.loads(row["data_json"])}




def task_form(svc: Services, task: dict) -> dict:
    """A task's form: its JSON Schema (null when the task has no form), ui hints and the data to show."""
    form_key = task["form_key"]
    schema = None
    if form_key is not None:
        if svc.forms is None:
            raise NotFound(f"form '{form_key}' does not exist", form=form_key)
        schema = svc.forms.get(form_key)
    draft = task_draft(svc, task["id"]) if task["state"] == "ready" else None
    data = draft["data"] if draft else cases.case_data(svc, task["case_id"])
    return {"form_key": form_key, "schema": schema, "ui": ui_hints(schema), "data": data,
            "draft_saved_at": draft["saved_at"] if draft else None}




def ui_hints(schema: dict | None) -> dict:
    """The x-* keywords of a form (labels, messages, summary columns) by field; "" for the form itself."""
    if not schema:
        return {}
    hints = {"": {k: v for k, v in schema.items() if k.startswith("x-")}}
    for field, prop in (schema.get("properties") or {}).items():
        own = {k: v for k, v in prop.items() if k.startswith("x-")} if isinstance(prop, dict) else {}
        if own:
            hints[field] = own
    return {k: v for k, v in hints.items() if v}
