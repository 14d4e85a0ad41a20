"""What a supervisor waits for on each save in the modeler: store the draft and validate it.

For each office procedure in processes/, on a migrated SQLite file (synchronous=FULL, the default) with every
procedure deployed and lanes.json applied: the median time of `drafts.save_draft` (write the draft, then parse,
lint and check the office's rules on it, as PUT /api/drafts/<key> does) against the baseline measured in the
same run, `specs.parse_bundle` of the same files alone (what deploying would parse anyway). Every sample is a
different diagram (a comment added), so the parse cache never answers, as with a supervisor's real edits.
Last line: JSON with the slowest procedure's median and the overhead over its baseline (target: ≤ 500 ms).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.usecases import drafts  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.usecases.deploy import deploy_paths  # noqa: E402
from engine.usecases.lanes import apply_lane_files  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.language.specs import parse_bundle  # noqa: E402

PROCESSES = ROOT / "processes"
BENCH = Principal(user_id=0, username="bench", role=ADMIN)  # the drafts record who saved them
TARGET_MS = 500


def median_ms(fn, xml: str, samples: int) -> float:
    """fn(variant) timed on `samples` variants of the diagram, each new to the parse cache, as every real edit is."""
    times = []
    for n in range(samples):
        variant = xml.replace("</bpmn:definitions>", f"<!-- edit {n} {time.perf_counter_ns()} --></bpmn:definitions>")
        t0 = time.perf_counter()
        fn(variant)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EXPEDIENTE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        svc = build_services(Settings.from_env(env))
        upgrade(svc.db)
        deploy_paths(svc, [PROCESSES], actor="bench")
        apply_lane_files(svc, [PROCESSES])
        keys = sorted(p.stem for p in PROCESSES.glob("*.bpmn") if not p.stem.startswith("comun_"))
        rows = []
        for key in keys:
            xml = (PROCESSES / f"{key}.bpmn").read_text(encoding="utf-8")
            files = drafts.bundle_for(svc, key, xml)
            problems = drafts.save_draft(svc, BENCH, key, xml)["problems"]  # warm up, and check it is clean
            errors = [p for p in problems if p["severity"] == "error"]
            if errors:
                raise SystemExit(f"{key}: the office's own diagram has problems: {errors}")
            own = next(iter(files))
            baseline = median_ms(lambda x: parse_bundle({**files, own: x.encode()}), xml, args.samples)
            save = median_ms(lambda x: drafts.save_draft(svc, BENCH, key, x), xml, args.samples)
            rows.append((key, len(xml), baseline, save))
        svc.db.dispose()
    print(f"save + validate a draft, median of {args.samples} (SQLite, synchronous=FULL)")
    print(f"{'procedure':<26}{'bytes':>8}{'parse ms':>10}{'save ms':>10}{'overhead':>10}")
    for key, size, baseline, save in rows:
        print(f"{key:<26}{size:>8}{baseline:>10.1f}{save:>10.1f}{save / baseline:>9.2f}x")
    key, _size, baseline, save = max(rows, key=lambda r: r[3])
    print(json.dumps({"slowest": key, "save_ms": round(save, 1), "parse_ms": round(baseline, 1),
                      "overhead": round(save / baseline, 2), "target_ms": TARGET_MS, "ok": save <= TARGET_MS}))


if __name__ == "__main__":
    main()
