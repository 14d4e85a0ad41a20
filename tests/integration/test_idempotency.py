"""Idempotency keys in the engine (SQLite and PostgreSQL): recorded with the use case, replayed, purged."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.usecases import cases
from engine.storage import idempotency
from engine.storage import models
from engine.ops import scheduler
from engine.usecases.deploy import deploy_files
from engine.errors import Conflict, ProcessNotFound
from tests.conftest import bpmn_fixture, principal_for

USER = 7


@pytest.fixture
def deployed(svc):
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    return svc


def start(svc):
    return cases.start_case(svc, principal_for("oficial1"), "five_step", {"amount": 10})


def count(svc, table) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(table)).scalar_one()


def keys(svc) -> list[str]:
    k = models.idempotency_keys
    with svc.uow(write=False) as uow:
        return sorted(uow.conn.execute(select(k.c.key)).scalars())


def test_a_duplicate_that_got_past_the_first_look_is_stopped_inside_its_transaction(deployed):
    svc = deployed
    with idempotency.claim(svc, USER, "k", "f"):  # nothing recorded yet: the look before acting lets it through
        other = threading.Thread(target=lambda: _start_with_key(svc, "k"))  # a thread starts with no claim bound
        other.start()
        other.join()
        with pytest.raises(idempotency.IdempotentReplay):
            start(svc)
    assert count(svc, models.cases) == 1
    answer = idempotency.wait_for_answer(svc, idempotency.Claim(USER, "k", "f", svc.clock()), 1.0, "key")
    assert answer.status == 201


def _start_with_key(svc, key):
    with idempotency.claim(svc, USER, key, "f") as bound:
        start(svc)
    idempotency.store_answer(svc, bound, idempotency.Answer(201, "{}", "application/json", None))


def test_a_failed_use_case_leaves_no_key_behind(deployed):
    svc = deployed
    with pytest.raises(ProcessNotFound):
        with idempotency.claim(svc, USER, "k", "f"):
            cases.start_case(svc, principal_for("oficial1"), "no_existe", {})
    assert keys(svc) == []
    with idempotency.claim(svc, USER, "k", "f") as bound:
        start(svc)
    assert bound.recorded and keys(svc) == ["k"]


def test_only_the_first_write_of_a_claim_records_the_key(deployed):
    svc = deployed
    with idempotency.claim(svc, USER, "k", "f") as bound:
        start(svc)
        start(svc)  # a second transaction of the same request is not a replay of it
    assert bound.recorded and count(svc, models.cases) == 2 and keys(svc) == ["k"]


def test_waiting_for_an_answer_that_never_comes_ends_in_a_conflict(deployed):
    svc = deployed
    with idempotency.claim(svc, USER, "k", "f"):
        start(svc)  # the answer is never stored (as if the server died right after the commit)
    naps = []
    ticks = iter(range(100))
    with pytest.raises(Conflict):
        idempotency.wait_for_answer(svc, idempotency.Claim(USER, "k", "f", svc.clock()), 5.0, "key",
                                    sleep=naps.append, monotonic=lambda: float(next(ticks)))
    assert naps and max(naps) <= 0.5


def test_the_scheduler_pass_purges_keys_older_than_the_retention(deployed, clock):
    svc = deployed
    _start_with_key(svc, "viejo")
    clock.advance(hours=23)
    _start_with_key(svc, "nuevo")
    clock.advance(hours=1, seconds=1)  # "viejo" is a day and a second old
    scheduler.run_pass(svc)
    assert keys(svc) == ["nuevo"]
    assert svc.settings.idempotency_retention_seconds == timedelta(hours=24).total_seconds()
    _start_with_key(svc, "viejo")  # a purged key is free again
    assert count(svc, models.cases) == 3
