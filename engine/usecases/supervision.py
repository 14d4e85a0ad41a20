"""The supervisor's view of the work (/supervision): open tasks per clerk and per group with their overdue and
due-soon counts, the open tasks of one clerk or group, and several of them reassigned or released at once.

Counts are grouped SQL over inbox_items (one row per ready task, kept by triggers: engine/storage/models_lists.py),
never a workflow. Per group they read the group's (group, due) index alone; per clerk, the (assignee, due) index and
the group of each claimed task, which are few. A supervisor sees the groups he supervises, an administrator all
(permissions.supervised_groups). Each task of a bulk change goes through tasks.assign_task or tasks.release_task in
its own transaction, so one refused task undoes none of the others; the caller says whom it saw holding each task,
so one taken or given back meanwhile is reported as changed, not moved.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from datetime import timedelta
from uuid import UUID

from sqlalchemy import case, func, select

from engine.accounts import auth, permissions
from engine.accounts.permissions import Principal, use_case
from engine.errors import Conflict, ExpedienteError, Forbidden, InvalidInput, TaskNotFound, TaskNotReady
from engine.storage import models
from engine.timekeeping.calendar import office_midnight
from engine.usecases import tasks

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

DUE_SOON_WORKING_DAYS = 2
MAX_DUE_SOON_WORKING_DAYS = 30
LIST_PAGE_ROWS = 100
MAX_BULK_TASKS = 500
# What happened to each task of a bulk change.
DONE, REFUSED, CHANGED = "done", "refused", "changed"
_i, _t = models.inbox_items, models.tasks
_u, _g, _ug = models.users, models.groups, models.user_groups


def due_soon_bound(svc: Services, now, working_days: int):
    """The end of the `working_days`-th working day after today (office time): a task due before it, and not yet
    overdue, is due soon (0: by the end of today)."""
    if not isinstance(working_days, int) or not 0 <= working_days <= MAX_DUE_SOON_WORKING_DAYS:
        raise InvalidInput(f"due_soon_days must be 0 to {MAX_DUE_SOON_WORKING_DAYS}",
                           errors=[{"field": "due_soon_days",
                                    "message": f"a whole number of working days, 0 to {MAX_DUE_SOON_WORKING_DAYS}"}])
    last = svc.calendar.add_working_days(svc.calendar.local_date(now), working_days)
    return office_midnight(last + timedelta(days=1))


def _scope(principal: Principal, *conditions) -> list:
    groups = permissions.supervised_groups(principal)
    return list(conditions) if groups is None else [*conditions, _i.c.candidate_group.in_(groups)]


def _counted(now, soon) -> tuple:
    # due_hi holds a far-future stand-in for "no deadline", so a task without one is neither overdue nor due soon.
    return (func.count().label("open"),
            func.sum(case((_i.c.due_hi < now, 1), else_=0)).label("overdue"),
            func.sum(case(((_i.c.due_hi >= now) & (_i.c.due_hi < soon), 1), else_=0)).label("due_soon"))


def _claimed():
    # A range on the (assignee, due) index: the claimed tasks alone, however many wait unclaimed (NULL is outside it).
    return _i.c.assignee > ""


@use_case("task.assign")
def workload(svc: Services, principal: Principal, *, due_soon_days: int = DUE_SOON_WORKING_DAYS) -> dict:
    """Open tasks per group (with those nobody holds) and per clerk, each with how many are overdue and how many
    fall due within `due_soon_days` working days; the clerks of the groups in view are listed even without tasks."""
    now = svc.clock()
    soon = due_soon_bound(svc, now, due_soon_days)
    groups = permissions.supervised_groups(principal)
    with svc.uow(write=False) as uow:
        conn = uow.conn
        by_group = conn.execute(select(_i.c.candidate_group, *_counted(now, soon)).where(*_scope(principal))
                                .group_by(_i.c.candidate_group)).all()
        by_holder = conn.execute(select(_i.c.assignee, _i.c.candidate_group, *_counted(now, soon))
                                 .where(*_scope(principal, _claimed()))
                                 .group_by(_i.c.assignee, _i.c.candidate_group)).all()
        members = _members(conn, groups)
        names = auth.display_names(conn, [r.assignee for r in by_holder])
    rows = {g: _zero(group=g) for g in (groups or ())}
    for r in by_group:
        rows[r.candidate_group] = _zero(group=r.candidate_group) | _numbers(r)
    clerks = {m["username"]: _zero(username=m["username"], name=m["display_name"]) for m in members}
    for r in by_holder:
        rows.setdefault(r.candidate_group, _zero(group=r.candidate_group))["claimed"] += r.open
        clerk = clerks.setdefault(r.assignee, _zero(username=r.assignee, name=names.get(r.assignee, r.assignee)))
        for key, value in _numbers(r).items():
            clerk[key] += value
    for row in rows.values():
        row["unassigned"] = row["open"] - row.pop("claimed")
    for clerk in clerks.values():
        del clerk["claimed"]
    return {"now": now, "due_soon_days": due_soon_days, "due_soon_until": soon,
            "groups": sorted(rows.values(), key=lambda r: (r["group"] is None, r["group"] or "")),
            "clerks": sorted(clerks.values(), key=lambda c: (-c["open"], c["username"]))}


def _zero(**names) -> dict:
    return {**names, "open": 0, "overdue": 0, "due_soon": 0, "claimed": 0}


def _numbers(row) -> dict:
    return {"open": row.open, "overdue": row.overdue or 0, "due_soon": row.due_soon or 0}


def _members(conn, groups) -> list[dict]:
    """Active accounts that may work tasks, members of `groups` (None: of any group), each once, by username."""
    q = (select(_u.c.username, _u.c.display_name)
         .join(_ug, _ug.c.user_id == _u.c.id).join(_g, _g.c.id == _ug.c.group_id)
         .where(_u.c.active.is_(True), _u.c.role.in_(sorted(permissions.WORKERS)))
         .distinct().order_by(_u.c.username))
    if groups is not None:
        q = q.where(_g.c.name.in_(groups))
    return [dict(r) for r in conn.execute(q).mappings()]


def _member_groups(conn, usernames) -> dict[str, list[str]]:
    q = (select(_u.c.username, _g.c.name).join(_ug, _ug.c.user_id == _u.c.id).join(_g, _g.c.id == _ug.c.group_id)
         .where(_u.c.username.in_(list(usernames))).order_by(_g.c.name))
    found: dict[str, list[str]] = {}
    for username, group in conn.execute(q):
        found.setdefault(username, []).append(group)
    return found


@use_case("task.assign")
def open_tasks(svc: Services, principal: Principal, *, group: str | None = None, assignee: str | None = None,
               page: int = 1, due_soon_days: int = DUE_SOON_WORKING_DAYS) -> dict:
    """The open tasks of one group or of one clerk (within the groups in the principal's view), soonest due first,
    one page of LIST_PAGE_ROWS, with the clerks they could be given to."""
    if bool(group) == bool(assignee):
        raise InvalidInput("name one group or one clerk", errors=[{"field": "group", "message": "group or assignee"}])
    groups = permissions.supervised_groups(principal)
    if group and groups is not None and group not in groups:
        raise Forbidden(f"No supervisa el grupo {group}.", group=group)
    now = svc.clock()
    soon = due_soon_bound(svc, now, due_soon_days)
    page = max(1, page)
    who = _i.c.candidate_group == group if group else _i.c.assignee == assignee
    q = (select(_i.c.task_id, _i.c.case_id, _i.c.case_number, _i.c.title, _i.c.element_id, _i.c.candidate_group,
                _i.c.assignee, _i.c.due_at, _i.c.created_at)
         .where(*_scope(principal, who)).order_by(_i.c.due_hi, _i.c.created_at, _i.c.task_id)
         .offset((page - 1) * LIST_PAGE_ROWS).limit(LIST_PAGE_ROWS + 1))
    with svc.uow(write=False) as uow:
        conn = uow.conn
        rows = [dict(r) for r in conn.execute(q).mappings()]
        more = len(rows) > LIST_PAGE_ROWS
        rows = rows[:LIST_PAGE_ROWS]
        candidates = _members(conn, [group] if group else groups)
        of = _member_groups(conn, [c["username"] for c in candidates])
        names = auth.display_names(conn, [r["assignee"] for r in rows] + ([assignee] if assignee else []))
    for row in rows:
        due = row["due_at"]
        row["overdue"] = due is not None and due < now
        row["due_soon"] = due is not None and now <= due < soon
    return {"items": rows, "page": page, "has_more": more, "group": group, "assignee": assignee, "names": names,
            "candidates": [{"username": c["username"], "name": c["display_name"], "groups": of.get(c["username"], [])}
                           for c in candidates],
            "due_soon_days": due_soon_days}


def _checked_ids(task_ids, holders: dict) -> list[str]:
    ids = list(dict.fromkeys(task_ids or ()))
    if not ids:
        raise InvalidInput("choose at least one task", errors=[{"field": "task_ids", "message": "none chosen"}])
    if len(ids) > MAX_BULK_TASKS:
        raise InvalidInput(f"at most {MAX_BULK_TASKS} tasks at once",
                           errors=[{"field": "task_ids", "message": f"more than {MAX_BULK_TASKS}"}])
    for task_id in ids:
        try:
            UUID(task_id)
        except (ValueError, TypeError, AttributeError):
            raise InvalidInput(f"'{task_id}' is not a task id",
                               errors=[{"field": "task_ids", "message": "not a task id"}]) from None
        if task_id not in holders:
            raise InvalidInput(f"whom task {task_id} was held by was not sent",
                               errors=[{"field": "holders", "message": f"missing for {task_id}"}])
    return ids


def _in_view(svc: Services, principal: Principal, task_ids: list[str]) -> tuple[dict[str, dict], set[str]]:
    """The open tasks among these that the principal supervises (task id -> its inbox row), and those of the rest
    that are no longer open (completed or cancelled since the list was read)."""
    with svc.uow(write=False) as uow:
        q = (select(_i.c.task_id, _i.c.case_number, _i.c.title, _i.c.candidate_group)
             .where(*_scope(principal, _i.c.task_id.in_(task_ids))))
        rows = {r["task_id"]: dict(r) for r in uow.conn.execute(q).mappings()}
        rest = [t for t in task_ids if t not in rows]
        closed = set(uow.conn.execute(select(_t.c.id).where(_t.c.id.in_(rest), _t.c.state != "ready")).scalars()) \
            if rest else set()
    return rows, closed


def _each(svc: Services, principal: Principal, task_ids, holders: dict, change) -> list[dict]:
    """Apply `change(task_id, holder)` to each task in its own transaction; what happened to each, in order."""
    ids = _checked_ids(task_ids, holders)
    seen, closed = _in_view(svc, principal, ids)
    results = []
    for task_id in ids:
        row = seen.get(task_id)
        result = {"task_id": task_id, "case_number": row and row["case_number"], "title": row and row["title"],
                  "holder": holders[task_id] or None, "outcome": DONE, "error": None}
        if task_id in closed:
            result.update(outcome=CHANGED, error=TaskNotReady(f"task {task_id} is no longer open", task_id=task_id))
        elif row is None:  # no such task, or not one of the groups he supervises: the same answer
            result.update(outcome=REFUSED, error=TaskNotFound(f"task {task_id} is not open in the groups supervised",
                                                              task_id=task_id))
        else:
            try:
                change(task_id, holders[task_id] or None)
            except Conflict as exc:
                result.update(outcome=CHANGED, error=exc)
            except ExpedienteError as exc:  # not assignable to that person, not his to release, ...
                result.update(outcome=REFUSED, error=exc)
        results.append(result)
    return results


@use_case("task.assign")
def reassign_tasks(svc: Services, principal: Principal, task_ids, assignee: str, holders: dict) -> list[dict]:
    """Give each of these tasks to `assignee` through tasks.assign_task, each only while the one `holders` names
    (None or "": nobody) still holds it; per task in order: `outcome` done, refused or changed, and the `error`."""
    assignee = (assignee or "").strip()
    if not assignee:
        raise InvalidInput("choose whom to give the tasks", errors=[{"field": "assignee", "message": "required"}])
    return _each(svc, principal, task_ids, holders,
                 lambda task_id, holder: tasks.assign_task(svc, principal, task_id, assignee, holder=holder))


@use_case("task.assign")
def release_tasks(svc: Services, principal: Principal, task_ids, holders: dict) -> list[dict]:
    """Give each of these tasks back to its group's queue through tasks.release_task, each only while the one
    `holders` names still holds it; per task: `outcome` done, refused or changed, and the `error`."""
    def release(task_id: str, holder: str | None):
        if holder is None:  # nobody held it when the list was read: nothing to give back
            raise InvalidInput("the task is not claimed", task_id=task_id)
        tasks.release_task(svc, principal, task_id, holder=holder)
    return _each(svc, principal, task_ids, holders, release)
