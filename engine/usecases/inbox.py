"""The inbox, for the pages and the API alike: ready tasks, filtered, searched, sorted and paged, at any size.

Reads inbox_items (one row per ready task with its case's columns, kept by triggers: engine/storage/models_lists.py),
where each sort of each view is one index read in order: a page costs its rows whatever the queue holds. The total
is counted up to COUNT_CAP ("más de 1 000"); a page is reached by number (OFFSET over the index) or, cheaper, by the
cursor of the page before it (`after`, keyset). The filters' choices come from the same indexes, one probe per
distinct value (engine/usecases/inbox_choices.py). Never loads a workflow. Which rows a user sees is decided by
engine.accounts.permissions (his own claims, or the queues of his groups), not here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import base64
from datetime import datetime, timedelta
from functools import lru_cache

import orjson
from sqlalchemy import bindparam, func, literal, select, tuple_, union_all

from engine.accounts import permissions
from engine.accounts.permissions import Principal, use_case
from engine.errors import InvalidInput
from engine.storage import models
from engine.usecases.case_search import matching_items
from engine.usecases.inbox_choices import choices_of
from engine.usecases.intake import process_names
from engine.usecases.paging import page_window

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

DUE_SOON_DAYS = 2
VIEWS = ("mine", "queue")
# Totals are counted up to this; past it a list says "more than COUNT_CAP" (`total_more`).
COUNT_CAP = 1000
_t = models.tasks
_c = models.cases
_i = models.inbox_items
# Sort keys; "-" means descending. Rows without the key come last either way (the column going up stores a stand-in
# that sorts last, the one going down one that sorts first), then the oldest task (the newest going down); the task
# id breaks ties so pages never overlap. (column going up, column going down)
SORTS = {"due_at": (_i.c.due_hi, _i.c.due_lo), "created_at": (_i.c.created_at, _i.c.created_at),
         "number": (_i.c.case_number, _i.c.case_number), "applicant": (_i.c.applicant_hi, _i.c.applicant_lo),
         "task": (_i.c.title, _i.c.title)}
COLUMNS = (*_t.c, _c.c.number.label("case_number"), _c.c.title.label("case_title"), _c.c.process_key,
           _c.c.state.label("case_state"), _c.c.tracking_code, _c.c.applicant_name, _c.c.applicant_dpi,
           _c.c.municipality, _c.c.created_at.label("received_at"))
_ROWS = (select(*COLUMNS).select_from(_t.join(_c, _c.c.id == _t.c.case_id))
         .where(_t.c.id.in_(bindparam("b_ids", expanding=True))))


def _groups(principal: Principal, view: str, group: str | None) -> list[str]:
    """The groups whose queues a view reads (none for "mine": the principal's claims)."""
    if view not in VIEWS:
        raise InvalidInput(f"unknown view '{view}'", errors=[{"field": "view", "message": f"one of {VIEWS}"}])
    return [] if view == "mine" else permissions.queue_groups(principal, group)


def _audience(view: str, n_groups: int) -> list:
    """One condition on inbox_items per index to read: the principal's claims (b_me), or each group's queue
    (b_g0, b_g1, ...)."""
    if view == "mine":
        return [_i.c.assignee == bindparam("b_me")]
    return [_i.c.candidate_group == bindparam(f"b_g{k}") for k in range(n_groups)]


_FILTERS = {"process_key": _i.c.process_key, "element_id": _i.c.element_id, "municipality": _i.c.municipality}


def _filtering(unassigned: bool, filters: tuple[str, ...]) -> list:
    """The filters' conditions, their values bound by name (b_process_key, ...)."""
    # Spelled so that no index on assignee tempts the planner away from the group's index in the sort's order.
    conditions = [func.coalesce(_i.c.assignee, "") == ""] if unassigned else []
    return conditions + [_FILTERS[name] == bindparam(f"b_{name}") for name in filters]


# A list's statements differ only by their shape (view, number of groups, filters present, sort, page window): built
# once per shape, with every value bound, so a request pays neither building nor SQLAlchemy's first compilation.
@lru_cache(maxsize=512)
def _page_shape(view: str, n_groups: int, unassigned: bool, filters: tuple, sort: str, skip: int, limit: int):
    return _page_query(_audience(view, n_groups), _filtering(unassigned, filters), _ordered(sort),
                       sort.startswith("-"), skip, limit)


def _ordered(sort: str) -> tuple:
    """A sort's key columns: its column (going up or down), then received time and task id, which break ties."""
    columns = SORTS[sort.lstrip("-")]
    return (columns[1] if sort.startswith("-") else columns[0], _i.c.created_at, _i.c.task_id)


@lru_cache(maxsize=128)
def _count_shape(view: str, n_groups: int, unassigned: bool, filters: tuple):
    return _count_query(_audience(view, n_groups), _filtering(unassigned, filters))


@use_case("task.read")
def inbox(svc: Services, principal: Principal, *, view: str = "mine", group: str | None = None,
          unassigned: bool = False, process_key: str | None = None, element_id: str | None = None,
          municipality: str | None = None, q: str | None = None, sort: str = "due_at", page: int = 1,
          per_page: int = 25, after: str | None = None, summary: bool = True) -> dict:
    """One page of the ready tasks of a view: "mine" (held by the principal) or "queue" (of his groups, or of
    one `group`); the page after the one whose `next` cursor is `after`, or page number `page`. With the total
    (up to COUNT_CAP; `total_more` past it), the filters' choices and the procedures' names unless `summary` is
    false (the API's lists need only the rows)."""
    if sort.lstrip("-") not in SORTS:
        raise InvalidInput(f"unknown sort '{sort}'", errors=[{"field": "sort", "message": f"one of {sorted(SORTS)}"}])
    descending = sort.startswith("-")
    groups = _groups(principal, view, group)
    shape = (view, len(groups), bool(unassigned))
    values = {"process_key": process_key, "element_id": element_id, "municipality": municipality}
    filters = tuple(name for name, value in values.items() if value)
    params = {f"b_{name}": values[name] for name in filters}
    params.update({f"b_g{k}": g for k, g in enumerate(groups)}, b_me=principal.username)
    page, per_page = page_window(page, per_page)
    ordered = _ordered(sort)
    skip = 0 if after else (page - 1) * per_page
    extra = [_after(ordered, after, descending)] if after else []
    with svc.uow(write=False) as uow:
        conn = uow.conn
        searched = []
        if q and q.strip():
            searched = [matching_items(conn, q)]
        if extra or searched:  # a cursor's or a search's values are part of the statement: built for this request
            query = _page_query(_audience(view, len(groups)), _filtering(unassigned, filters) + extra + searched,
                                ordered, descending, skip, per_page + 1)
        else:
            query = _page_shape(*shape, filters, sort, skip, per_page + 1)
        keys = conn.execute(query, params).all()
        more = len(keys) > per_page
        keys = keys[:per_page]
        by_id = {r["id"]: r for r in conn.execute(_ROWS, {"b_ids": [k[2] for k in keys]}).mappings()}
        now = svc.clock()
        items = [dict(by_id[k[2]], **due_flags(by_id[k[2]]["due_at"], now)) for k in keys
                 if k[2] in by_id]
        cursor = _cursor(keys[-1]) if more and keys else None
        if not summary:
            return {"items": items, "page": page, "per_page": per_page, "next": cursor}
        # A first page that holds every row is its own count (a search that finds a few: no second search).
        if skip == 0 and not after and not more:
            counted = len(items)
        else:
            counting = (_count_query(_audience(view, len(groups)), _filtering(unassigned, filters) + searched)
                        if searched else _count_shape(*shape, filters))
            counted = conn.execute(counting, params).scalar_one()
        choices = choices_of(conn, user=principal.username if view == "mine" else None, groups=groups)
        names = process_names(conn)
    return {"items": items, "total": min(counted, COUNT_CAP), "total_more": counted > COUNT_CAP, "page": page,
            "per_page": per_page, "next": cursor, "has_more": more, "names": names, "choices": choices}


def _page_query(audience: list, conditions: list, ordered: tuple, descending: bool, skip: int, limit: int):
    """The keys of one page: read in index order, one arm per group when the view spans several."""
    def arm(who, offset: int, count: int):
        order = [c.desc() for c in ordered] if descending else list(ordered)
        return (select(*ordered).where(who, *conditions).order_by(*order).offset(offset or None).limit(count))
    if len(audience) == 1:
        return arm(audience[0], skip, limit)
    if not audience:
        return select(*ordered).where(literal(False))
    merged = union_all(*[select(arm(who, 0, skip + limit).subquery()) for who in audience]).subquery()
    order = [c.desc() for c in merged.c] if descending else list(merged.c)
    return select(merged).order_by(*order).offset(skip or None).limit(limit)


def _count_query(audience: list, conditions: list):
    """How many rows, counted up to COUNT_CAP + 1 (a bounded read whatever the queue holds)."""
    if not audience:
        return select(literal(0))
    arms = [select(_i.c.task_id).where(who, *conditions).limit(COUNT_CAP + 1) for who in audience]
    if len(arms) > 1:
        merged = union_all(*[select(a.subquery()) for a in arms]).subquery()
        arms = [select(merged.c.task_id).limit(COUNT_CAP + 1)]
    return select(func.count()).select_from(arms[0].subquery())


def _cursor(row) -> str:
    """The opaque `next` cursor: the sort key, received time and id of a page's last row."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in row]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def _after(ordered: tuple, cursor: str, descending: bool):
    """The rows after a cursor's row, in the list's order (a row-value comparison the sort's index serves)."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(ordered):
            raise ValueError(cursor)
        typed = [datetime.fromisoformat(v) if isinstance(c.type, models.UtcDateTime) else str(v)
                 for c, v in zip(ordered, values)]
        if any(isinstance(v, datetime) and v.tzinfo is None for v in typed):
            raise ValueError(cursor)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidInput("invalid cursor", errors=[{"field": "after", "message": "not a cursor of this list"}]) \
            from exc
    row = tuple_(*ordered)
    bound = tuple_(*[literal(v, type_=c.type) for c, v in zip(ordered, typed)])
    return row < bound if descending else row > bound


def due_flags(due_at: datetime | None, now: datetime) -> dict:
    """Whether a deadline has passed, or falls within DUE_SOON_DAYS."""
    if due_at is None:
        return {"overdue": False, "due_soon": False}
    overdue = due_at < now
    return {"overdue": overdue, "due_soon": not overdue and due_at <= now + timedelta(days=DUE_SOON_DAYS)}
