"""Cost of one step as a case's history grows: a loop case after 5 and after 200 completed steps.

Each sample completes one user task of the loop through engine.usecases.tasks on an SQLite file
(WAL, synchronous=FULL), which loads, runs and saves the whole case.
Last line: JSON with ms_at_5, ms_at_200, growth.
"""
from __future__ import annotations

import json
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

SAMPLES = 15


def step(svc, case_id: int) -> float:
    [row] = task_rows(svc, case_id)
    t0 = time.perf_counter()
    tasks.complete_task(svc, BENCH, row["id"], {"note": "sesión"})
    return (time.perf_counter() - t0) * 1000


def measure_at(svc, history: int) -> tuple[float, int]:
    case = cases.start_case(svc, SYSTEM, "loop", {"limit": 10**6})
    for _ in range(history):
        step(svc, case.id)
    with svc.uow(write=False) as uow:
        size = len(uow.conn.exec_driver_sql("SELECT workflow_json FROM cases WHERE id = ?", (case.id,)).scalar())
    return statistics.median(step(svc, case.id) for _ in range(SAMPLES)), size


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-")
    svc = build_services(Settings(database_url=f"sqlite:///{tmp}/bench.db"))
    upgrade(svc.db)
    deploy_files(svc, {"loop.bpmn": LOOP})
    measure_at(svc, 2)  # warm up
    at5, size5 = measure_at(svc, 5)
    at200, size200 = measure_at(svc, 200)
    print(f"one step of a loop case (user task + script + gateway per round), median of {SAMPLES}")
    print(f"{'history':<12}{'ms/step':>10}{'state bytes':>14}")
    print(f"{'5 steps':<12}{at5:>10.2f}{size5:>14}")
    print(f"{'200 steps':<12}{at200:>10.2f}{size200:>14}")
    print(json.dumps({"ms_at_5": round(at5, 3), "ms_at_200": round(at200, 3),
                      "growth": round(at200 / at5, 2), "bytes_at_5": size5, "bytes_at_200": size200}))


if __name__ == "__main__":
    main()
