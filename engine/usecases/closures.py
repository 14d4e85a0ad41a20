"""Office closure days (declared emergencies, ...): managed by admins, effective for deadlines computed after."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from engine.accounts.permissions import Principal, use_case
from engine.storage import models
from engine.errors import Conflict, InvalidInput, NotFound

MAX_DESCRIPTION_CHARS = 200
_closures = models.closure_days


class ClosureNotFound(NotFound):
    code = "closure_not_found"


@use_case("closure.manage")
def add_closure(svc, principal: Principal, day: date, description: str) -> dict:
    """Declare the office closed on `day`; deadlines computed from now on skip it."""
    day = _as_date(day)
    description = (description or "").strip()
    if not description or len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(f"the reason must have 1 to {MAX_DESCRIPTION_CHARS} characters",
                           errors=[{"field": "description", "message": "required, at most 200 characters"}])
    row = {"day": day, "description": description, "created_by": principal.username, "created_at": svc.clock()}
    try:
        with svc.uow() as uow:
            row["id"] = uow.conn.execute(insert(_closures).values(**row)).inserted_primary_key[0]
            uow.commit()
    except IntegrityError:  # the unique day: decided by the database, so two admins cannot both add it
        raise Conflict(f"{day.isoformat()} is already a closure day", day=day.isoformat()) from None
    refresh_calendar(svc)
    return row


@use_case("closure.manage")
def remove_closure(svc, principal: Principal, day: date) -> None:
    """Reopen `day`; deadlines already computed keep their dates."""
    day = _as_date(day)
    with svc.uow() as uow:
        if uow.conn.execute(delete(_closures).where(_closures.c.day == day)).rowcount != 1:
            raise ClosureNotFound(f"{day.isoformat()} is not a closure day", day=day.isoformat())
        uow.commit()
    refresh_calendar(svc)


@use_case("closure.read")
def list_closures(svc, principal: Principal, year: int | None = None) -> list[dict]:
    """Closure days, earliest first (of one year, or all)."""
    query = select(_closures).order_by(_closures.c.day)
    if year is not None:
        query = query.where(_closures.c.day >= date(year, 1, 1), _closures.c.day <= date(year, 12, 31))
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(query).mappings()]


def load_closures(conn) -> dict[date, str]:
    return dict(conn.execute(select(_closures.c.day, _closures.c.description)).all())


def refresh_calendar(svc) -> None:
    """Make the services' calendar see the stored closure days."""
    with svc.uow(write=False) as uow:
        if not inspect(uow.conn).has_table("closure_days"):
            return  # not migrated yet (e.g. `expediente migrate` itself)
        closures = load_closures(uow.conn)
    # One assignment on the shared calendar object: the BPMN script helpers hold this very object,
    # and other threads see either the old set or the new one, never a half-built dict.
    svc.calendar.closures = closures


def _as_date(value) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"'{value}' is not a date (YYYY-MM-DD)", errors=[{"field": "day"}])
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidInput("the closure day must be a date", errors=[{"field": "day"}])
    return value
