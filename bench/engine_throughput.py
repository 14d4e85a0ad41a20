"""Throughput of the 5-step process through our use cases vs raw SpiffWorkflow, in one run.

Ours: start → complete → complete through engine.usecases.cases/engine.usecases.tasks on an SQLite file at the
default durability (WAL, synchronous=FULL); every step loads the case from the database.
Raw: SpiffWorkflow alone, serialize_json + deserialize_json (its own format, spec embedded) at
each wait state, no database. Floor: the same with our spec-by-reference serializer.
Last line: JSON with ours_per_s, raw_per_s, ratio (target ≥ 0.5).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine.usecases import cases
from engine.runtime import serializer
from engine.usecases import tasks  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.language.specs import parse_bundle  # noqa: E402
from engine.accounts.users import map_lane  # noqa: E402

SYSTEM = Principal(user_id=0, username=None, role=ADMIN)  # files the cases, recorded as no one
BENCH = Principal(user_id=0, username="bench", role=ADMIN)  # completes the steps

BPMN = (ROOT / "tests" / "fixtures" / "five_step.bpmn").read_bytes()
DATA = [{"amount": 80}, {"ok": True}]


def ours(svc, k: int) -> float:
    t0 = time.perf_counter()
    for _ in range(k):
        started = cases.start_case(svc, SYSTEM, "five_step")
        task_id = started.ready_tasks[0]["id"]
        for data in DATA:
            result = tasks.complete_task(svc, BENCH, task_id, data)
            task_id = result["ready_tasks"][0]["id"] if result["ready_tasks"] else None
        assert result["case_state"] == "completed", result
    return k / (time.perf_counter() - t0)


def raw(spec, subs, k: int, save, load) -> float:
    t0 = time.perf_counter()
    for _ in range(k):
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        for data in DATA:
            wf = load(save(wf))
            task = next(t for t in wf.tasks.values() if t.state == TaskState.READY and t.task_spec.manual)
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
        wf = load(save(wf))
        assert wf.is_completed()
    return k / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small run, under 30 s")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-")
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # each run's database (about 4 MB) is not kept


def run(args, tmp: str) -> None:
    k = args.cases or (150 if args.quick else 1000)
    runs = args.runs or (3 if args.quick else 5)
    settings = Settings(database_url=f"sqlite:///{tmp}/bench.db")  # defaults: WAL, synchronous=FULL
    svc = build_services(settings)
    upgrade(svc.db)
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": BPMN})
    sync = svc.db.connect().exec_driver_sql("PRAGMA synchronous").scalar()

    proc = parse_bundle({"five_step.bpmn": BPMN}).processes["five_step"]
    spiff = BpmnWorkflowSerializer(registry=BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    spec_text = serializer.dump_spec(proc.spec, proc.subprocess_specs)
    ref_spec, ref_subs = serializer.load_spec(spec_text)

    ours(svc, 20)  # warm caches and the file
    results = {"ours": [], "raw": [], "floor": []}
    for _ in range(runs):
        results["ours"].append(ours(svc, k))
        results["raw"].append(raw(proc.spec, proc.subprocess_specs, k, spiff.serialize_json, spiff.deserialize_json))
        results["floor"].append(raw(ref_spec, ref_subs, k, serializer.dump_workflow,
                                    lambda text: serializer.load_workflow(text, ref_spec, ref_subs)))
    med = {name: statistics.median(values) for name, values in results.items()}

    print(f"5-step process, {k} cases x {runs} runs, SQLite synchronous={sync} (2=FULL), medians")
    print(f"{'variant':<58}{'cases/s':>10}")
    print(f"{'ours: use cases, SQLite file, load before every step':<58}{med['ours']:>10.0f}")
    print(f"{'raw SpiffWorkflow: its serializer at each wait, no DB':<58}{med['raw']:>10.0f}")
    print(f"{'floor: spec by reference + orjson at each wait, no DB':<58}{med['floor']:>10.0f}")
    print(json.dumps({
        "ours_per_s": round(med["ours"], 1), "raw_per_s": round(med["raw"], 1),
        "ratio": round(med["ours"] / med["raw"], 3), "floor_per_s": round(med["floor"], 1),
        "ratio_vs_floor": round(med["ours"] / med["floor"], 3), "cases": k, "runs": runs,
        "sqlite_synchronous": sync,
    }))


if __name__ == "__main__":
    main()
