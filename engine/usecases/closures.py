"""Office closure days (declared emergencies, ...): managed by admins; adding or removing one moves the running
deadlines and timers that counted over it (engine.usecases.deadline_moves)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from engine.accounts.permissions import Principal, use_case
from engine.storage import models
from engine.storage.closure_sync import sync_calendar
from engine.errors import Conflict, InvalidInput, NotFound

MAX_DESCRIPTION_CHARS = 200
_closures = models.closure_days


class ClosureNotFound(NotFound):
    code = "closure_not_found"


@use_case("closure.manage")
def add_closure(svc, principal: Principal, day: date, description: str) -> dict:
    """Declare the office closed on `day`: in one transaction, the open legal deadlines and waiting timers whose
    window holds it move (engine.usecases.deadline_moves; "moved" says what moved) and the administration log
    records it; every worker sees the new calendar at its next step (sync_calendar)."""
    day = _as_date(day)
    description = (description or "").strip()
    if not description or len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(f"the reason must have 1 to {MAX_DESCRIPTION_CHARS} characters",
                           errors=[{"field": "description", "message": "required, at most 200 characters"}])
    row = {"day": day, "description": description, "created_by": principal.username, "created_at": svc.clock()}
    try:
        with svc.uow() as uow:
            row["id"] = uow.conn.execute(insert(_closures).values(**row)).inserted_primary_key[0]
            row["moved"] = _recount(svc, uow.conn, principal, day, row["created_at"], added=True,
                                    detail={"description": description})
            uow.commit()
    except IntegrityError:  # the unique day: decided by the database, so two admins cannot both add it
        refresh_calendar(svc)
        raise Conflict(f"{day.isoformat()} is already a closure day", day=day.isoformat()) from None
    except BaseException:
        refresh_calendar(svc)  # the calendar the failed transaction counted on is not the stored one
        raise
    return row


@use_case("closure.manage")
def remove_closure(svc, principal: Principal, day: date) -> dict:
    """Reopen `day`: what counted over it moves back, in the same transaction (see add_closure)."""
    day = _as_date(day)
    try:
        with svc.uow() as uow:
            description = uow.conn.execute(select(_closures.c.description).where(_closures.c.day == day)).scalar()
            if uow.conn.execute(delete(_closures).where(_closures.c.day == day)).rowcount != 1:
                raise ClosureNotFound(f"{day.isoformat()} is not a closure day", day=day.isoformat())
            moved = _recount(svc, uow.conn, principal, day, svc.clock(), added=False,
                             detail={"description": description})
            uow.commit()
    except BaseException:
        refresh_calendar(svc)
        raise
    return {"day": day, "moved": moved}


def _recount(svc, conn, principal: Principal, day: date, now, *, added: bool, detail: dict) -> dict:
    """Count on the calendar with the change (this transaction's closure days), move what counted over the day,
    and log the change."""
    from engine.usecases import admin_log, deadline_moves  # deadline_moves reaches persistence, which needs this
    sync_calendar(svc, conn, force=True)
    moved = deadline_moves.move_for_closure(svc, conn, day, now, principal.username, added)
    admin_log.record(conn, actor=principal.username, action="closure.add" if added else "closure.remove",
                     target=day.isoformat(), detail={**detail, "moved": moved}, at=now)
    return moved


@use_case("closure.read")
def list_closures(svc, principal: Principal, year: int | None = None) -> list[dict]:
    """Closure days, earliest first (of one year, or all)."""
    query = select(_closures).order_by(_closures.c.day)
    if year is not None:
        query = query.where(_closures.c.day >= date(year, 1, 1), _closures.c.day <= date(year, 12, 31))
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(query).mappings()]


def refresh_calendar(svc) -> None:
    """Make the services' calendar see the stored closure days."""
    with svc.uow(write=False) as uow:
        if not inspect(uow.conn).has_table("closure_days"):
            return  # not migrated yet (e.g. `expediente migrate` itself)
        sync_calendar(svc, uow.conn, force=True)


def _as_date(value) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"'{value}' is not a date (YYYY-MM-DD)", errors=[{"field": "day"}])
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidInput("the closure day must be a date", errors=[{"field": "day"}])
    return value
