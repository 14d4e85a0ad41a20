"""What a supervisor does from a case's page: the operations panel, and reassigning or releasing one of its tasks
with the version of the case the page showed (the state changes, retry and moves take it too: cases.py,
case_moves.py).

A page's operation moves the case's version on, so two supervisors acting from the same page: one wins, the
other gets a conflict instead of overwriting what he did not see.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from uuid import UUID

from sqlalchemy import bindparam, select, update

from engine.accounts import auth, permissions
from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.errors import Conflict, InvalidInput, TaskNotFound, TaskNotReady
from engine.messages import msg
from engine.storage import models
from engine.storage.persistence import append_events, bump_case, event_row, require_case
from engine.usecases.case_moves import targets_of

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

CLOSED_STATES = ("completed", "cancelled")
_t, _u, _g, _ug = models.tasks, models.users, models.groups, models.user_groups
_READY_TASKS = (select(_t.c.id, _t.c.element_id, _t.c.title, _t.c.candidate_group, _t.c.assignee)
                .where(_t.c.case_id == bindparam("b_id"), _t.c.state == "ready").order_by(_t.c.created_at, _t.c.id))
_WORKERS = (select(_u.c.username, _u.c.display_name, _u.c.role)
            .where(_u.c.active.is_(True), _u.c.role.in_(sorted(permissions.RULES["task.work"])))
            .order_by(_u.c.username))
_MEMBERSHIPS = select(_u.c.username, _g.c.name).join(_ug, _ug.c.user_id == _u.c.id).join(_g, _g.c.id == _ug.c.group_id)


@use_case("case.read")
def operations_panel(svc: Services, principal: Principal, case_id: int) -> dict | None:
    """What the case page's operations panel offers the principal, or None if he may do none of them or the case is
    closed: the case's version and state, its error, its ready tasks each with the users who could work it
    (`eligible`), and the steps it may be moved to."""
    manages, assigns = permissions.allowed(principal, "case.manage"), permissions.allowed(principal, "task.assign")
    if not (manages or assigns):
        return None
    with svc.uow(write=False) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        case = require_case(conn, case_id)
        if case.state in CLOSED_STATES:
            return None  # nothing is done to a closed case
        tasks = [dict(r) for r in conn.execute(_READY_TASKS, {"b_id": case_id}).mappings()]
        workers = [dict(r) for r in conn.execute(_WORKERS).mappings()] if assigns and tasks else []
        groups: dict[str, list[str]] = {}
        for username, group in (conn.execute(_MEMBERSHIPS).all() if workers else ()):
            groups.setdefault(username, []).append(group)
        for task in tasks:
            task["eligible"] = [w for w in workers if _could_work(w, groups.get(w["username"], []), task)]
        error = conn.execute(select(models.cases.c.error_element, models.cases.c.error_message)
                             .where(models.cases.c.id == case_id)).one()
        targets = targets_of(svc.specs.get(conn, case.process_version_id)[0]) if manages else []
    return {"case_id": case_id, "version": case.version, "state": case.state, "manages": manages,
            "assigns": assigns, "tasks": tasks if assigns else [], "targets": targets,
            "error_element": error.error_element, "error_message": error.error_message}


def _could_work(worker: dict, groups: list[str], task: dict) -> bool:
    who = permissions.Principal(user_id=0, username=worker["username"], role=worker["role"], groups=tuple(groups))
    return permissions.can_see_task(who, task)


def _case_task(conn, principal: Principal, case_id: int, task_id: str) -> dict:
    """The case's ready-or-not task row, if the principal may see the case and it is one of its tasks."""
    try:
        UUID(str(task_id))
    except ValueError:
        raise InvalidInput(msg("«%(task)s» no es una tarea", task=str(task_id)[:60]),
                           errors=[{"field": "task_id", "message": "not a UUID"}])
    check_case_visible(conn, principal, case_id)
    row = conn.execute(select(_t).where(_t.c.id == str(task_id), _t.c.case_id == case_id)).mappings().first()
    if row is None:
        raise TaskNotFound(f"task {task_id} is not a task of case {case_id}", task_id=str(task_id))
    return dict(row)


def _changed(row: dict) -> TaskNotReady:
    return TaskNotReady(f"the task is {row['state']}", task_id=row["id"], state=row["state"])


@use_case("task.assign")
def reassign_case_task(svc: Services, principal: Principal, case_id: int, task_id: str, assignee: str,
                       expected_version: int) -> dict:
    """Give one of the case's ready tasks to someone who could work it, if the case is still at the version seen."""
    if not assignee:
        raise InvalidInput(msg("elija a quién dar la tarea"), errors=[{"field": "assignee", "message": "required"}])
    with svc.uow() as uow:
        conn = uow.conn
        row = _case_task(conn, principal, case_id, task_id)
        permissions.check_assignee(auth.principal_named(conn, assignee), row)
        if row["state"] != "ready":
            raise _changed(row)
        now = svc.clock()
        version = bump_case(conn, case_id, expected_version, {"updated_at": now})
        conn.execute(update(_t).where(_t.c.id == row["id"], _t.c.state == "ready")
                     .values(assignee=assignee, claimed_at=now))
        append_events(conn, [event_row(case_id, now, "task_assigned", element_id=row["element_id"],
                                       task_id=row["id"], actor=principal.username,
                                       data={"assignee": assignee, "previous": row["assignee"]})])
        uow.commit()
    return {"case_id": case_id, "task_id": row["id"], "title": row["title"], "assignee": assignee,
            "version": version}


@use_case("task.assign")
def release_case_task(svc: Services, principal: Principal, case_id: int, task_id: str,
                      expected_version: int) -> dict:
    """Give one of the case's claimed tasks back to its group, if the case is still at the version seen."""
    with svc.uow() as uow:
        conn = uow.conn
        row = _case_task(conn, principal, case_id, task_id)
        if row["state"] != "ready":
            raise _changed(row)
        if row["assignee"] is None:
            raise Conflict("the task is not claimed", task_id=row["id"])
        now = svc.clock()
        version = bump_case(conn, case_id, expected_version, {"updated_at": now})
        conn.execute(update(_t).where(_t.c.id == row["id"], _t.c.state == "ready")
                     .values(assignee=None, claimed_at=None))
        append_events(conn, [event_row(case_id, now, "task_released", element_id=row["element_id"],
                                       task_id=row["id"], actor=principal.username,
                                       data={"previous": row["assignee"]})])
        uow.commit()
    return {"case_id": case_id, "task_id": row["id"], "title": row["title"], "version": version}
