"""The services' calendar in line with the stored closure days, cheaply enough to check at every step."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.storage import models

_closures = models.closure_days
_FINGERPRINT = select(func.count(), func.max(_closures.c.id))
# The same two values as columns of another query (the step's first read carries them: one statement fewer).
FINGERPRINT_COLUMNS = (select(func.count()).select_from(_closures).scalar_subquery().label("closures_count"),
                       select(func.max(_closures.c.id)).scalar_subquery().label("closures_max"))


def load_closures(conn) -> dict[date, str]:
    return dict(conn.execute(select(_closures.c.day, _closures.c.description)).all())


def sync_calendar(svc, conn, force: bool = False, fingerprint: tuple | None = None) -> None:
    """Bring the services' calendar in line with the closure days `conn` sees, if they changed (a count and the
    highest id tell: every addition takes a new id, every removal lowers the count). Called at every step, so a
    closure another worker declared counts from the next step on, not after a polling interval. `fingerprint`:
    the (count, highest id) a query of this transaction just read with FINGERPRINT_COLUMNS, instead of reading them
    here (nothing may have changed the closure days in between)."""
    if fingerprint is None:
        fingerprint = tuple(conn.execute(_FINGERPRINT).one())
    calendar = svc.calendar
    if force or getattr(calendar, "closures_fingerprint", None) != fingerprint:
        # One assignment on the shared calendar object: the BPMN script helpers hold this very object,
        # and other threads see either the old set or the new one, never a half-built dict.
        calendar.closures = load_closures(conn)
        calendar.closures_fingerprint = fingerprint
