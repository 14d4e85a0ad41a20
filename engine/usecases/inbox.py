"""The clerk's inbox: ready tasks joined with their cases' indexed columns, filtered, searched and paged.

Never loads a workflow. Which rows a user sees is decided by engine.accounts.permissions (his own claims, or
the queues of his groups), not here.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select

from engine.storage import models
from engine.accounts import permissions
from engine.errors import InvalidInput
from engine.accounts.permissions import Principal
from engine.services import Services
from engine.usecases.tasks import _TASK_WITH_CASE

MAX_PAGE_SIZE = 100
DUE_SOON_DAYS = 2
VIEWS = ("mine", "queue")
_t = models.tasks
_c = models.cases
# Sort keys the page offers; "-" means descending. The task id breaks ties so pages never overlap.
SORTS = {"due_at": _t.c.due_at, "created_at": _t.c.created_at, "number": _c.c.number,
         "applicant": _c.c.applicant_name, "task": _t.c.title}
COLUMNS = (_t.c.id, _t.c.case_id, _t.c.element_id, _t.c.title, _t.c.candidate_group, _t.c.assignee,
           _t.c.created_at, _t.c.due_at, _t.c.form_key, _c.c.number.label("case_number"), _c.c.tracking_code,
           _c.c.process_key, _c.c.applicant_name, _c.c.applicant_dpi, _c.c.municipality,
           _c.c.created_at.label("received_at"))


def _visible(principal: Principal, view: str):
    if view not in VIEWS:
        raise InvalidInput(f"unknown view '{view}'", errors=[{"field": "view", "message": f"one of {VIEWS}"}])
    if view == "mine":
        return _t.c.assignee == principal.username
    return _t.c.candidate_group.in_(permissions.queue_groups(principal, None))


def _search(q: str):
    text = q.strip()
    like = f"%{text.lower()}%"
    return or_(_c.c.number == text, _c.c.tracking_code == text.upper(), _c.c.applicant_dpi == text.replace(" ", ""),
               func.lower(_c.c.applicant_name).like(like), func.lower(_c.c.number).like(like))


def inbox(svc: Services, principal: Principal, *, view: str = "mine", process_key: str | None = None,
          element_id: str | None = None, municipality: str | None = None, q: str | None = None,
          sort: str = "due_at", page: int = 1, per_page: int = 25) -> dict:
    """One page of the ready tasks of a view ("mine" or "queue"), with the total and the filters' choices."""
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        raise InvalidInput(f"unknown sort '{sort}'", errors=[{"field": "sort", "message": f"one of {sorted(SORTS)}"}])
    base = [_t.c.state == "ready", _visible(principal, view)]
    conditions = list(base)
    for col, value in ((_c.c.process_key, process_key), (_t.c.element_id, element_id),
                       (_c.c.municipality, municipality)):
        if value:
            conditions.append(col == value)
    if q and q.strip():
        conditions.append(_search(q))
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    page = max(1, page)
    desc = sort.startswith("-")
    order = [column.is_(None), column.desc() if desc else column.asc(), _t.c.id]
    joined = _t.join(_c, _c.c.id == _t.c.case_id)
    with svc.uow(write=False) as uow:
        conn = uow.conn
        total = conn.execute(select(func.count()).select_from(joined).where(and_(*conditions))).scalar_one()
        rows = conn.execute(select(*COLUMNS).select_from(joined).where(and_(*conditions)).order_by(*order)
                            .limit(per_page).offset((page - 1) * per_page)).mappings().all()
        choices = conn.execute(select(_c.c.process_key, _t.c.element_id, _t.c.title, _c.c.municipality)
                               .select_from(joined).where(and_(*base)).distinct()).all()
    now = svc.clock()
    return {"items": [dict(r, **due_flags(r["due_at"], now)) for r in rows], "total": total, "page": page,
            "per_page": per_page, "choices": {
                "process_keys": sorted({r.process_key for r in choices}),
                "tasks": sorted({(r.element_id, r.title) for r in choices}, key=lambda t: t[1]),
                "municipalities": sorted({r.municipality for r in choices if r.municipality})}}


def due_flags(due_at: datetime | None, now: datetime) -> dict:
    """Whether a deadline has passed, or falls within DUE_SOON_DAYS."""
    if due_at is None:
        return {"overdue": False, "due_soon": False}
    overdue = due_at < now
    return {"overdue": overdue, "due_soon": not overdue and due_at <= now + timedelta(days=DUE_SOON_DAYS)}

_INBOX_ORDER = (_t.c.due_at.is_(None), _t.c.due_at, _t.c.created_at, _t.c.id)
_MINE = (_TASK_WITH_CASE.where(_t.c.state == "ready", _t.c.assignee == bindparam("b_user"))
         .order_by(*_INBOX_ORDER).limit(bindparam("b_limit")))
_QUEUE = (_TASK_WITH_CASE.where(_t.c.state == "ready", _t.c.candidate_group.in_(bindparam("b_groups", expanding=True)))
          .order_by(*_INBOX_ORDER).limit(bindparam("b_limit")))
_QUEUE_UNASSIGNED = _QUEUE.where(_t.c.assignee.is_(None))
MAX_INBOX_ROWS = 500




def my_tasks(svc: Services, principal: Principal, limit: int = 100) -> list[dict]:
    """Ready tasks the principal holds, earliest deadline first."""
    return _inbox(svc, _MINE, {"b_user": principal.username}, limit)




def group_queue(svc: Services, principal: Principal, group: str | None = None, unassigned_only: bool = False,
                limit: int = 100) -> list[dict]:
    """Ready tasks of the principal's groups (or of one group), earliest deadline first."""
    groups = permissions.queue_groups(principal, group)
    return _inbox(svc, _QUEUE_UNASSIGNED if unassigned_only else _QUEUE, {"b_groups": groups}, limit)




def _inbox(svc: Services, statement, params: dict, limit: int) -> list[dict]:
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(statement, {**params, "b_limit": max(1, min(limit, MAX_INBOX_ROWS))})
                .mappings()]
