"""The integrity status every auditor page shows: the last verification run and the last signed checkpoint."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from engine.storage import models

_ver = models.audit_verifications
_cp = models.audit_checkpoints
_heads = models.audit_heads


def integrity_status(conn) -> dict:
    """{"last_verification": {started_at, finished_at, ok, events, checkpoints, problem, run_by} | None,
        "last_checkpoint": {id, tree_size, root_hash, created_at, created_by, key_id, note} | None,
        "events": the number of sealed events (the head of the global chain)}"""
    verification = conn.execute(select(_ver).order_by(_ver.c.id.desc()).limit(1)).mappings().first()
    checkpoint = conn.execute(select(_cp).order_by(_cp.c.id.desc()).limit(1)).mappings().first()
    events = conn.execute(select(_heads.c.seq).where(_heads.c.name == "events")).scalar_one()
    return {"last_verification": dict(verification) if verification else None,
            "last_checkpoint": dict(checkpoint) if checkpoint else None, "events": events}


def record_verification(conn, started_at: datetime, finished_at: datetime, ok: bool, events: int,
                        checkpoints: int, problem: str | None, run_by: str | None) -> None:
    conn.execute(insert(_ver), {"started_at": started_at, "finished_at": finished_at, "ok": ok, "events": events,
                                "checkpoints": checkpoints, "problem": problem, "run_by": run_by})
