"""The scheduler: passes driven by the fake clock, start-up catch-up, and real processes racing on PostgreSQL."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from engine.usecases import cases
from engine.ops import scheduler as scheduler_module
from api.cli import main
from engine.usecases.deploy import deploy_files
from engine.ops.scheduler import SchedulerSettings, run_pass, start_in_process
from engine.services import system_clock
from tests.bpmn import definitions
from tests.conftest import SYSTEM, _postgres_url, make_services
from tests.integration.test_timers import reminder
from tests.task_rows import task_rows

ROOT = Path(__file__).resolve().parents[2]
EXPEDIENTE = str(Path(sys.executable).with_name("expediente"))
WAIT_SECONDS = 30
APP_NAME = f"expediente_scheduler_test_{os.getpid()}"
# The timer is due in 2001; cases are started with the fake clock in 2000, so real-clock schedulers find it due.
PAST_TIMER = reminder('"2001-01-01T00:00:00+00:00"')
# A scheduler whose every firing is slow, so it can be killed in the middle of a batch.
SLOW_CHILD = """
import time
from engine.ops.scheduler import SchedulerSettings, run_until_idle
from engine.services import build_services
svc = build_services()
fire = svc.runtime.fire_timers
svc.runtime.fire_timers = lambda wf: (time.sleep(0.05), fire(wf))[1]
run_until_idle(svc, SchedulerSettings(timer_batch_size=10))
"""


def overdue_cases(svc, clock, count: int) -> list[int]:
    clock.now = datetime(2000, 1, 1, tzinfo=timezone.utc)
    deploy_files(svc, {"r.bpmn": PAST_TIMER})
    return [cases.start_case(svc, SYSTEM, "reminder").id for _ in range(count)]


def ready_elements(svc, case_id):
    return [t["element_id"] for t in task_rows(svc, case_id)]


def fired_once_each(svc, case_ids) -> None:
    """Every timer fired exactly once and every case moved on exactly once."""
    with svc.uow(write=False) as uow:
        q = uow.conn.exec_driver_sql
        states = dict(q("SELECT state, count(*) FROM timers GROUP BY state").all())
        events = q("SELECT count(*), count(DISTINCT task_id) FROM events WHERE kind = 'timer_fired'").one()
        archive = q("SELECT count(*), count(DISTINCT case_id) FROM tasks WHERE element_id = 'archive'").one()
    assert states == {"fired": len(case_ids)}
    assert tuple(events) == (len(case_ids), len(case_ids))
    assert tuple(archive) == (len(case_ids), len(case_ids))


@pytest.fixture
def pg(clock):
    url, drop = _postgres_url()
    svc = make_services(url, clock)
    yield url, svc
    svc.db.dispose()
    drop()


def scheduler_env(url: str, **settings) -> dict:
    # Named connections: other test sessions may share this PostgreSQL server.
    env = {**os.environ, "EXPEDIENTE_DATABASE_URL": f"{url}&application_name={APP_NAME}"}
    env.update({f"EXPEDIENTE_SCHEDULER_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def test_a_pass_fires_due_timers_by_the_fake_clock(svc, clock):
    deploy_files(svc, {"r.bpmn": reminder('"2026-03-03T00:00:00+00:00"')})
    started = cases.start_case(svc, SYSTEM, "reminder")
    assert run_pass(svc).timers_fired == 0
    clock.now = datetime(2026, 3, 3, 0, 0, 1, tzinfo=timezone.utc)
    assert run_pass(svc).timers_fired == 1
    assert run_pass(svc).busy is False
    assert ready_elements(svc, started.id) == ["archive"]


def test_cycle_timer_fires_each_round_then_stops(svc, clock):
    deploy_files(svc, {"c.bpmn": definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:userTask id="wait" name="Esperar respuesta"/>
    <bpmn:boundaryEvent id="remind" attachedToRef="wait" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeCycle>"R3/PT1H"</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="noted"/>
    <bpmn:endEvent id="noted"/>
    <bpmn:endEvent id="end"/>
    """, "recordatorio")})
    started = cases.start_case(svc, SYSTEM, "recordatorio")
    for _ in range(4):
        clock.advance(hours=1, minutes=1)
        run_pass(svc)
    kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, started.id)]
    assert kinds.count("timer_fired") == 3
    assert ready_elements(svc, started.id) == ["wait"]


def test_timers_due_while_stopped_fire_as_soon_as_the_scheduler_starts(svc, clock):
    deploy_files(svc, {"r.bpmn": reminder('"2026-03-03T00:00:00+00:00"')})
    started = cases.start_case(svc, SYSTEM, "reminder")
    clock.advance(days=30)  # the scheduler was down the whole month
    jobs = start_in_process(svc, SchedulerSettings(interval_seconds=3600))
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while ready_elements(svc, started.id) != ["archive"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        jobs.shutdown(wait=True)
    assert ready_elements(svc, started.id) == ["archive"]
    assert not jobs.running


def test_a_broken_case_in_a_batch_does_not_hold_up_the_others(svc, clock):
    deploy_files(svc, {"r.bpmn": reminder('"2026-03-03T00:00:00+00:00"')})
    ids = [cases.start_case(svc, SYSTEM, "reminder").id for _ in range(3)]
    with svc.uow() as uow:
        uow.conn.execute(text("UPDATE cases SET workflow_json = '{}' WHERE id = :id"), {"id": ids[1]})
        uow.commit()
    clock.advance(days=2)
    assert run_pass(svc).timers_fired == 2
    assert [ready_elements(svc, i) for i in ids] == [["archive"], ["wait"], ["archive"]]
    with svc.uow(write=False) as uow:
        broken = uow.conn.execute(text("SELECT state, attempts, last_error FROM timers WHERE case_id = :id"),
                                  {"id": ids[1]}).one()
    assert broken.state == "waiting" and broken.attempts == 1 and broken.last_error


def test_scheduler_command_runs_one_pass(sqlite_url, monkeypatch):
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(main, ["scheduler", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["timers_fired"] == 0


def test_serve_with_scheduler_runs_the_jobs_beside_the_app_and_stops_them(sqlite_url, monkeypatch):
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", sqlite_url)
    started, seen = [], {}

    def start(svc, settings=None):
        started.append(start_in_process(svc, settings))
        return started[-1]

    def run(app, **kwargs):  # instead of serving until Ctrl+C
        seen["jobs"] = sorted(job.id for job in started[0].get_jobs()) if started[0].running else None

    monkeypatch.setattr(scheduler_module, "start_in_process", start)
    monkeypatch.setattr("flask.Flask.run", run)
    result = CliRunner().invoke(main, ["serve", "--dev", "--no-reload", "--with-scheduler"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen["jobs"] == ["audit", "closures", "pass"]
    assert not started[0].running


def test_scheduler_settings_come_from_the_environment():
    settings = SchedulerSettings.from_env({"EXPEDIENTE_SCHEDULER_INTERVAL_SECONDS": "2.5",
                                           "EXPEDIENTE_SCHEDULER_TIMER_BATCH_SIZE": "10"})
    assert (settings.interval_seconds, settings.timer_batch_size) == (2.5, 10)


def test_two_scheduler_processes_fire_each_timer_exactly_once(pg, clock):
    url, svc = pg
    ids = overdue_cases(svc, clock, 400)
    env = scheduler_env(url, timer_batch_size=10)
    with svc.db.connect() as gate:
        # Hold the timers table so both processes queue on it, then let them go at the same instant.
        held = gate.begin()
        gate.exec_driver_sql("LOCK TABLE timers IN EXCLUSIVE MODE")
        procs = [subprocess.Popen([EXPEDIENTE, "scheduler", "--until-idle"], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True) for _ in range(2)]
        deadline = time.monotonic() + WAIT_SECONDS
        while waiting_on_locks(svc) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        held.commit()
    outputs = [json.loads(p.communicate(timeout=WAIT_SECONDS)[0].splitlines()[-1]) for p in procs]
    fired = [o["timers_fired"] for o in outputs]
    assert sum(fired) == len(ids) and min(fired) > 0, fired
    fired_once_each(svc, ids)


def test_a_scheduler_killed_mid_batch_loses_nothing(pg, clock):
    url, svc = pg
    ids = overdue_cases(svc, clock, 60)
    child = subprocess.Popen([sys.executable, "-c", SLOW_CHILD], env=scheduler_env(url), cwd=ROOT)
    deadline = time.monotonic() + WAIT_SECONDS
    while not (fired_count(svc) >= 10 and open_transactions(svc) == 1) and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)  # with a batch fired in memory but not committed
    child.wait()
    assert 10 <= fired_count(svc) < len(ids)
    catch_up = make_services(url, system_clock)
    deadline = time.monotonic() + WAIT_SECONDS  # the dead backend's row locks go with its connection
    while fired_count(svc) < len(ids) and time.monotonic() < deadline:
        run_pass(catch_up)
    catch_up.db.dispose()
    fired_once_each(svc, ids)


def fired_count(svc) -> int:
    with svc.db.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM timers WHERE state = 'fired'").scalar()


def open_transactions(svc) -> int:
    with svc.db.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                                 "AND application_name = :app"), {"app": APP_NAME}).scalar()


def waiting_on_locks(svc) -> int:
    with svc.db.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND application_name = :app"), {"app": APP_NAME}).scalar()


def test_every_scheduler_mail_and_deadline_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = {f"EXPEDIENTE_SCHEDULER_{f.name.upper()}" for f in fields(SchedulerSettings)}
    for module in ("mail/notifications.py", "timekeeping/deadlines.py"):
        source = (ROOT / "engine" / module).read_text(encoding="utf-8")
        names |= set(re.findall(r"\bEXPEDIENTE_[A-Z_]*[A-Z]\b", source))
        names |= {f"EXPEDIENTE_{n}" for n in re.findall(r'"((?:SMTP|MAIL)_[A-Z_]+)"', source)}
    assert "EXPEDIENTE_SMTP_HOST" in names and "EXPEDIENTE_MAIL_MAX_ATTEMPTS" in names
    assert sorted(n for n in names if f"`{n}`" not in readme) == []
