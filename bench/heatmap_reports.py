"""The heat map, the LAIP annual report and the monthly summary at scale, on SQLite and PostgreSQL.

bench/reports.py's office and cases (N finished cases over two years, N/10 running, their tasks and legal deadlines,
written by bulk inserts); then, by INSERT ... SELECT, the element visits the steps would have written: per case its
start event, per completed task a visit (from its creation to its completion, the previous task as the flow taken)
and a gateway passed at once after it; and a LAIP outcome (case_facts) for every `laip_respuesta` deadline. Then the
heat map (licencia: the default 90 days, a year, every version), the LAIP report of this year and the monthly
summary of last month are timed through their use cases, p50 and max of `--repeat` runs.

Target (issue 21): <= 1 s per report on PostgreSQL at 100,000 cases; SQLite's figure is given. Last line: JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.inbox_scale import NOW, bench_office, user_tasks  # noqa: E402
from bench.reports import BOSS, generate, load, measure  # noqa: E402
from engine.usecases import heatmap, laip_report, monthly_report  # noqa: E402

VISITS = """
INSERT INTO element_visits (case_id, process_version_id, element_id, previous_element_id, started_at, ended_at)
SELECT t.case_id, c.process_version_id, {element}, {previous}, {started}, t.completed_at
FROM (SELECT case_id, element_id, created_at, completed_at,
             lag(element_id) OVER (PARTITION BY case_id ORDER BY created_at, id) AS prev
      FROM tasks WHERE state = 'completed') t JOIN cases c ON c.id = t.case_id
"""
STARTS = """
INSERT INTO element_visits (case_id, process_version_id, element_id, previous_element_id, started_at, ended_at)
SELECT id, process_version_id, 'inicio', NULL, created_at, created_at FROM cases
"""
FACTS = """
INSERT INTO case_facts (case_id, key, value, element_id, at)
SELECT case_id, 'laip_sentido',
       CASE case_id % 10 WHEN 0 THEN 'reservada' WHEN 1 THEN 'confidencial' WHEN 2 THEN 'inexistente'
                         WHEN 3 THEN 'entrega_parcial' ELSE 'entrega_total' END, 'laip_resolver', due_at
FROM legal_deadlines WHERE key = 'laip_respuesta' AND state IN ('met', 'late')
"""


def add_visits(svc) -> tuple[float, int]:
    started = time.perf_counter()
    with svc.db.begin() as conn:
        conn.execute(text(STARTS))
        # the task, coming from the task before it (or the start event), since the one before ended
        conn.execute(text(VISITS.format(element="t.element_id", previous="coalesce(t.prev || '_gw', 'inicio')",
                                        started="t.created_at")))
        # a gateway after each task, passed at once
        conn.execute(text(VISITS.format(element="t.element_id || '_gw'", previous="t.element_id",
                                        started="t.completed_at")))
        conn.execute(text(FACTS))
        count = conn.execute(text("SELECT count(*) FROM element_visits")).scalar_one()
    with svc.db.connect() as conn:
        if svc.db.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE element_visits"))
        else:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started, count


def views(svc) -> dict:
    today = NOW.date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    year = {"date_from": today - timedelta(days=364), "date_to": today}
    return {
        "mapa de calor 90 días": lambda: heatmap.heatmap(svc, BOSS, "licencia"),
        "mapa de calor 1 año": lambda: heatmap.heatmap(svc, BOSS, "licencia", **year),
        "mapa de calor 1 año, casos": lambda: heatmap.heatmap(svc, BOSS, "licencia", mode="casos", **year),
        "mapa de calor todas las versiones": lambda: heatmap.heatmap(svc, BOSS, "licencia", all_versions=True, **year),
        "LAIP anual": lambda: laip_report.laip_annual(svc, BOSS, today.year),
        "LAIP año anterior": lambda: laip_report.laip_annual(svc, BOSS, today.year - 1),
        "resumen mensual": lambda: monthly_report.monthly_summary(svc, BOSS, last_month),
    }


def run(db: str, n: int, repeat: int) -> dict:
    with bench_office(db, "bench-heatmap-") as (svc, _directory):
        loaded = load(svc, generate(n, user_tasks(svc)))
        visits_seconds, visits = add_visits(svc)
        print(f"[{db}] {n:,} finished cases (+{n // 10:,} running) loaded in {loaded:.1f} s; {visits:,} element "
              f"visits in {visits_seconds:.1f} s", flush=True)
        results, answers = measure(views(svc), repeat)
        year = answers.get("mapa de calor 1 año")
        if year:
            top = max(year["elements"], key=lambda e: e["cases"])
            print(f"  licencia, a year: {len(year['elements'])} elements; {top['element_id']}: {top['cases']} cases, "
                  f"median {top['median_seconds']} s, p90 {top['p90_seconds']} s", flush=True)
        laip = answers.get("LAIP año anterior")
        if laip:
            print("  LAIP totals:", laip["totals"], flush=True)
        svc.db.dispose()
    return {"results": results, "visits": visits, "load_seconds": round(loaded + visits_seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="finished cases (10%% more are running)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    report = {db: run(db, args.cases, args.repeat) for db in dbs}
    target_ms = 1000.0
    met = all(r["p50"] <= target_ms for r in report.get("postgresql", {"results": {}})["results"].values())
    load_avg = os.getloadavg()[0]
    print(f"\ntarget: each <= {target_ms:.0f} ms (p50) on PostgreSQL at {args.cases:,} finished cases: "
          f"{'MET' if met else 'NOT MET'}{' (not measured)' if 'postgresql' not in report else ''}; "
          f"load average {load_avg:.2f}")
    print(json.dumps({"bench": "heatmap_reports", "finished_cases": args.cases, "target_ms": target_ms,
                      "target_met": met, "load_avg_1m": round(load_avg, 2),
                      "databases": {db: {"visits": v["visits"], "load_seconds": v["load_seconds"],
                                         "p50_ms": {k: round(r["p50"], 1) for k, r in v["results"].items()},
                                         "max_ms": {k: round(r["max"], 1) for k, r in v["results"].items()}}
                                    for db, v in report.items()}}, ensure_ascii=False))


if __name__ == "__main__":
    main()
