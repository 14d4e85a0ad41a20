"""What the engine throughput ratio (bench/engine_throughput.py, target ≥ 0.5) could reach without parts of the
write path that the product requires: the same 5-step bench on four SQLite files, one run after another in turns.

- as shipped: WAL, synchronous=FULL, the lists' projection (inbox_items, its triggers and indexes);
- without the lists' projection: its triggers and indexes dropped from the bench's file (the inbox could not
  be read; issue 18's list targets need it);
- synchronous=OFF: a step is no longer durable when acknowledged (the brief forbids it);
- both removed.
Raw SpiffWorkflow (its serializer at each wait, no database) is timed in the same turns. An analysis, not a
target: it shows how much of the gap to raw the disk's fsync and the projection explain, and that even without
both the ratio stays near 0.5. Last line: JSON with cases/s, ms per case and the ratio of each variant.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402

from bench.engine_throughput import BPMN, ours, raw  # noqa: E402
from engine.accounts.users import map_lane  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.language.specs import parse_bundle  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402

VARIANTS = {"as shipped": ("FULL", False), "without the lists' projection": ("FULL", True),
            "synchronous=OFF": ("OFF", False), "OFF, without the projection": ("OFF", True)}


def office(folder: Path, synchronous: str, drop_lists: bool):
    svc = build_services(Settings(database_url=f"sqlite:///{folder}/bench.db", sqlite_synchronous=synchronous))
    upgrade(svc.db)
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": BPMN})
    if drop_lists:
        with svc.db.begin() as conn:
            for name, sql in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all():
                if "inbox_items" in (sql or ""):
                    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                                "tbl_name = 'inbox_items' AND sql IS NOT NULL").all():
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
    ours(svc, 20)  # warm caches and the file
    return svc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ceiling-"))
    try:
        offices = {}
        for k, (name, (synchronous, drop)) in enumerate(VARIANTS.items()):
            (tmp / str(k)).mkdir()
            offices[name] = office(tmp / str(k), synchronous, drop)
        proc = parse_bundle({"five_step.bpmn": BPMN}).processes["five_step"]
        spiff = BpmnWorkflowSerializer(registry=BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        rates = {name: [] for name in [*VARIANTS, "raw"]}
        for _ in range(args.runs):
            for name, svc in offices.items():
                rates[name].append(ours(svc, args.cases))
            rates["raw"].append(raw(proc.spec, proc.subprocess_specs, args.cases, spiff.serialize_json,
                                    spiff.deserialize_json))
        for svc in offices.values():
            svc.db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {name: statistics.median(values) for name, values in rates.items()}
    print(f"5-step process, {args.cases} cases x {args.runs} runs in turns, medians; load {os.getloadavg()[0]:.1f}")
    print(f"raw SpiffWorkflow: {med['raw']:.0f} cases/s ({1000 / med['raw']:.2f} ms per case)")
    print(f"{'variant':<34}{'cases/s':>9}{'ms/case':>9}{'ratio':>7}")
    result = {}
    for name in VARIANTS:
        ratio = med[name] / med["raw"]
        print(f"{name:<34}{med[name]:>9.0f}{1000 / med[name]:>9.2f}{ratio:>7.2f}")
        result[name] = {"per_s": round(med[name], 1), "ms": round(1000 / med[name], 2), "ratio": round(ratio, 3)}
    print(json.dumps({"raw_per_s": round(med["raw"], 1), "variants": result, "load": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
