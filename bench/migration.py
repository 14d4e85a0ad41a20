"""Cases migrated per second: N running licence cases (default 1,000) spread over eight steps (tests/migration_cases.py:
a few walked through the use cases, the rest cloned from them) moved from v1 to v2 (tests/fixtures/licencia_v2.bpmn)
on SQLite (the app's settings: synchronous=FULL) and PostgreSQL. Times the dry run (plan_migration: every case loaded
and migrated in memory, one transaction), applying in batches of 50 (each case in its own transaction: version check,
workflow, projections, history event) and undoing. A case goes by a move (rebuilt at its one position) or, waiting in
parallel branches, by a swap (its live tree kept on v2's spec: engine/runtime/spec_swap.py); `ways` counts them.
Refused cases (a removed step without a mapping) count in the dry run only. `--element recibir_opinion_pnc` plans
only the cases waiting there (all swaps; the dry run still reads every case to find them). Last line: JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import inbox_scale as scale  # noqa: E402
from engine.accounts.permissions import SUPERVISOR, Principal  # noqa: E402
from engine.usecases import case_migration, case_migration_apply  # noqa: E402
from engine.usecases.deploy import list_versions  # noqa: E402
from tests.migration_cases import deploy_v2, running_cases  # noqa: E402

CHIEF = Principal(2, "supervisor1", SUPERVISOR, ())
HAND = {"elaborar_dictamen": "redactar_dictamen"}


def run(db: str, n_cases: int, batch: int, element: str | None = None) -> dict:
    with scale.bench_office(db, "bench-migration-") as (svc, _directory):
        started = time.perf_counter()
        running_cases(svc, n_cases)
        built = time.perf_counter() - started
        deploy_v2(svc)
        rows = list_versions(svc, "licencia")
        v1, v2 = rows[0]["id"], rows[-1]["id"]
        print(f"[{db}] {n_cases:,} running cases built in {built:.1f} s", flush=True)
        started = time.perf_counter()
        plan = case_migration.plan_migration(svc, CHIEF, v1, v2, HAND, {"element": element} if element else None)
        dry = time.perf_counter() - started
        started, batches = time.perf_counter(), 0
        done = {"remaining": plan["remaining"]}
        while done["remaining"]:
            done = case_migration_apply.apply_batch(svc, CHIEF, plan["id"], batch)
            batches += 1
        applied = time.perf_counter() - started
        started = time.perf_counter()
        undone = case_migration_apply.undo_batch(svc, CHIEF, plan["id"], 200)
        while undone["left"]:
            undone = case_migration_apply.undo_batch(svc, CHIEF, plan["id"], 200)
        undo = time.perf_counter() - started
        svc.db.dispose()
    ways: dict = {}
    for case in plan["cases"]:
        if case["problem"] is None:
            ways[case["way"]] = ways.get(case["way"], 0) + 1
    result = {"cases": n_cases, "ways": ways, "planned": plan["planned"], "refused": plan["refused"],
              "migrated": done["migrated"],
              "skipped": done["skipped"], "undone": undone["undone"], "batches": batches,
              "dry_run_s": round(dry, 2), "apply_s": round(applied, 2), "undo_s": round(undo, 2),
              "dry_run_cases_per_s": round(len(plan["cases"]) / dry, 1),
              "migrated_per_s": round(done["migrated"] / applied, 1),
              "undone_per_s": round(undone["undone"] / undo, 1)}
    print(f"[{db}] dry run {dry:.1f} s ({result['dry_run_cases_per_s']} cases/s), applied {done['migrated']} in "
          f"{applied:.1f} s ({result['migrated_per_s']} cases/s, {batches} batches), undone {undone['undone']} in "
          f"{undo:.1f} s ({result['undone_per_s']} cases/s)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--element", help="only the cases waiting there (recibir_opinion_pnc: the swaps alone)")
    args = parser.parse_args()
    report = {db: run(db, args.cases, args.batch, args.element)
              for db in (("sqlite", "postgresql") if args.db == "both" else (args.db,))}
    print(f"\n{'database':<12}{'dry run/s':>12}{'migrated/s':>12}{'undone/s':>12}")
    for db, r in report.items():
        print(f"{db:<12}{r['dry_run_cases_per_s']:>12}{r['migrated_per_s']:>12}{r['undone_per_s']:>12}")
    print(json.dumps({"bench": "migration", "cases": args.cases, "batch": args.batch, "results": report}))


if __name__ == "__main__":
    main()
