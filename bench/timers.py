"""10,000 timers due at the same moment, fired by two `expediente scheduler` processes on PostgreSQL.

Cases of a tiny process (start → timer → end) are started through engine.usecases.cases.start_case, by a few worker
processes, on a fresh schema; their timer is due at the moment the benchmark began. Then two real scheduler
processes (`expediente scheduler --until-idle`) are launched and timed from launch until both have exited
(interpreter start-up included). Every firing goes through engine.usecases.timers with its row locks.
Last line: JSON with fired, duplicates, seconds_to_fire_all.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from engine.usecases import cases  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.storage.db import make_engine  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.services import Services  # noqa: E402
from tests.bpmn import definitions  # noqa: E402

SYSTEM = Principal(user_id=0, username=None, role=ADMIN)  # files the cases, recorded as no one

POSTGRES_URL = os.environ.get("EXPEDIENTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Cases are created "in the past" by this clock so their timer waits; the schedulers use the real clock.
CREATION_MOMENT = datetime(2000, 1, 1, tzinfo=timezone.utc)
TICK = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDate>due</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "tick")


def services(url: str) -> Services:
    settings = Settings(database_url=url)
    return Services(settings=settings, db=make_engine(settings), clock=lambda: CREATION_MOMENT)


def create_cases(args: tuple[str, int, str]) -> int:
    url, count, due = args
    svc = services(url)
    for _ in range(count):
        cases.start_case(svc, SYSTEM, "tick", {"due": due})
    svc.db.dispose()
    return count


def fresh_schema() -> tuple[str, callable]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--creators", type=int, default=2, help="processes starting the cases")
    args = parser.parse_args()
    url, drop = fresh_schema()
    try:
        svc = services(url)
        upgrade(svc.db)
        deploy_files(svc, {"tick.bpmn": TICK})
        due = datetime.now(timezone.utc).isoformat()
        t0 = time.perf_counter()
        shares = [args.timers // args.creators + (i < args.timers % args.creators) for i in range(args.creators)]
        with multiprocessing.get_context("spawn").Pool(args.creators) as pool:
            created = sum(pool.map(create_cases, [(url, n, due) for n in shares]))
        setup_seconds = time.perf_counter() - t0
        with svc.db.connect() as conn:
            waiting = conn.exec_driver_sql("SELECT count(*) FROM timers WHERE state = 'waiting'").scalar()
        env = {**os.environ, "EXPEDIENTE_DATABASE_URL": url, "EXPEDIENTE_SCHEDULER_MAX_TIMERS_PER_PASS": "1000000"}
        exe = str(Path(sys.executable).with_name("expediente"))
        launched = time.perf_counter()
        procs = [subprocess.Popen([exe, "scheduler", "--until-idle"], env=env, stdout=subprocess.PIPE, text=True)
                 for _ in range(args.schedulers)]
        outputs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        seconds = time.perf_counter() - launched
        with svc.db.connect() as conn:
            q = conn.exec_driver_sql
            fired = q("SELECT count(*) FROM timers WHERE state = 'fired'").scalar()
            events = q("SELECT count(*) FROM events WHERE kind = 'timer_fired'").scalar()
            distinct = q("SELECT count(DISTINCT task_id) FROM events WHERE kind = 'timer_fired'").scalar()
            completed = q("SELECT count(*) FROM cases WHERE state = 'completed'").scalar()
            first, last = q("SELECT min(fired_at), max(fired_at) FROM timers").one()
        svc.db.dispose()
    finally:
        drop()
    per_process = [o["timers_fired"] for o in outputs]
    print(f"cases created: {created} in {setup_seconds:.1f} s ({created / setup_seconds:.0f}/s), "
          f"waiting timers: {waiting}")
    print(f"{'schedulers':<22}{args.schedulers}")
    print(f"{'fired per process':<22}{per_process}")
    print(f"{'fired (rows)':<22}{fired}")
    print(f"{'timer_fired events':<22}{events} ({events - distinct} duplicates)")
    print(f"{'cases completed':<22}{completed}")
    print(f"{'first→last batch':<22}{(last - first).total_seconds():.2f} s")
    print(f"{'launch→both exited':<22}{seconds:.2f} s ({fired / seconds:.0f} timers/s)")
    print(json.dumps({"fired": fired, "duplicates": events - distinct, "seconds_to_fire_all": round(seconds, 2),
                      "timers": args.timers, "schedulers": args.schedulers, "cases_completed": completed,
                      "fired_per_process": per_process, "seconds_first_to_last_batch":
                      round((last - first).total_seconds(), 2)}))


if __name__ == "__main__":
    main()
