"""Concurrent deliveries to one case serialize through the case's version: many clients post both messages a case
with two parallel branches waits for, each several times, at the same moment; every branch gets its message exactly
once (no lost message, no double delivery) and the case goes on past the join (SQLite and PostgreSQL)."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from engine.storage import models
from engine.usecases import cases, delivery
from engine.usecases.deploy import deploy_files
from tests.api.conftest import Client, make_app, seed, token_for
from tests.bpmn import definitions
from tests.conftest import principal_for
from tests.task_rows import task_rows
from tests.waiting import wait_until

OWNER = principal_for("oficial1", role="clerk", groups=("ventanilla",))
CASES = 3
COPIES = 3  # each message posted this many times, all at once
SENDERS = ("supervisor1", "admin")
# Posting at once: every post in its own thread, more threads than the connection pool holds (15): a delivery must
# never make a thread hold a second connection.
THREADS = 18  # = CASES x 2 messages x COPIES: one post per thread

# Two branches, each waiting for its own institution's opinion (keyed by the case), joined before Ventanilla decides.
PARALLEL = definitions("""
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla"><bpmn:flowNodeRef>resolver</bpmn:flowNodeRef>
      </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:sequenceFlow id="a1" sourceRef="split" targetRef="opinion_pnc"/>
    <bpmn:sequenceFlow id="b1" sourceRef="split" targetRef="opinion_conred"/>
    <bpmn:intermediateCatchEvent id="opinion_pnc" name="Opinión PNC">
      <bpmn:messageEventDefinition messageRef="m_pnc"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="opinion_conred" name="Opinión CONRED">
      <bpmn:messageEventDefinition messageRef="m_conred"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="a2" sourceRef="opinion_pnc" targetRef="join"/>
    <bpmn:sequenceFlow id="b2" sourceRef="opinion_conred" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="resolver"/>
    <bpmn:userTask id="resolver" name="Resolver"/>
    <bpmn:sequenceFlow id="f3" sourceRef="resolver" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "dos_opiniones", "Dos opiniones").replace(
    b'<bpmn:process id="dos_opiniones"',
    b'<bpmn:message id="m_pnc" name="opinion_pnc"/>\n  <bpmn:message id="m_conred" name="opinion_conred"/>\n'
    b'  <bpmn:process id="dos_opiniones"')
NAMES = ("opinion_pnc", "opinion_conred")


def test_concurrent_messages_to_one_case_are_each_delivered_exactly_once(svc, tmp_path):
    seed(svc)
    deploy_files(svc, {"dos_opiniones.bpmn": PARALLEL}, actor="test")
    app = make_app(svc, tmp_path)
    started = [cases.start_case(svc, OWNER, "dos_opiniones", {}).id for _ in range(CASES)]
    # Thread n posts copy n % COPIES of one message to each case in turn: at each moment every copy of both
    # messages of one case is in flight.
    posts = [(case_id, name, copy) for case_id in started for name in NAMES for copy in range(COPIES)]
    clients = {name: Client(app, token_for(svc, name), cookies=False) for name in SENDERS}
    barrier = threading.Barrier(THREADS)
    answers, failures = [], []

    def send(share: list[tuple[int, str, int]]):
        barrier.wait()
        for case_id, name, copy in share:
            client = clients[SENDERS[copy % len(SENDERS)]]
            answer = client.post("/api/messages", json={"name": name, "correlation": {"caso": case_id},
                                                        "payload": {f"{name}_copia": copy}})
            (answers if answer.status_code == 202 else failures).append((case_id, name, answer.status_code,
                                                                         answer.get_json()))

    threads = [threading.Thread(target=send, args=(posts[n::THREADS],)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # A post that lost a race may be refused as a conflict (409, to be retried by its client); none may fail else.
    assert [f for f in failures if f[2] != 409] == []
    for case_id, name, _status, _body in failures:  # the client's retry
        answer = clients["admin"].post("/api/messages", json={"name": name, "correlation": {"caso": case_id}})
        assert answer.status_code == 202, answer.get_json()

    _settle(svc)
    with svc.uow(write=False) as uow:
        delivered = uow.conn.execute(
            select(models.messages.c.target_case_id, models.messages.c.name, func.count())
            .where(models.messages.c.state == "delivered")
            .group_by(models.messages.c.target_case_id, models.messages.c.name)).all()
        stored = uow.conn.execute(select(models.messages.c.state)).scalars().all()
        waits = uow.conn.execute(
            select(models.message_waits.c.case_id, models.message_waits.c.name, models.message_waits.c.state,
                   models.message_waits.c.message_id)).all()
    # Every post is kept (those that lost a race were sent again); the copies that came after a delivery wait as
    # early messages (pending), none was delivered a second time.
    assert len(stored) == len(posts)
    assert sorted(set(stored)) == ["delivered", "pending"] and stored.count("delivered") == CASES * len(NAMES)
    # Each case got each of its two messages exactly once: no loss, no double delivery.
    assert sorted(delivered) == sorted((case_id, name, 1) for case_id in started for name in NAMES)
    assert sorted((w.case_id, w.name, w.state) for w in waits) == \
        sorted((case_id, name, "delivered") for case_id in started for name in NAMES)
    assert len({w.message_id for w in waits}) == len(waits)  # a different message closed each wait
    for case_id in started:
        history = cases.case_history(svc, principal_for("admin"), case_id)
        got = sorted(e["data"]["name"] for e in history if e["kind"] == "message_received")
        assert got == sorted(NAMES), case_id
        assert [t["element_id"] for t in task_rows(svc, case_id) if t["state"] == "ready"] == ["resolver"]
        data = cases.case_data(svc, principal_for("admin"), case_id)
        assert {f"{name}_copia" for name in NAMES} <= set(data)  # both payloads landed in the case's data


def _settle(svc) -> None:
    """Wait until no message is queued any more (delivering what the posts left, as the scheduler's pass does)."""
    def none_queued() -> bool:
        delivery.deliver_queued(svc)
        with svc.uow(write=False) as uow:
            return not uow.conn.execute(select(func.count()).select_from(models.messages)
                                        .where(models.messages.c.state == "queued")).scalar_one()
    wait_until(none_queued, "every message delivered or settled")
