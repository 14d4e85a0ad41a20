"""The global chain's head (audit_heads "events") moves with the events a transaction appends and is written once,
as that transaction commits, whoever commits it; a rollback takes neither. On SQLite and PostgreSQL."""
from __future__ import annotations

import threading

from sqlalchemy import create_engine, event, select

from engine.accounts.users import map_lane
from engine.audit.verify import verify
from engine.integrity import keys
from engine.storage import models
from engine.storage.persistence import append_events, event_row
from engine.usecases import cases
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM, bpmn_fixture

_h, _e = models.audit_heads, models.events


def started(svc) -> int:
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")})
    return cases.start_case(svc, SYSTEM, "five_step", {"amount": 80}).id


def head(conn) -> tuple:
    return tuple(conn.execute(select(_h.c.seq, _h.c.chain).where(_h.c.name == "events")).one())


def last_event(conn) -> tuple:
    return tuple(conn.execute(select(_e.c.seq, _e.c.chain).order_by(_e.c.seq.desc()).limit(1)).one())


def test_a_transaction_writes_the_head_it_moved_once_after_its_events(svc, clock):
    case_id = started(svc)
    sent = []
    event.listen(svc.db, "before_cursor_execute", lambda *args: sent.append(args[2].split(" WHERE")[0]))
    with svc.uow() as uow:
        before = head(uow.conn)
        append_events(uow.conn, [event_row(case_id, clock(), "note", data={"n": 1})])
        append_events(uow.conn, [event_row(case_id, clock(), "note", data={"n": 2}),
                                 event_row(case_id, clock(), "note", data={"n": 3})])
        assert head(uow.conn) == before  # not yet: it goes with the commit
        uow.commit()
    heads = [i for i, sql in enumerate(sent) if sql.startswith("UPDATE audit_heads")]
    inserts = [i for i, sql in enumerate(sent) if sql.startswith("INSERT INTO events")]
    assert len(heads) == 1 and len(inserts) == 2 and heads[0] > inserts[-1]
    with svc.db.connect() as conn:
        assert head(conn) == last_event(conn) and head(conn)[0] == before[0] + 3
        case_seqs = list(conn.execute(select(_e.c.case_seq).where(_e.c.case_id == case_id).order_by(_e.c.seq))
                         .scalars())
        assert case_seqs == list(range(1, len(case_seqs) + 1)) and len(case_seqs) > 3
    assert verify(svc, keys.office_key(svc.settings).public_key()).ok


def test_a_rolled_back_transaction_leaves_the_head_and_the_next_one_continues_from_it(svc, clock):
    case_id = started(svc)
    with svc.db.connect() as conn:
        before = head(conn)
    with svc.uow() as uow:
        append_events(uow.conn, [event_row(case_id, clock(), "note", data={"n": 1})])
        # no commit: rolled back on exit
    with svc.db.connect() as conn:
        assert head(conn) == before == last_event(conn)
    with svc.uow() as uow:
        append_events(uow.conn, [event_row(case_id, clock(), "note", data={"n": 2})])
        uow.commit()
    with svc.db.connect() as conn:
        assert head(conn) == last_event(conn) and head(conn)[0] == before[0] + 1
    assert verify(svc, keys.office_key(svc.settings).public_key()).ok


def test_an_engine_not_made_by_make_engine_writes_the_head_too(svc, clock, database_url):
    case_id = started(svc)
    other = create_engine(database_url)
    try:
        with other.begin() as conn:
            before = head(conn)
            append_events(conn, [event_row(case_id, clock(), "note", data={"n": 1})])
        with other.connect() as conn:
            assert head(conn) == last_event(conn) and head(conn)[0] == before[0] + 1
    finally:
        other.dispose()
    assert verify(svc, keys.office_key(svc.settings).public_key()).ok


def test_writers_racing_on_many_cases_leave_one_gapless_sequence_in_commit_order(svc, clock):
    """Each transaction holds the head from its first event to its commit (PostgreSQL: the row lock; SQLite: BEGIN
    IMMEDIATE), so the racing writers' events number 1..n without a gap and the chains verify."""
    first = started(svc)
    others = [cases.start_case(svc, SYSTEM, "five_step", {"amount": 80}).id for _ in range(3)]
    problems = []

    def write(case_id):
        try:
            for n in range(5):
                with svc.uow() as uow:
                    append_events(uow.conn, [event_row(case_id, clock(), "note", data={"n": n})])
                    append_events(uow.conn, [event_row(case_id, clock(), "note", data={"n": n, "again": True})])
                    uow.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(exc)

    threads = [threading.Thread(target=write, args=(case_id,)) for case_id in [first, *others]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    with svc.db.connect() as conn:
        seqs = list(conn.execute(select(_e.c.seq).order_by(_e.c.id)).scalars())
        assert seqs == list(range(1, len(seqs) + 1)) and head(conn) == last_event(conn)
    assert verify(svc, keys.office_key(svc.settings).public_key()).ok
