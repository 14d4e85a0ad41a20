"""The supervisor's view of the work (engine/usecases/supervision.py) at N open cases (default 5,000), on SQLite and
PostgreSQL, loaded as bench/inbox_scale.py loads them (every procedure deployed, bulk inserts the list tables'
triggers follow, about 64% of the open tasks in the "tramite" queue, 3% claimed, some overdue, a few without a
deadline). Times the counts per group and clerk (an administrator's and a supervisor of "tramite"), a group's and a
clerk's list, and prints each query's plan (EXPLAIN QUERY PLAN / EXPLAIN). Last line: JSON.

No target of its own: the counts read every open task of the groups in view (grouped by the (group, due) index, and
the claimed ones by the (assignee, due) index); this shows how that grows.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench import inbox_scale as scale  # noqa: E402
from engine.accounts.permissions import ADMIN, SUPERVISOR, Principal  # noqa: E402
from engine.usecases import supervision  # noqa: E402


def views(svc) -> dict:
    admin = Principal(1, "admin", ADMIN, ())
    chief = Principal(2, "jefe_tramite", SUPERVISOR, (scale.BIG_GROUP,))
    with svc.db.connect() as conn:
        holder = conn.execute(text("SELECT assignee FROM inbox_items WHERE assignee IS NOT NULL "
                                   "GROUP BY assignee ORDER BY count(*) DESC LIMIT 1")).scalar_one()
    return {
        "counts, administrator": lambda: supervision.workload(svc, admin),
        "counts, supervisor of tramite": lambda: supervision.workload(svc, chief),
        "counts, 10 working days": lambda: supervision.workload(svc, chief, due_soon_days=10),
        "list of group tramite": lambda: supervision.open_tasks(svc, chief, group=scale.BIG_GROUP),
        "list of group tramite, page 5": lambda: supervision.open_tasks(svc, chief, group=scale.BIG_GROUP, page=5),
        f"list of clerk {holder}": lambda: supervision.open_tasks(svc, admin, assignee=holder),
    }


def run(db: str, n_open: int, repeat: int, show_plans: bool) -> dict:
    with scale.bench_office(db, "bench-supervision-") as (svc, _directory):
        loaded, _sample = scale.load(svc, scale.generate(n_open, scale.user_tasks(svc)))
        print(f"[{db}] {n_open:,} open cases loaded in {loaded:.1f} s", flush=True)
        results = scale.measure(svc, views(svc), repeat, show_plans)
        svc.db.dispose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5_000, help="open cases (20%% more are closed)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    report = {db: run(db, args.cases, args.repeat, not args.no_plans)
              for db in (("sqlite", "postgresql") if args.db == "both" else (args.db,))}
    print(f"\n{'view':<36}" + "".join(f"{db + ' p50':>16}{db + ' p95':>16}" for db in report))
    for label in next(iter(report.values())):
        print(f"{label:<36}" + "".join(f"{report[db][label]['p50']:>13.1f} ms{report[db][label]['p95']:>13.1f} ms"
                                       for db in report))
    print(json.dumps({"bench": "supervision_scale", "open_cases": args.cases,
                      "results": {db: {k: {m: round(v, 2) for m, v in r.items()} for k, r in res.items()}
                                  for db, res in report.items()}}))


if __name__ == "__main__":
    main()
