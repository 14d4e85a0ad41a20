"""10,000 timers due at the same moment, fired by two `expediente scheduler` processes on PostgreSQL.

Cases of a tiny process (start → timer → end) are started through engine.usecases.cases.start_case, by a few worker
processes, on a fresh schema; their timer is due at the moment the benchmark began. Then two real scheduler
processes (`expediente scheduler --until-idle`, settings as shipped: passes of up to 2,000 timers back to back)
are launched and timed from launch until both have exited (interpreter start-up included). Every firing goes
through engine.usecases.timers with its row locks.
Target: all 10,000 fired within 10 s of the launch, none twice (one timer_fired event per timer), none lost (every
timer fired, every case completed). `--quick`: 2,000 timers, same target.
Last line: JSON with fired, duplicates, lost, seconds_to_fire_all, load and whether the target is met.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
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
TARGET_SECONDS = 10.0
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


def server_cpu(conn) -> float | None:
    """CPU seconds of PostgreSQL's ended backends so far (the postmaster's children: every client's, not only
    ours), or None when the server is not on this machine."""
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        postmaster = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 timers (for `make bench`)")
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--creators", type=int, default=2, help="processes starting the cases")
    args = parser.parse_args()
    if args.quick:
        args.timers = 2_000
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
        env = {**os.environ, "EXPEDIENTE_DATABASE_URL": url}  # the scheduler settings as shipped
        exe = str(Path(sys.executable).with_name("expediente"))
        with svc.db.connect() as conn:
            server_before = server_cpu(conn)
        load_before = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        launched_at = datetime.now(timezone.utc)
        launched = time.perf_counter()
        procs = [subprocess.Popen([exe, "scheduler", "--until-idle"], env=env, stdout=subprocess.PIPE, text=True)
                 for _ in range(args.schedulers)]
        outputs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        seconds = time.perf_counter() - launched
        load_after = os.getloadavg()[0]
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # The schedulers' own CPU time (not PostgreSQL's): steadier than wall time on a shared machine.
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        time.sleep(0.3)  # the schedulers' backends end once their sockets close
        with svc.db.connect() as conn:
            server_after = server_cpu(conn)
            q = conn.exec_driver_sql
            fired = q("SELECT count(*) FROM timers WHERE state = 'fired'").scalar()
            events = q("SELECT count(*) FROM events WHERE kind = 'timer_fired'").scalar()
            distinct = q("SELECT count(DISTINCT task_id) FROM events WHERE kind = 'timer_fired'").scalar()
            # A timer lost: still waiting (or cancelled, failed) or fired with no event saying so.
            unfired = q("SELECT count(*) FROM timers WHERE state <> 'fired'").scalar()
            silent = q("SELECT count(*) FROM timers t WHERE t.state = 'fired' AND NOT EXISTS (SELECT 1 FROM events e "
                       "WHERE e.kind = 'timer_fired' AND e.task_id = t.id)").scalar()
            completed = q("SELECT count(*) FROM cases WHERE state = 'completed'").scalar()
            first, last = q("SELECT min(fired_at), max(fired_at) FROM timers").one()
        svc.db.dispose()
    finally:
        drop()
    per_process = [o["timers_fired"] for o in outputs]
    duplicates = events - distinct
    lost = unfired + silent
    # fired_at is the moment a batch began, so launch→last fired undercounts by one batch: the target is
    # checked on launch→both exited (start-up, the last commit and the exit included).
    to_last_fired = (last.replace(tzinfo=last.tzinfo or timezone.utc) - launched_at).total_seconds()  # stored in UTC
    met = (fired == args.timers and not duplicates and not lost and completed == args.timers
           and seconds <= TARGET_SECONDS)
    print(f"cases created: {created} in {setup_seconds:.1f} s ({created / setup_seconds:.0f}/s), "
          f"waiting timers: {waiting}")
    print(f"{'schedulers':<22}{args.schedulers}")
    print(f"{'fired per process':<22}{per_process}")
    print(f"{'fired (rows)':<22}{fired} of {args.timers}")
    print(f"{'timer_fired events':<22}{events} ({duplicates} duplicates)")
    print(f"{'lost':<22}{lost} ({unfired} not fired, {silent} fired without an event)")
    print(f"{'cases completed':<22}{completed}")
    print(f"{'first→last batch':<22}{(last - first).total_seconds():.2f} s")
    print(f"{'launch→last fired':<22}{to_last_fired:.2f} s")
    print(f"{'launch→both exited':<22}{seconds:.2f} s ({fired / seconds:.0f} timers/s)")
    print(f"{'schedulers CPU':<22}{cpu:.2f} s ({1000 * cpu / max(fired, 1):.2f} ms per timer)")
    server = None if server_before is None or server_after is None else server_after - server_before
    if server is not None:
        print(f"{'PostgreSQL CPU':<22}{server:.2f} s (backends that ended meanwhile, every client's)")
    print(f"{'load (1 min)':<22}{load_before:.2f} at launch, {load_after:.2f} at the end ({os.cpu_count()} cores)")
    print(f"{'target':<22}all {args.timers} within {TARGET_SECONDS:g} s, none twice, none lost: "
          f"{'met' if met else 'NOT met'}")
    print(json.dumps({"fired": fired, "duplicates": duplicates, "lost": lost, "seconds_to_fire_all": round(seconds, 2),
                      "timers_per_second": round(fired / seconds),
                      "scheduler_cpu_seconds": round(cpu, 2),
                      "server_cpu_seconds": None if server is None else round(server, 2), "seconds_launch_to_last_fired":
                      round(to_last_fired, 2), "timers": args.timers, "schedulers": args.schedulers,
                      "cases_completed": completed, "fired_per_process": per_process, "seconds_first_to_last_batch":
                      round((last - first).total_seconds(), 2), "load_at_launch": round(load_before, 2),
                      "load_at_end": round(load_after, 2), "target_seconds": TARGET_SECONDS, "target_met": met}))

if __name__ == "__main__":
    main()
