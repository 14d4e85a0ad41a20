"""The optimistic version check (engine/storage/concurrency.py) on SQLite and PostgreSQL: stale writes lose."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, func, insert, select, text

from engine.errors import Conflict
from engine.storage.concurrency import bump_version, bump_versions, versioned_update
from tests.conftest import _postgres_url, make_services
from tests.waiting import wait_until

_metadata = MetaData()
_probes = Table("concurrency_probes", _metadata,
                Column("id", Integer, primary_key=True, autoincrement=False),
                Column("version", Integer, nullable=False),
                Column("label", String(40), nullable=False),
                Column("stamp", DateTime(timezone=True)))
_UPDATE = versioned_update(_probes)
# A column written by SQL: the stamp is kept unless a new one is bound.
_UPDATE_KEEPING_STAMP = versioned_update(_probes, stamp=func.coalesce(bindparam("b_stamp", type_=DateTime(timezone=True)),
                                                                      _probes.c.stamp))
STAMP = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


def _with_probes(svc):
    _metadata.create_all(svc.db)
    with svc.uow() as uow:
        uow.conn.execute(insert(_probes), [{"id": i, "version": 1, "label": f"row {i}", "stamp": STAMP}
                                           for i in (1, 2, 3)])
        uow.commit()
    return svc


@pytest.fixture
def probes(svc):
    """Rows 1..3 at version 1, in a table of the test's database (SQLite file or PostgreSQL schema)."""
    return _with_probes(svc)


@pytest.fixture
def pg_probes(clock):
    """The same rows on PostgreSQL only (SQLite writers queue at BEGIN IMMEDIATE, before reading: no lock wait)."""
    url, drop = _postgres_url()
    svc = make_services(url, clock)
    yield _with_probes(svc)
    svc.db.dispose()
    drop()


def rows(svc) -> dict:
    with svc.uow(write=False) as uow:
        return {r.id: (r.version, r.label) for r in uow.conn.execute(select(_probes))}


def test_the_version_read_writes_the_values_and_adds_one(probes):
    with probes.uow() as uow:
        assert bump_version(uow.conn, _UPDATE, 2, 1, {"label": "changed"}, Conflict("lost")) == 2
        uow.commit()
    assert rows(probes) == {1: (1, "row 1"), 2: (2, "changed"), 3: (1, "row 3")}
    with probes.uow() as uow:
        assert bump_version(uow.conn, _UPDATE, 2, 2, {"label": "again"}, Conflict("lost")) == 3
        uow.commit()
    assert rows(probes)[2] == (3, "again")


@pytest.mark.parametrize("stale", [0, 2, 7])
def test_a_stale_version_raises_the_given_conflict_and_changes_nothing(probes, stale):
    conflict = Conflict("the case was changed by someone else; reload it and try again", case_id=2)
    with probes.uow() as uow:
        with pytest.raises(Conflict) as raised:
            bump_version(uow.conn, _UPDATE, 2, stale, {"label": "overwritten"}, conflict)
        assert raised.value is conflict
        assert raised.value.to_dict() == {"code": "conflict", "case_id": 2,
                                          "message": "the case was changed by someone else; reload it and try again"}
        uow.commit()  # even committed, the refused write left nothing behind
    assert rows(probes) == {1: (1, "row 1"), 2: (1, "row 2"), 3: (1, "row 3")}


def test_a_missing_row_is_a_conflict_too(probes):
    with probes.uow() as uow, pytest.raises(Conflict, match="gone"):
        bump_version(uow.conn, _UPDATE, 99, 1, {"label": "x"}, Conflict("gone"))


def test_a_batch_at_its_versions_is_written_in_one_statement(probes):
    later = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)
    with probes.uow() as uow:
        bump_versions(uow.conn, _UPDATE_KEEPING_STAMP, [(1, 1, {"label": "one", "b_stamp": later}),
                                                        (3, 1, {"label": "three", "b_stamp": None})],
                      Conflict("lost"))
        uow.commit()
    assert rows(probes) == {1: (2, "one"), 2: (1, "row 2"), 3: (2, "three")}
    with probes.uow(write=False) as uow:
        stamps = dict(uow.conn.execute(select(_probes.c.id, _probes.c.stamp)).all())
    assert {i: s.astimezone(timezone.utc) if s.tzinfo else s.replace(tzinfo=timezone.utc)
            for i, s in stamps.items()} == {1: later, 2: STAMP, 3: STAMP}


def test_one_stale_row_fails_the_batch_and_the_transaction_writes_nothing(probes):
    with pytest.raises(Conflict, match="a case changed while its timers fired"):
        with probes.uow() as uow:
            bump_versions(uow.conn, _UPDATE, [(1, 1, {"label": "one"}), (2, 5, {"label": "two"}),
                                              (3, 1, {"label": "three"})],
                          Conflict("a case changed while its timers fired"))
            uow.commit()
    assert rows(probes) == {1: (1, "row 1"), 2: (1, "row 2"), 3: (1, "row 3")}


def test_an_empty_batch_runs_no_statement(probes):
    with probes.uow() as uow:
        bump_versions(uow.conn, _UPDATE, [], Conflict("lost"))
    assert rows(probes)[1] == (1, "row 1")


def test_of_writers_racing_from_the_same_version_exactly_one_wins(probes):
    writers = 4
    start = threading.Barrier(writers)
    outcomes, lock = {}, threading.Lock()

    def write(n):
        conflict = Conflict(f"writer {n} lost")
        start.wait()
        try:
            with probes.uow() as uow:
                bump_version(uow.conn, _UPDATE, 1, 1, {"label": f"writer {n}"}, conflict)
                uow.commit()
            outcome = "won"
        except Conflict as exc:
            outcome = "lost on the version" if exc is conflict else f"other conflict: {exc}"
        with lock:
            outcomes[n] = outcome

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outcomes.values()) == ["lost on the version"] * (writers - 1) + ["won"]
    [winner] = [n for n, outcome in outcomes.items() if outcome == "won"]
    assert rows(probes)[1] == (2, f"writer {winner}")


def blocked_by(svc, pid: int) -> int:
    """How many backends wait on a lock that backend `pid` holds."""
    with svc.db.connect() as conn:  # a new transaction each time: pg_stat_activity is a snapshot per transaction
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
                            {"pid": pid}).scalar()


def test_a_writer_waiting_on_the_row_lock_loses_once_the_first_commits(pg_probes):
    """PostgreSQL lets both transactions begin; the second UPDATE waits for the row, then re-checks the version."""
    probes = pg_probes
    first = probes.uow().__enter__()
    bump_version(first.conn, _UPDATE, 1, 1, {"label": "first"}, Conflict("first lost"))
    first_pid = first.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    second_conflict = Conflict("second lost")
    outcome = []

    def second():
        try:
            with probes.uow() as uow:
                bump_version(uow.conn, _UPDATE, 1, 1, {"label": "second"}, second_conflict)
                uow.commit()
            outcome.append("won")
        except Conflict as exc:
            outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        wait_until(lambda: blocked_by(probes, first_pid), "the second writer to wait on the row")
        first.commit()
    finally:
        first.__exit__(None, None, None)
        thread.join()
    assert outcome == [second_conflict]
    assert rows(probes)[1] == (2, "first")
