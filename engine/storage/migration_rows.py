"""The projection rows a migration's undo brings back (engine/usecases/case_migration_apply.py).

Undoing a migration puts back the case's previous workflow, whose waiting tasks, timers and message waits keep their
ids: their rows are still there, cancelled by the migration. They are made live again here (the inbox follows the
tasks' state through its triggers) rather than inserted anew, which their primary keys would refuse.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from engine.storage import models

_tasks, _timers, _waits = models.tasks, models.timers, models.message_waits


def _existing(conn, table, case_id: int, ids) -> set[str]:
    if not ids:
        return set()
    return set(conn.execute(select(table.c.id).where(table.c.case_id == case_id, table.c.id.in_(sorted(ids))))
               .scalars())


def revive(conn, case_id: int, snap, now: datetime):
    """Make the rows of `snap`'s tasks, timers and waits that exist live again; the snapshot of those revived
    (persistence.Snapshot: the projection then inserts only the others)."""
    from engine.storage.persistence import Snapshot  # persistence imports the storage modules this one sits beside
    tasks = _existing(conn, _tasks, case_id, [t.id for t in snap.tasks])
    if tasks:
        conn.execute(update(_tasks).where(_tasks.c.id.in_(sorted(tasks)))
                     .values(state="ready", completed_at=None, completed_by=None))
    timers = _existing(conn, _timers, case_id, snap.timers)
    for tid in timers:
        conn.execute(update(_timers).where(_timers.c.id == tid)
                     .values(state="waiting", fired_at=None, due_at=snap.timers[tid][1]))
    waits = _existing(conn, _waits, case_id, snap.waits)
    if waits:
        conn.execute(update(_waits).where(_waits.c.id.in_(sorted(waits))).values(state="waiting", closed_at=None))
    return Snapshot([t for t in snap.tasks if t.id in tasks], {k: v for k, v in snap.timers.items() if k in timers},
                    {k: v for k, v in snap.waits.items() if k in waits})
