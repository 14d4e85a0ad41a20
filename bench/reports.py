"""The reports at scale: N finished cases (default 100,000) on SQLite and PostgreSQL, each report timed.

Every procedure of processes/ is deployed (bench/inbox_scale.py's bench_office); then N finished cases filed over
the last two years, plus N/10 still running, are written by bulk inserts (executemany on SQLite, COPY on
PostgreSQL): 3-6 completed task rows each (of the procedure's user tasks, with due moments some of them missed), two
events (filed, resolved), and one legal deadline row (the office's answer, met or late, one in ten extended; a few of
the citizen's); a running case has one ready task (a third claimed) and an open deadline. The migration's triggers
fill the list tables as the rows go in. Then each report of engine/usecases/reports.py is timed through its use case
over the default period (the last twelve months) and with filters, plus the other reports of issue 21 when their
modules are present (heat map, LAIP annual report, monthly summary). p50 and max of `--repeat` runs.

Target (issue 21): <= 1 s per report on PostgreSQL at 100,000 cases; SQLite's figure is given. Last line: JSON.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.inbox_scale import (CASE_COLUMNS, MUNICIPALITIES, NOW, PROCEDURES, TASK_COLUMNS, bench_office,  # noqa: E402
                               bulk_load, tracking, user_tasks)
from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.runtime import serializer  # noqa: E402
from engine.usecases import reports  # noqa: E402

EVENT_COLUMNS = ("case_id", "at", "kind", "element_id", "actor", "data_json")
DEADLINE_COLUMNS = ("case_id", "key", "title", "basis", "owner", "owner_group", "element_id", "start_at", "days",
                    "counting", "extension_days", "due_at", "state", "opened_at", "closed_at", "closed_by",
                    "alert_days_json")
CHUNK = 20_000
BOSS = Principal(1, "admin", ADMIN, (), "Administración")


def generate(n: int, procedures: dict, seed: int = 21):
    """Chunks of (cases, tasks, events, deadlines) rows, naive UTC datetimes."""
    total = n + n // 10
    for first in range(1, total + 1, CHUNK):
        yield _chunk(n, procedures, random.Random(seed * 1_000_003 + first), first, min(total, first + CHUNK - 1))


def _chunk(n: int, procedures: dict, rng, first: int, last: int):
    keys = list(PROCEDURES)
    weights = [PROCEDURES[k] for k in keys]
    now = NOW.replace(tzinfo=None)
    cases, tasks, events, deadlines = [], [], [], []
    for case_id in range(first, last + 1):
        finished = case_id <= n
        key = rng.choices(keys, weights)[0]
        version_id, specs = procedures[key]
        span = timedelta(hours=rng.expovariate(1 / 200))  # filing to resolution: about eight days on average
        if finished:
            filed = now - timedelta(days=rng.uniform(1, 730)) - span
        else:
            filed = now - timedelta(days=rng.uniform(0, 60))
        done = rng.randint(3, 6) if finished else rng.randint(1, 3)
        ends = sorted(filed + span * rng.random() for _ in range(done - 1)) + [filed + span] if finished else \
            sorted(filed + (now - filed) * rng.random() for _ in range(done))
        start, first_task = filed, None
        for end in ends:
            element, title, lane, grp = rng.choice(specs)
            who = f"{grp}{rng.randrange(1, 6)}"
            due = start + timedelta(days=rng.uniform(1, 10))
            tasks.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), case_id, element, title, lane, grp,
                          who, "completed", start, start, due, end, who))
            first_task = first_task or (element, grp)
            start = end
        if not finished:
            element, title, lane, grp = rng.choice(specs)
            claimed = rng.random() < 0.33
            who = f"{grp}{rng.randrange(1, 6)}" if claimed else None
            tasks.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), case_id, element, title, lane, grp,
                          who, "ready", start, start if claimed else None,
                          start + timedelta(days=rng.uniform(-5, 20)), None, None))
        resolved = filed + span if finished else None
        cases.append((case_id, f"EXP-GDCH-{filed.year}-{case_id:07d}", tracking(case_id), key, version_id,
                      "completed" if finished else "running", 1, "{}", serializer.SERIALIZER_VERSION, filed,
                      resolved or start, resolved, "ventanilla1", f"Solicitud {case_id}", f"Persona {case_id}",
                      f"3{case_id:012d}", rng.choice(MUNICIPALITIES)))
        events.append((case_id, filed, "case_started", None, "ventanilla1", None))
        if finished:
            events.append((case_id, resolved, "case_completed", None, None, None))
        owner = "ciudadano" if rng.random() < 0.05 else "oficina"
        extended = rng.random() < 0.1
        due = filed + timedelta(days=14 + (14 if extended else 0))
        if not finished:
            state, closed = "open", None
        elif owner == "ciudadano":
            state, closed = "used", resolved
        else:
            state, closed = ("met" if resolved <= due else "late"), resolved
        deadlines.append((case_id, "laip_respuesta", "Respuesta a la solicitud", "LAIP art. 42", owner,
                          first_task[1], first_task[0], filed, 10, "habiles", 10 if extended else 0, due, state,
                          filed, closed, first_task[0] if closed else None, "[]"))
    return cases, tasks, events, deadlines


TABLES = (("cases", CASE_COLUMNS), ("tasks", TASK_COLUMNS), ("events", EVENT_COLUMNS),
          ("legal_deadlines", DEADLINE_COLUMNS))


def load(svc, chunks) -> float:
    started = time.perf_counter()
    bulk_load(svc, chunks, TABLES)
    return time.perf_counter() - started


def views(svc) -> dict:
    """label -> a call of one report."""
    year_ago = (NOW - timedelta(days=365)).date().isoformat()
    found = {}
    for name, fn in reports.USE_CASES.items():
        found[name] = (lambda fn=fn: fn(svc, BOSS))
    found["casos 24 meses"] = lambda: reports.cases_by_month(svc, BOSS, start="2024-06-01")
    found["tiempos licencia"] = lambda: reports.cycle_times(svc, BOSS, process_key="licencia")
    found["plazos tramite"] = lambda: reports.deadlines(svc, BOSS, group="tramite")
    found["carga Patzún"] = lambda: reports.workload(svc, BOSS, municipality="Patzún")
    found["casos grupo tramite"] = lambda: reports.cases_by_month(svc, BOSS, group="tramite", start=year_ago)
    _others(svc, found)
    return found


def _others(svc, found: dict) -> None:
    """The other reports of issue 21, if their modules are present (each is tried; a failure is printed)."""
    def present(module: str):
        try:
            return importlib.import_module(module)
        except ImportError:
            return None
    heat = present("engine.usecases.heatmap")
    if heat:
        found["mapa de calor licencia"] = lambda: heat.heatmap(svc, BOSS, "licencia")
    laip = present("engine.usecases.laip_report")
    if laip:
        found["LAIP anual"] = lambda: laip.laip_annual(svc, BOSS, NOW.year)
    monthly = present("engine.usecases.monthly_report")
    if monthly:
        found["resumen mensual"] = lambda: monthly.monthly_summary(svc, BOSS, date(NOW.year, NOW.month - 1, 1))


def measure(found: dict, repeat: int) -> tuple[dict, dict]:
    results, answers = {}, {}
    for label, fn in found.items():
        times = []
        try:
            for _ in range(repeat):
                started = time.perf_counter()
                answer = fn()
                times.append(time.perf_counter() - started)
        except Exception as exc:  # another helper's report may not be finished: say so, time the rest
            print(f"  {label}: failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        results[label] = {"p50": statistics.median(times) * 1000, "max": max(times) * 1000}
        answers[label] = answer
        print(f"  {label:<26} p50 {results[label]['p50']:8.1f} ms   max {results[label]['max']:8.1f} ms", flush=True)
    return results, answers


def figures(answers: dict) -> None:
    """The default period's figures, so a reader sees what was counted."""
    casos = answers.get("casos")
    if casos:
        print("  casos por mes:", " ".join(f"{r['month']}:{r['filed']}/{r['resolved']}/{r['open_at_end']}"
                                           for r in casos["rows"]), "totales", casos["totals"])
    tiempos = answers.get("tiempos")
    if tiempos:
        for r in tiempos["procedures"]:
            print(f"  tiempos {r['process_key']}: {r['count']} casos, mediana {r['hours_median']} h / "
                  f"{r['days_median']} días hábiles, p90 {r['hours_p90']} h / {r['days_p90']} días; "
                  f"{sum(1 for s in tiempos['steps'] if s['process_key'] == r['process_key'])} pasos")
    plazos = answers.get("plazos")
    if plazos:
        print("  plazos totales:", plazos["totals"])
    carga = answers.get("carga")
    if carga:
        print(f"  carga: {len(carga['rows'])} personas, totales {carga['totals']}")


def run(db: str, n: int, repeat: int) -> dict:
    with bench_office(db, "bench-reports-") as (svc, _directory):
        loaded = load(svc, generate(n, user_tasks(svc)))
        with svc.db.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("cases", "tasks", "events", "legal_deadlines", "inbox_items")}
        print(f"[{db}] {n:,} finished cases (+{n // 10:,} running) loaded in {loaded:.1f} s; {counts}", flush=True)
        results, answers = measure(views(svc), repeat)
        figures(answers)
        svc.db.dispose()
    return {"results": results, "counts": counts, "load_seconds": round(loaded, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="finished cases (10%% more are running)")
    parser.add_argument("--quick", action="store_true", help="10,000 finished cases")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL only (same as --db postgresql)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = 10_000 if args.quick else args.cases
    dbs = ("postgresql",) if args.pg else ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    started = time.perf_counter()
    report = {db: run(db, n, args.repeat) for db in dbs}
    target_ms = 1000.0
    met = all(r["p50"] <= target_ms for r in report.get("postgresql", {"results": {}})["results"].values())
    load_avg = os.getloadavg()
    print(f"\ntarget: each report <= {target_ms:.0f} ms (p50) on PostgreSQL at {n:,} finished cases: "
          f"{'MET' if met else 'NOT MET'}{' (not measured)' if 'postgresql' not in report else ''}; "
          f"load average {load_avg[0]:.2f}; {time.perf_counter() - started:.0f} s in all")
    print(json.dumps({"bench": "reports", "finished_cases": n, "target_ms": target_ms, "target_met": met,
                      "load_avg_1m": round(load_avg[0], 2),
                      "databases": {db: {"counts": v["counts"], "load_seconds": v["load_seconds"],
                                         "p50_ms": {k: round(r["p50"], 1) for k, r in v["results"].items()},
                                         "max_ms": {k: round(r["max"], 1) for k, r in v["results"].items()}}
                                    for db, v in report.items()}}, ensure_ascii=False))


if __name__ == "__main__":
    main()
