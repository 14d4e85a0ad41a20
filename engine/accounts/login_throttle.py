"""Failed logins counted per typed username, whether or not the account exists.

An unknown name slows down and locks exactly like a real account, so the answers to a login say nothing about
which usernames exist. Names are normalised (NFKC, trimmed, case-folded) before counting, so variants of one
name share its count, and stored only as a hash.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select

from engine.storage import models
from engine.storage.db import count_up

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

# A name with no failure for this long starts again from zero (and its row is deleted).
FORGET_AFTER_SECONDS = 24 * 3600
_f = models.login_failures
# Insert the first failure or add one, in one statement: two wrong guesses at the same moment both count.
_COUNT = count_up(_f, {"name_key": bindparam("b_key"), "last_failure_at": bindparam("b_now")}, [_f.c.name_key],
                  _f.c.failures, also={"last_failure_at": bindparam("b_now")})


@dataclass(frozen=True)
class LoginPolicy:
    """How repeated failed logins slow down and then lock a username."""

    max_failures: int = 5           # this many failures in a row lock the name
    lock_seconds: int = 15 * 60
    # Before the lock, each failure after the first makes the next attempt wait 1, 2, 4... seconds.
    first_delay_seconds: float = 1.0

    def wait_seconds(self, failures: int) -> float:
        """How long the next attempt must wait after this many failures in a row."""
        if failures >= self.max_failures:
            return self.lock_seconds
        return self.first_delay_seconds * 2 ** (failures - 2) if failures >= 2 else 0


@dataclass(frozen=True)
class Failures:
    count: int
    locked_until: datetime | None


def name_key(username: str) -> str:
    """The row key of a typed username: what a person would consider the same name gets the same key."""
    normalised = unicodedata.normalize("NFKC", username).strip().casefold()
    return hashlib.sha256(normalised.encode()).hexdigest()


def read(conn, username: str) -> Failures | None:
    """The failures recorded for this name, if any."""
    row = conn.execute(select(_f.c.failures, _f.c.locked_until).where(_f.c.name_key == name_key(username))).first()
    return Failures(row.failures, row.locked_until) if row else None


def read_many(conn, usernames: list[str]) -> dict[str, Failures]:
    """username -> its failures, for the names that have some (the accounts list)."""
    keys = {name_key(u): u for u in usernames}
    if not keys:
        return {}
    rows = conn.execute(select(_f.c.name_key, _f.c.failures, _f.c.locked_until).where(_f.c.name_key.in_(list(keys))))
    return {keys[r.name_key]: Failures(r.failures, r.locked_until) for r in rows}


def note_failure(svc: Services, username: str, policy: LoginPolicy) -> None:
    """Count one more failure for the name and set the wait (or the lock) it earns."""
    now, key = svc.clock(), name_key(username)
    with svc.uow() as uow:
        conn = uow.conn
        # Forget names idle for a day (the same statement for every name, so nothing here depends on it).
        conn.execute(delete(_f).where(_f.c.last_failure_at < now - timedelta(seconds=FORGET_AFTER_SECONDS),
                                      or_(_f.c.locked_until.is_(None), _f.c.locked_until <= now)))
        failures = conn.execute(_COUNT[conn.dialect.name], {"b_key": key, "b_now": now}).scalar_one()
        wait = policy.wait_seconds(failures)
        if wait:
            conn.execute(_f.update().where(_f.c.name_key == key).values(locked_until=now + timedelta(seconds=wait)))
        uow.commit()


def clear(conn, username: str) -> None:
    """Forget the name's failures (a successful login, an administrator's unlock, a password reset)."""
    conn.execute(delete(_f).where(_f.c.name_key == name_key(username)))
