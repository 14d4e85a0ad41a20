"""The auditor's search across the history of every case: one page at a time (newest first) or the whole selection
streamed for an export (oldest first), and what he views logged (engine.audit.access).

Only indexed columns are filtered (events: ix_events_at, ix_events_actor_at, ix_events_kind_at; cases: its number,
municipality and process key), and pages are cut by the events' global sequence (keyset), so a page costs the
same at event 10 as at event 10,000,000. A case's full record is engine.usecases.audit_record.case_record."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from datetime import date, datetime, timedelta

import orjson
from sqlalchemy import and_, func, select, true

from engine.accounts.permissions import Principal, use_case
from engine.audit.access import log_access
from engine.audit.status import integrity_status
from engine.errors import InvalidInput
from engine.storage import models
from engine.timekeeping.calendar import office_midnight
from engine.usecases.intake import process_names

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

# Every kind of event the engine writes (engine.storage.persistence.event_row callers).
EVENT_KINDS = ("case_started", "task_claimed", "task_released", "task_assigned", "task_completed", "timer_fired",
               "escalated", "document_issued", "attachment_added", "error", "retried", "case_suspended",
               "case_resumed", "case_cancelled", "case_completed", "message_received", "message_sent",
               "message_retried", "message_discarded", "institution_requested", "institution_reminder",
               "institution_escalated", "institution_request_expired", "institution_answered", "case_migrated",
               "case_migration_undone")
FILTERS = ("actor", "date_from", "date_to", "process_key", "element_id", "kind", "case_number", "municipality")
MAX_LIMIT = 500
EXPORT_BATCH_ROWS = 1000  # rows read per transaction while an export streams: memory stays bounded

_e, _c = models.events, models.cases
_COLUMNS = (_e.c.seq, _e.c.case_seq, _e.c.case_id, _c.c.number.label("case_number"), _c.c.process_key,
            _c.c.municipality, _e.c.at, _e.c.kind, _e.c.element_id, _e.c.task_id, _e.c.actor, _e.c.data_json,
            _e.c.changes_json, _e.c.leaf_hash)
_EQUALS = {"actor": _e.c.actor, "process_key": _c.c.process_key, "element_id": _e.c.element_id,
           "kind": _e.c.kind, "case_number": _c.c.number, "municipality": _c.c.municipality}


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _day(field: str, value) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _invalid(field, "not a date (YYYY-MM-DD)") from None


def clean_filters(filters: dict | None) -> dict:
    """The filters as the search applies them: known names only, empty values dropped, dates as dates, kinds
    known; InvalidInput naming the field otherwise."""
    unknown = sorted(set(filters or {}) - set(FILTERS))
    if unknown:
        raise _invalid(unknown[0], f"unknown filter; one of {', '.join(FILTERS)}")
    clean = {}
    for name in FILTERS:
        value = (filters or {}).get(name)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            continue
        if name in ("date_from", "date_to"):
            value = _day(name, value)
        elif not isinstance(value, str) or len(value) > 200:
            raise _invalid(name, "must be a text of at most 200 characters")
        clean[name] = value
    if clean.get("kind") is not None and clean["kind"] not in EVENT_KINDS:
        raise _invalid("kind", f"unknown event kind; one of {', '.join(EVENT_KINDS)}")
    if "date_from" in clean and "date_to" in clean and clean["date_to"] < clean["date_from"]:
        raise _invalid("date_to", "before date_from")
    return clean



def _where(filters: dict):
    conditions = [_EQUALS[name] == value for name, value in filters.items() if name in _EQUALS]
    if "date_from" in filters:
        conditions.append(_e.c.at >= office_midnight(filters["date_from"]))
    if "date_to" in filters and filters["date_to"] < date.max:
        conditions.append(_e.c.at < office_midnight(filters["date_to"] + timedelta(days=1)))
    return and_(true(), *conditions)


def event_of(row) -> dict:
    """One found event as the search returns it (data and changes parsed)."""
    event = {str(key): value for key, value in row._mapping.items()}  # plain str keys (orjson refuses subclasses)
    event["data"] = orjson.loads(event.pop("data_json")) if row.data_json else None
    event["changes"] = orjson.loads(event.pop("changes_json")) if row.changes_json else None
    return event


def describe(filters: dict) -> str:
    """The filters in short, for the access log's target ("actor=ana kind=task_completed"; "all")."""
    return " ".join(f"{name}={value}" for name, value in filters.items()) or "all"


def _logged(filters: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in filters.items()}


def _count(conn, where) -> int:
    return conn.execute(select(func.count()).select_from(_e.join(_c, _c.c.id == _e.c.case_id))
                        .where(where)).scalar_one()


@use_case("audit.read")
def search_form(svc: Services, principal: Principal) -> dict:
    """What the search page offers and shows above it: the procedures' names (key: name), the event kinds and
    the integrity status (engine.audit.status)."""
    with svc.uow(write=False) as uow:
        return {"names": process_names(uow.conn), "kinds": EVENT_KINDS, "integrity": integrity_status(uow.conn)}


@use_case("audit.read")
def search_events(svc: Services, principal: Principal, filters: dict | None = None, *, limit: int = 50,
                  before_seq: int | None = None) -> dict:
    """One page of the events matching every filter, newest first: {"events", "total" (of the whole selection),
    "next_before" (the before_seq of the next page, None on the last)}. Logged as "audit.search"."""
    filters = clean_filters(filters)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise _invalid("limit", f"must be from 1 to {MAX_LIMIT}")
    if before_seq is not None and (not isinstance(before_seq, int) or before_seq < 1):
        raise _invalid("before_seq", "must be a positive whole number")
    where = _where(filters)
    page = where if before_seq is None else and_(where, _e.c.seq < before_seq)
    with svc.uow(write=False) as uow:
        total = _count(uow.conn, where)
        rows = uow.conn.execute(select(*_COLUMNS).join(_c, _c.c.id == _e.c.case_id).where(page)
                                .order_by(_e.c.seq.desc()).limit(limit + 1)).all()
    events = [event_of(r) for r in rows[:limit]]
    log_access(svc, principal.username, "audit.search", describe(filters),
               {"filters": _logged(filters), "before_seq": before_seq, "shown": len(events), "total": total})
    return {"events": events, "total": total, "next_before": events[-1]["seq"] if len(rows) > limit else None}


@use_case("audit.export")
def iter_search(svc: Services, principal: Principal, filters: dict | None = None, *,
                export_format: str | None = None) -> tuple[int, Iterator[dict]]:
    """The whole selection for an export: its total and an iterator of its events, oldest first, read in batches
    (each in its own read transaction) and bounded by the history's head when asked, so the total holds for
    what is streamed. Logged as "audit.search_export" when asked (not when the last row is sent)."""
    filters = clean_filters(filters)
    where = _where(filters)
    with svc.uow(write=False) as uow:
        upto = uow.conn.execute(select(models.audit_heads.c.seq)
                                .where(models.audit_heads.c.name == "events")).scalar_one()
        where = and_(where, _e.c.seq <= upto)
        total = _count(uow.conn, where)
    log_access(svc, principal.username, "audit.search_export", describe(filters),
               {"filters": _logged(filters), "total": total, "format": export_format})
    return total, _batches(svc, where)


def _batches(svc: Services, where) -> Iterator[dict]:
    after = 0
    while True:
        with svc.uow(write=False) as uow:
            rows = uow.conn.execute(select(*_COLUMNS).join(_c, _c.c.id == _e.c.case_id)
                                    .where(where, _e.c.seq > after).order_by(_e.c.seq)
                                    .limit(EXPORT_BATCH_ROWS)).all()
        for row in rows:
            yield event_of(row)
        if len(rows) < EXPORT_BATCH_ROWS:
            return
        after = rows[-1].seq


from engine.usecases.audit_record import case_record  # noqa: E402,F401  (one import for callers: api, web)
