"""Timers as durable rows, fired by the fake clock, exactly once, never against a moved-on case."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from engine.audit.verify import verify
from engine.mail.notifications import outbox_rows
from engine.ops.scheduler import SchedulerSettings, build_scheduler
from engine.storage import models
from engine.usecases import cases
from engine.usecases import tasks
from engine.usecases import timers
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions
from tests.conftest import SYSTEM, principal_for
from tests.task_rows import task_rows


def reminder(expression: str) -> bytes:
    """A user task with an interrupting boundary timer leading to 'archive'."""
    return definitions(f"""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:userTask id="wait" name="Esperar subsanación"/>
    <bpmn:boundaryEvent id="late" attachedToRef="wait" cancelActivity="true">
      <bpmn:timerEventDefinition><bpmn:timeDate>{expression}</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="archive"/>
    <bpmn:userTask id="archive" name="Archivar expediente"/>
    <bpmn:sequenceFlow id="f4" sourceRef="archive" targetRef="end"/>
    <bpmn:endEvent id="end"/>
    """, "reminder")


def timer_rows(svc, case_id):
    with svc.uow(write=False) as uow:
        return uow.conn.exec_driver_sql(
            f"SELECT element_id, due_at, state FROM timers WHERE case_id = {int(case_id)}").all()


def ready_ids(svc, case_id):
    return [t["element_id"] for t in task_rows(svc, case_id)]


@pytest.fixture
def ten_working_days(svc, clock):
    # Mon 2026-03-30 10:00 in Guatemala; Holy Thursday-Saturday (Apr 2-4) are not working days.
    clock.now = datetime(2026, 3, 30, 16, 0, tzinfo=timezone.utc)
    deploy_files(svc, {"r.bpmn": reminder("add_working_days(now(), 10)")})
    return svc


def test_waiting_timer_is_a_row_with_its_working_day_due_moment(ten_working_days):
    svc = ten_working_days
    started = cases.start_case(svc, SYSTEM, "reminder")
    [(element, due, state)] = timer_rows(svc, started.id)
    # After Mon 30 Mar: 31, 1, (Holy Thu 2, Fri 3, weekend), 6, 7, 8, 9, 10, 13, 14, 15 → Wed 15 Apr 2026,
    # due at closing time 16:30 (22:30 UTC).
    assert (element, state) == ("late", "waiting")
    assert str(due).startswith("2026-04-15 22:30")


def test_timer_fires_only_when_due_and_only_once(ten_working_days, clock):
    svc = ten_working_days
    started = cases.start_case(svc, SYSTEM, "reminder")
    clock.now = datetime(2026, 4, 15, 22, 29, tzinfo=timezone.utc)
    assert timers.fire_due_timers(svc).fired == 0
    assert ready_ids(svc, started.id) == ["wait"]
    clock.now = datetime(2026, 4, 15, 22, 31, tzinfo=timezone.utc)
    assert timers.fire_due_timers(svc).fired == 1
    assert timers.fire_due_timers(svc).fired == 0
    assert ready_ids(svc, started.id) == ["archive"]
    assert [s for (_e, _d, s) in timer_rows(svc, started.id)] == ["fired"]
    kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, started.id)]
    assert kinds.count("timer_fired") == 1


def test_timer_of_a_case_that_moved_on_never_fires(ten_working_days, clock):
    svc = ten_working_days
    started = cases.start_case(svc, SYSTEM, "reminder")
    [wait] = task_rows(svc, started.id)
    tasks.complete_task(svc, principal_for("oficial1"), wait["id"], {})
    assert [s for (_e, _d, s) in timer_rows(svc, started.id)] == ["cancelled"]
    clock.advance(days=60)
    assert timers.fire_due_timers(svc).fired == 0
    assert cases.get_case(svc, SYSTEM, started.id)["state"] == "completed"


def test_concurrent_schedulers_fire_each_timer_once(svc, clock):
    deploy_files(svc, {"r.bpmn": reminder('"2026-03-03T00:00:00+00:00"')})
    started = [cases.start_case(svc, SYSTEM, "reminder") for _ in range(6)]
    clock.now = datetime(2026, 3, 4, tzinfo=timezone.utc)
    totals = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        totals.append(timers.fire_due_timers(svc).fired)

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sum(totals) == 6
    for c in started:
        assert ready_ids(svc, c.id) == ["archive"]
        assert [e["kind"] for e in cases.case_history(svc, SYSTEM, c.id)].count("timer_fired") == 1


TICK = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDate>"2026-03-03T00:00:00+00:00"</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "tick")


def test_one_batch_completes_many_cases_each_with_its_history_and_closure_notice(svc, clock, caplog):
    """Several cases in one transaction: each gets its timer_fired and case_completed events in its own chain,
    the history verifies, and only the case with a citizen's address queues its closure notice (once)."""
    deploy_files(svc, {"tick.bpmn": TICK})
    started = [cases.start_case(svc, SYSTEM, "tick") for _ in range(5)]
    with svc.uow() as uow:
        uow.conn.execute(update(models.cases).where(models.cases.c.id == started[1].id)
                         .values(citizen_email="ana@correo.test"))
        uow.commit()
    clock.now = datetime(2026, 3, 4, tzinfo=timezone.utc)
    assert timers.fire_due_timers(svc, batch_size=10) == timers.FireResult(5, 0)
    assert "one by one" not in caplog.text  # the batch held: not redone timer by timer after a failure
    for c in started:
        assert cases.get_case(svc, SYSTEM, c.id)["state"] == "completed"
        kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, c.id)]
        assert (kinds.count("timer_fired"), kinds.count("case_completed")) == (1, 1)
        closures = [m["to_address"] for m in outbox_rows(svc, c.id) if m["kind"] == "cierre"]
        assert closures == (["ana@correo.test"] if c is started[1] else [])
    report = verify(svc, Ed25519PrivateKey.generate().public_key())  # no checkpoints: the chains alone
    assert report.ok, report.first_problem


def test_a_batch_records_each_cases_visits_and_closes_the_open_deadlines_of_those_that_had_one(svc, clock):
    """What a batch reads once for all its cases (the closure days, which cases have an open legal deadline) and
    writes once (the element visits) comes out as when each case is fired alone."""
    from sqlalchemy import insert, select
    deploy_files(svc, {"tick.bpmn": TICK})
    started = [cases.start_case(svc, SYSTEM, "tick") for _ in range(4)]
    opened = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
    with svc.uow() as uow:  # as a case migrated from a version that declared one: its workflow declares none
        for c in started[:2]:
            uow.conn.execute(insert(models.legal_deadlines).values(
                case_id=c.id, key="oficio_respuesta", title="Respuesta", basis="prueba", owner="oficina",
                start_at=opened, days=10, counting="habiles", extension_days=0, due_at=opened, state="open",
                opened_at=opened, alert_days_json="[]"))
        uow.commit()
    clock.now = datetime(2026, 3, 4, tzinfo=timezone.utc)
    with svc.uow(write=False) as uow:
        single_timer = uow.conn.execute(select(models.timers.c.id).where(
            models.timers.c.case_id == started[3].id)).scalar_one()
    assert timers.fire_timer(svc, single_timer)
    assert timers.fire_due_timers(svc, batch_size=10) == timers.FireResult(3, 0)
    d, v = models.legal_deadlines, models.element_visits
    with svc.uow(write=False) as uow:
        states = dict(uow.conn.execute(select(d.c.case_id, d.c.state)).all())
        seen = {c.id: sorted(uow.conn.execute(
            select(v.c.element_id, v.c.previous_element_id, v.c.started_at, v.c.ended_at)
            .where(v.c.case_id == c.id)).all(), key=str) for c in started}
    assert states == {started[0].id: "cancelled", started[1].id: "cancelled"}
    [single] = {tuple(seen[started[3].id])}
    assert {tuple(seen[c.id]) for c in started[:3]} == {single}  # the same rows, fired in a batch or alone
    waited = [row for row in single if row.element_id == "wait"]
    assert waited and waited[0].previous_element_id == "start" and waited[0].started_at < waited[0].ended_at


def test_a_burst_beyond_one_pass_is_fired_by_one_run_of_the_pass_job(svc, clock):
    """The running scheduler goes on at once after a pass that stopped at its timer limit, not an interval later."""
    deploy_files(svc, {"tick.bpmn": TICK})
    started = [cases.start_case(svc, SYSTEM, "tick") for _ in range(5)]
    clock.now = datetime(2026, 3, 4, tzinfo=timezone.utc)
    settings = SchedulerSettings(interval_seconds=3600, max_timers_per_pass=2, timer_batch_size=1)
    job = build_scheduler(svc, settings).expediente_pass  # built, never started: its pass job is called here
    assert job().timers_fired == 5
    assert [cases.get_case(svc, SYSTEM, c.id)["state"] for c in started] == ["completed"] * 5
    assert job().timers_fired == 0


TIMER_START = definitions("""
    <bpmn:startEvent id="start">
      <bpmn:timerEventDefinition><bpmn:timeDate>"2026-03-05T14:00:00+00:00"</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work" name="Trabajar"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "timer_start")

EVENT_GATEWAY = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:eventBasedGateway id="gw"/>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="answer"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="expiry"/>
    <bpmn:intermediateCatchEvent id="answer">
      <bpmn:messageEventDefinition messageRef="respuesta"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="expiry">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="answer" targetRef="end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="expiry" targetRef="late"/>
    <bpmn:userTask id="late" name="Atender vencimiento"/>
    <bpmn:sequenceFlow id="f6" sourceRef="late" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "event_gateway").replace(b'<bpmn:process id="event_gateway"',
                              b'<bpmn:message id="respuesta" name="respuesta"/>\n  <bpmn:process id="event_gateway"')


def test_a_case_waiting_on_a_timer_start_event_has_its_row_and_starts_when_due(svc, clock):
    deploy_files(svc, {"ts.bpmn": TIMER_START})
    started = cases.start_case(svc, SYSTEM, "timer_start")
    assert [(e, s) for (e, _d, s) in timer_rows(svc, started.id)] == [("start", "waiting")]
    assert ready_ids(svc, started.id) == []
    clock.now = datetime(2026, 3, 5, 14, 1, tzinfo=timezone.utc)
    assert timers.fire_due_timers(svc).fired == 1
    assert ready_ids(svc, started.id) == ["work"]


def test_event_based_gateway_timer_is_a_row_and_fires_the_expiry_branch(svc, clock):
    deploy_files(svc, {"eg.bpmn": EVENT_GATEWAY})
    started = cases.start_case(svc, SYSTEM, "event_gateway")
    # SpiffWorkflow waits on the gateway itself, holding both events; the row carries its id.
    assert [(e, s) for (e, _d, s) in timer_rows(svc, started.id)] == [("gw", "waiting")]
    clock.advance(days=3, seconds=1)
    assert timers.fire_due_timers(svc).fired == 1
    assert ready_ids(svc, started.id) == ["late"]
