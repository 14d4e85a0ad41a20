"""Appending to the administration log (table admin_log): here, below the accounts, so the account use cases
write their row in their own transaction; engine/usecases/admin_log.py is its public face and its reader."""
from __future__ import annotations

from sqlalchemy import insert

from engine.integrity import canonical
from engine.storage import models
from engine.storage.chain import read_head, write_head
from engine.storage.persistence import dump_data

_log = models.admin_log
HEAD = "admin"
MAX_TARGET_CHARS = 200


def append(conn, *, actor: str | None, action: str, target: str, detail: dict | None, at) -> int:
    """Append one row in the caller's transaction, chained from the "admin" head; its seq."""
    seq, chain = read_head(conn, HEAD)
    seq += 1
    target = str(target)[:MAX_TARGET_CHARS]
    detail_json = dump_data(detail) if detail is not None else None
    chain = canonical.log_link(chain, canonical.leaf_hash(
        canonical.access_entry(seq, at, actor, action, target, detail_json)))
    conn.execute(insert(_log), {"seq": seq, "at": at, "actor": actor, "action": action, "target": target,
                                "detail_json": detail_json, "chain": chain.hex()})
    write_head(conn, HEAD, seq, chain)
    return seq
