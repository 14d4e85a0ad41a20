"""Counting hits per scope and key in fixed windows, in the caller's transaction: how the public pages slow down
guessing (tracking codes) and abuse (online filings) without accounts or CAPTCHAs.

Keys (a client's address, a tracking code, an e-mail address) are stored only as a SHA-256 hash. `hit` adds one
to the key's current window and says whether it is still within `limit`; counting happens in one statement, so
two requests at the same moment both count. `purge` drops windows older than a day (the scheduler calls it)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, delete

from engine.storage import models
from engine.storage.db import count_up

_r = models.rate_limits
_HIT = count_up(_r, {"scope": bindparam("b_scope"), "key_hash": bindparam("b_key"),
                     "window_start": bindparam("b_window")},
                [_r.c.scope, _r.c.key_hash, _r.c.window_start], _r.c.hits)
KEEP = timedelta(days=1)


def key_hash(key: str) -> str:
    """How a key is stored: normalised (trimmed, case-folded) and hashed."""
    return hashlib.sha256(key.strip().casefold().encode("utf-8")).hexdigest()


def window_of(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed window `now` falls in (UTC)."""
    epoch = int(now.astimezone(timezone.utc).timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, timezone.utc)


def hit(conn, scope: str, key: str, now: datetime, *, window_seconds: int, limit: int) -> bool:
    """Count one hit of `key` in `scope`; True while the window's hits are at most `limit`."""
    hits = conn.execute(_HIT[conn.dialect.name], {"b_scope": scope, "b_key": key_hash(key),
                                                  "b_window": window_of(now, window_seconds)}).scalar_one()
    return hits <= limit


def purge(conn, now: datetime) -> int:
    """Delete windows older than KEEP; returns how many."""
    return conn.execute(delete(_r).where(_r.c.window_start < now - KEEP)).rowcount
