"""What a monitor needs to know: the database answers, its schema is current, a scheduler is alive."""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine.storage import models

# Rows of schedulers that stopped without saying so (a kill, a power cut) are forgotten after this.
FORGET_HEARTBEATS_AFTER_SECONDS = 24 * 3600


def scheduler_name() -> str:
    """This scheduler process's heartbeat row: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat(svc, name: str, started_at: datetime) -> None:
    """Stamp this scheduler's heartbeat (one small transaction)."""
    hb = models.scheduler_heartbeats
    now = svc.clock()
    with svc.uow() as uow:
        done = uow.conn.execute(hb.update().where(hb.c.name == name).values(beat_at=now))
        if done.rowcount == 0:
            uow.conn.execute(hb.insert().values(name=name, started_at=started_at, beat_at=now))
            uow.conn.execute(delete(hb).where(
                hb.c.beat_at < now - timedelta(seconds=FORGET_HEARTBEATS_AFTER_SECONDS)))
        uow.commit()


def forget(svc, name: str) -> None:
    """Remove this scheduler's row on a clean stop."""
    hb = models.scheduler_heartbeats
    with svc.uow() as uow:
        uow.conn.execute(delete(hb).where(hb.c.name == name))
        uow.commit()


def expected_revisions() -> frozenset[str]:
    """The migration heads this code needs."""
    from engine.storage.migrate import code_heads  # alembic is loaded when first asked, not at start-up
    return code_heads()


def report(svc, scheduler_stale_after_seconds: float, require_scheduler: bool = True) -> tuple[bool, dict]:
    """(healthy, details): database reachable, migrations at the code's heads, a fresh scheduler heartbeat."""
    try:
        with svc.uow(write=False) as uow:
            uow.conn.execute(text("SELECT 1"))
            current = _scalars(uow.conn, text("SELECT version_num FROM alembic_version"))
            beats = _scalars(uow.conn, select(func.max(models.scheduler_heartbeats.c.beat_at)))
    except SQLAlchemyError as exc:
        return False, {"database": {"ok": False, "error": type(getattr(exc, "orig", None) or exc).__name__}}
    expected = expected_revisions()
    newest = beats[0] if beats else None
    age = (svc.clock() - newest).total_seconds() if newest else None
    fresh = age is not None and age <= scheduler_stale_after_seconds
    checks = {
        "database": {"ok": True},
        "migrations": {"ok": set(current or ()) == expected, "current": sorted(current or ()),
                       "expected": sorted(expected)},
        "scheduler": {"ok": fresh or not require_scheduler, "required": require_scheduler,
                      "last_heartbeat": newest.isoformat() if newest else None,
                      "age_seconds": round(age, 1) if age is not None else None,
                      "stale_after_seconds": scheduler_stale_after_seconds},
    }
    return all(c["ok"] for c in checks.values()), checks


def _scalars(conn, statement) -> list | None:
    """The statement's values, or None where its table does not exist yet (an unmigrated database)."""
    try:
        with conn.begin_nested():
            return [v for v in conn.execute(statement).scalars() if v is not None]
    except SQLAlchemyError:
        return None
