"""Cost of one step as a case's history grows: a loop case after 5, 200 and 1,000 completed steps.

Each sample completes one user task of the loop through engine.usecases.tasks on an SQLite file
(WAL, synchronous=FULL, the default), which loads, runs and saves the case (its task tree without the finished
part, engine/runtime/pruning.py). The 5-step case, measured in the same run, is the baseline.
Targets (issue 18): a step at 200 steps of history costs at most 1.5x one at 5, at 1,000 at most 2x.
Last line: JSON with ms_at_5, ms_at_200, ms_at_1000, the growths, the state sizes and whether the targets are met.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.usecases import cases
from engine.usecases import tasks  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.services import build_services  # noqa: E402
from tests.bpmn import LOOP  # noqa: E402
from tests.task_rows import task_rows  # noqa: E402

SYSTEM = Principal(user_id=0, username=None, role=ADMIN)  # files the cases, recorded as no one
BENCH = Principal(user_id=0, username="bench", role=ADMIN)  # completes the steps

SAMPLES = 31
TARGETS = {200: 1.5, 1000: 2.0}


def step(svc, case_id: int) -> float:
    [row] = task_rows(svc, case_id)
    t0 = time.perf_counter()
    tasks.complete_task(svc, BENCH, row["id"], {"note": "sesión"})
    return (time.perf_counter() - t0) * 1000


def case_at(svc, history: int) -> int:
    case = cases.start_case(svc, SYSTEM, "loop", {"limit": 10**6})
    for _ in range(history):
        step(svc, case.id)
    return case.id


def size_of(svc, case_id: int) -> int:
    with svc.uow(write=False) as uow:
        return len(uow.conn.exec_driver_sql("SELECT workflow_json FROM cases WHERE id = ?", (case_id,)).scalar())


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-")
    try:
        svc = build_services(Settings(database_url=f"sqlite:///{tmp}/bench.db"))
        upgrade(svc.db)
        deploy_files(svc, {"loop.bpmn": LOOP})
        warm = case_at(svc, 2)
        built = {h: case_at(svc, h) for h in (5, *TARGETS)}
        for _ in range(5):
            step(svc, warm)
        # Samples taken in turns, so a busy moment of the machine falls on every history alike.
        samples = {h: [] for h in built}
        for _ in range(SAMPLES):
            for history, case_id in built.items():
                samples[history].append(step(svc, case_id))
        base, base_size = statistics.median(samples[5]), size_of(svc, built[5])
        points = {h: (statistics.median(samples[h]), size_of(svc, built[h])) for h in TARGETS}
        svc.db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the run's database is not kept
    load = os.getloadavg()[0]
    print(f"one step of a loop case (user task + script + gateway per round), median of {SAMPLES}; load {load:.1f}")
    print(f"{'history':<12}{'ms/step':>10}{'x 5 steps':>11}{'target':>8}{'state bytes':>14}")
    print(f"{'5 steps':<12}{base:>10.2f}{1:>11.2f}{'':>8}{base_size:>14}")
    result = {"ms_at_5": round(base, 3), "bytes_at_5": base_size, "load": round(load, 2)}
    met = True
    for history, (ms, size) in points.items():
        growth = ms / base
        ok = growth <= TARGETS[history]
        met &= ok
        print(f"{f'{history} steps':<12}{ms:>10.2f}{growth:>11.2f}{TARGETS[history]:>7.1f}{'' if ok else '!'}"
              f"{size:>14}")
        result.update({f"ms_at_{history}": round(ms, 3), f"growth_{history}": round(growth, 2),
                       f"bytes_at_{history}": size})
    print("targets met" if met else "TARGETS MISSED")
    print(json.dumps({**result, "targets_met": met}))


if __name__ == "__main__":
    main()
