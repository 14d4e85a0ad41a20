"""Hits counted per scope and key in fixed windows, keys stored only as hashes, old windows purged."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from engine.storage import models, rate_limits

NOW = datetime(2026, 12, 3, 15, 0, 10, tzinfo=timezone.utc)


def hits(svc, scope, key, now, limit=3):
    with svc.uow() as uow:
        allowed = rate_limits.hit(uow.conn, scope, key, now, window_seconds=60, limit=limit)
        uow.commit()
    return allowed


def test_a_key_is_allowed_up_to_its_limit_per_window_then_refused_until_the_next(svc):
    assert [hits(svc, "consulta", "ABCD2345", NOW) for _ in range(4)] == [True, True, True, False]
    assert hits(svc, "consulta", "abcd2345 ", NOW) is False  # the same key, however typed
    assert hits(svc, "consulta", "OTHER", NOW) is True  # other keys and scopes count apart
    assert hits(svc, "filing", "ABCD2345", NOW) is True
    assert hits(svc, "consulta", "ABCD2345", NOW + timedelta(seconds=60)) is True  # a new window
    with svc.uow(write=False) as uow:
        stored = {r.key_hash for r in uow.conn.execute(models.rate_limits.select())}
    assert "ABCD2345" not in " ".join(stored) and len(next(iter(stored))) == 64


def test_hits_at_the_same_moment_all_count(svc):
    def one():
        hits(svc, "consulta", "K", NOW, limit=100)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with svc.uow(write=False) as uow:
        assert uow.conn.execute(models.rate_limits.select()).one().hits == 6


def test_windows_older_than_a_day_are_purged(svc):
    hits(svc, "consulta", "OLD", NOW - timedelta(days=2))
    hits(svc, "consulta", "NEW", NOW)
    with svc.uow() as uow:
        assert rate_limits.purge(uow.conn, NOW) == 1
        uow.commit()
