"""The access log: what a user viewed or exported of the record (data protection under the LAIP), chained like the
events (head "access" in audit_heads, canonical.access_entry) and append-only in the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from engine.integrity import canonical
from engine.storage.chain import read_head, write_head
from engine.storage import models
from engine.storage.persistence import dump_data

_log = models.access_log


def record_access(conn, at: datetime, actor: str | None, action: str, target: str | None = None,
                  detail: dict | None = None) -> int:
    """Append one row in the caller's write transaction; its seq."""
    seq, chain = read_head(conn, "access")
    seq += 1
    target = target[:200] if target else target
    detail_json = dump_data(detail) if detail is not None else None
    chain = canonical.log_link(chain, canonical.leaf_hash(
        canonical.access_entry(seq, at, actor, action, target, detail_json)))
    conn.execute(insert(_log), {"seq": seq, "at": at, "actor": actor, "action": action, "target": target,
                                "detail_json": detail_json, "chain": chain.hex()})
    write_head(conn, "access", seq, chain)
    return seq


def log_access(svc, actor: str | None, action: str, target: str | None = None, detail: dict | None = None) -> int:
    """record_access in its own transaction (a page or export that only reads the record)."""
    with svc.uow() as uow:
        seq = record_access(uow.conn, svc.clock(), actor, action, target, detail)
        uow.commit()
    return seq
