"""Trying a draft and importing from other tools: how long a trial of the licence draft takes to start (a throwaway
SQLite file migrated, the draft with its tables and called processes deployed in it, the case started), each step
(a task completed, timers fired, a message simulated), choosing again (a new trial replaying the steps) and ending;
then the guided fixes found on every file of ../shared/bpmn-reference (per kind, and the messages that name their
element by name and id). Last line: JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import inbox_scale as scale  # noqa: E402
from engine.accounts.permissions import SUPERVISOR, Principal  # noqa: E402
from engine.language.import_fixes import analyse  # noqa: E402
from engine.usecases import drafts, foreign_import, trial  # noqa: E402
from tests.processes.licencia_walk import intake  # noqa: E402

CHIEF = Principal(2, "supervisor1", SUPERVISOR, ())
REFERENCE = ROOT.parent / "shared" / "bpmn-reference"


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def one_trial(svc) -> dict:
    times = {}
    state, times["start"] = timed(trial.start_trial, svc, CHIEF, "licencia", intake(), {})
    [task] = state["ready_tasks"]
    state, times["task"] = timed(trial.trial_complete, svc, CHIEF, state["token"], task["id"],
                                 {"constancia_entrega": "ventanilla", "constancia_folios": 12})
    [task] = state["ready_tasks"]
    state, times["task_2"] = timed(trial.trial_complete, svc, CHIEF, state["token"], task["id"], {"completo": True})
    wait = state["waits"][0]
    state, times["message"] = timed(trial.trial_message, svc, CHIEF, state["token"], wait["name"], wait["keys"],
                                    {"respuesta": "Favorable"})
    state, times["timers"] = timed(trial.trial_fire_timers, svc, CHIEF, state["token"])
    state, times["rechoose"] = timed(trial.trial_rechoose, svc, CHIEF, state["token"],
                                     {"gw_archivado": "f_archivado"})
    _, times["end"] = timed(trial.end_trial, svc, CHIEF, state["token"])
    return times


def reference_fixes(svc) -> dict:
    office = foreign_import.office_choices(svc, "importado")
    kinds, named, total, seconds = Counter(), 0, 0, []
    for path in sorted(REFERENCE.glob("*.bpmn")):
        fixes, took = timed(analyse, path.read_bytes(), "importado", office)
        seconds.append(took)
        for fix in fixes:
            kinds[fix["kind"]] += 1
            total += 1
            named += bool(fix["element_id"] and f"({fix['element_id'][:40]}" in fix["message"])
    return {"files": len(seconds), "fixes": total, "by_kind": dict(sorted(kinds.items())),
            "messages_naming_element_id": named, "max_analyse_ms": round(max(seconds or [0]) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    with scale.bench_office("sqlite", "bench-trial-") as (svc, directory):
        os.environ.setdefault("EXPEDIENTE_TRIAL_DIR", tempfile.mkdtemp(prefix="bench-trials-", dir=directory))
        drafts.create_draft(svc, CHIEF, "licencia")
        runs = [one_trial(svc) for _ in range(args.trials)]
        steps = {k: round(statistics.median(r[k] for r in runs) * 1000) for k in runs[0]}
        print(f"{'step':<10} {'median ms':>10}")
        for k, v in steps.items():
            print(f"{k:<10} {v:>10}")
        fixes = reference_fixes(svc) if REFERENCE.is_dir() else None
        if fixes:
            print(f"reference files: {fixes['files']}, fixes: {fixes['fixes']} {fixes['by_kind']}, naming the "
                  f"element's id: {fixes['messages_naming_element_id']}, slowest analysis {fixes['max_analyse_ms']} ms")
    print(json.dumps({"trials": args.trials, "median_ms": steps, "reference_fixes": fixes}))


if __name__ == "__main__":
    main()
