"""The inbox, for the pages and the API alike: ready tasks joined with their cases' indexed columns, filtered,
searched, sorted and paged.

Never loads a workflow. Which rows a user sees is decided by engine.accounts.permissions (his own claims, or
the queues of his groups), not here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from engine.accounts import permissions
from engine.accounts.permissions import Principal, use_case
from engine.errors import InvalidInput
from engine.storage import models
from engine.usecases.intake import process_names
from engine.usecases.paging import page_window

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

DUE_SOON_DAYS = 2
VIEWS = ("mine", "queue")
_t = models.tasks
_c = models.cases
# Sort keys; "-" means descending. Rows without the key come last, then the oldest task; the task id breaks
# ties so pages never overlap.
SORTS = {"due_at": _t.c.due_at, "created_at": _t.c.created_at, "number": _c.c.number,
         "applicant": _c.c.applicant_name, "task": _t.c.title}
COLUMNS = (*_t.c, _c.c.number.label("case_number"), _c.c.title.label("case_title"), _c.c.process_key,
           _c.c.state.label("case_state"), _c.c.tracking_code, _c.c.applicant_name, _c.c.applicant_dpi,
           _c.c.municipality, _c.c.created_at.label("received_at"))


def _visible(principal: Principal, view: str, group: str | None):
    if view not in VIEWS:
        raise InvalidInput(f"unknown view '{view}'", errors=[{"field": "view", "message": f"one of {VIEWS}"}])
    if view == "mine":
        return _t.c.assignee == principal.username
    return _t.c.candidate_group.in_(permissions.queue_groups(principal, group))


def _search(q: str):
    text = q.strip()
    like = f"%{text.lower()}%"
    return or_(_c.c.number == text, _c.c.tracking_code == text.upper(), _c.c.applicant_dpi == text.replace(" ", ""),
               func.lower(_c.c.applicant_name).like(like), func.lower(_c.c.number).like(like))


@use_case("task.read")
def inbox(svc: Services, principal: Principal, *, view: str = "mine", group: str | None = None,
          unassigned: bool = False, process_key: str | None = None, element_id: str | None = None,
          municipality: str | None = None, q: str | None = None, sort: str = "due_at", page: int = 1,
          per_page: int = 25, summary: bool = True) -> dict:
    """One page of the ready tasks of a view: "mine" (held by the principal) or "queue" (of his groups, or of
    one `group`), with the total, the filters' choices and the procedures' names (unless `summary` is false: the
    API's lists need only the rows, and the choices scan the whole view)."""
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        raise InvalidInput(f"unknown sort '{sort}'", errors=[{"field": "sort", "message": f"one of {sorted(SORTS)}"}])
    base = [_t.c.state == "ready", _visible(principal, view, group)]
    if unassigned:
        base.append(_t.c.assignee.is_(None))
    conditions = list(base)
    for col, value in ((_c.c.process_key, process_key), (_t.c.element_id, element_id),
                       (_c.c.municipality, municipality)):
        if value:
            conditions.append(col == value)
    if q and q.strip():
        conditions.append(_search(q))
    page, per_page = page_window(page, per_page)
    order = [column.is_(None), column.desc() if sort.startswith("-") else column.asc(), _t.c.created_at, _t.c.id]
    joined = _t.join(_c, _c.c.id == _t.c.case_id)
    with svc.uow(write=False) as uow:
        conn = uow.conn
        rows = conn.execute(select(*COLUMNS).select_from(joined).where(and_(*conditions)).order_by(*order)
                            .limit(per_page).offset((page - 1) * per_page)).mappings().all()
        now = svc.clock()
        items = [dict(r, **due_flags(r["due_at"], now)) for r in rows]
        if not summary:
            return {"items": items, "page": page, "per_page": per_page}
        total = conn.execute(select(func.count()).select_from(joined).where(and_(*conditions))).scalar_one()
        choices = conn.execute(select(_c.c.process_key, _t.c.element_id, _t.c.title, _c.c.municipality)
                               .select_from(joined).where(and_(*base)).distinct()).all()
        names = process_names(conn)
    return {"items": items, "total": total, "page": page,
            "per_page": per_page, "names": names, "choices": {
                "process_keys": sorted({r.process_key for r in choices}),
                "tasks": sorted({(r.element_id, r.title) for r in choices}, key=lambda t: t[1]),
                "municipalities": sorted({r.municipality for r in choices if r.municipality})}}


def due_flags(due_at: datetime | None, now: datetime) -> dict:
    """Whether a deadline has passed, or falls within DUE_SOON_DAYS."""
    if due_at is None:
        return {"overdue": False, "due_soon": False}
    overdue = due_at < now
    return {"overdue": overdue, "due_soon": not overdue and due_at <= now + timedelta(days=DUE_SOON_DAYS)}
