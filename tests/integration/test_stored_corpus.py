"""Every case in the corpus of stored cases loads with today's serializer and moves on to its next wait.

This is the upgrade safety net for the next SpiffWorkflow release (and for any change to the serializer, the
runtime or the procedures' forms): tests/fixtures/stored_cases holds cases of every procedure in processes/ as
an earlier build wrote them to the database (workflow JSON, the spec JSON of their process version, their data),
at several points: just started, waiting for a clerk, with a timer about to fire, inside a call activity or a
subprocess, finished. Each must load on its stored spec, show the same waits and data, take the step its walk
took next (the same task with the same data, validated by today's forms, or its timers firing at the same
moment), reach the same next wait or the end, and be storable again. When SpiffWorkflow changes its format, this fails
with SerializerVersionUnsupported until an upgrade step is added to engine.runtime.serializer.MIGRATIONS;
do not regenerate the corpus to make it pass (tests/fixtures/stored_cases/make_corpus.py says how to add cases).

Only engine.runtime, engine.storage and the forms are used, as a use case would (no database rows needed).
"""
from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from uuid import UUID

import pytest

from engine.runtime import serializer
from engine.runtime.runner import current_data, describe, is_finished, ready_human_tasks
from engine.values import check_data
from engine.storage.persistence import dump_data, dump_state
from engine.runtime.storable import mark_loaded
from tests.conftest import IN_MEMORY_URL, FakeClock, make_services

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "stored_cases"
PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def _read(path: Path):
    return json.loads(gzip.decompress(path.read_bytes()))


def _cases() -> list[dict]:
    return [case for path in sorted((CORPUS / "cases").glob("*.json.gz")) for case in _read(path)]


CASES = _cases()


@cache
def _spec_text(digest: str) -> str:
    return _read(CORPUS / "specs" / f"{digest}.json.gz")["spec_json"]


@pytest.fixture(scope="module")
def svc():
    """The app's services (forms, office helpers, calendar) on a fake clock; the corpus needs no rows."""
    services = make_services(IN_MEMORY_URL, FakeClock())
    yield services
    services.db.dispose()


def _waits(svc, wf) -> dict:
    """Ready human tasks and waiting timers by element id, and whether the case has ended."""
    return {"tasks": sorted(t.element_id for t in ready_human_tasks(wf)),
            "timers": sorted(element for element, _due in svc.runtime.waiting_timers(wf).values()),
            "finished": is_finished(wf)}


def _load(svc, text: str, spec_text: str):
    spec, subs = serializer.load_spec(spec_text)
    wf = serializer.load_workflow(text, spec, subs)
    mark_loaded(wf)
    return svc.runtime.attach(wf)


def _take_step(svc, wf, step: dict) -> None:
    if step["kind"] == "timers":
        svc.clock.now = datetime.fromisoformat(step["at"])
        failure = svc.runtime.fire_timers(wf)
    else:
        task = wf.get_task_from_id(UUID(step["task_id"]))
        assert task is not None and task.task_spec.manual, f"{step['element_id']} is not a human task of the case"
        check_data(step["data"])  # as complete_task does: what a case can store, then what the form allows
        # The corpus's versions predate versions keeping their forms: they have the forms of that time.
        data = svc.forms.for_version(None).validate(describe(task).form_key, step["data"])
        failure = svc.runtime.run_task(wf, task, data)
    assert failure is None, f"{failure.element_id}: {failure.message}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_stored_case_loads_and_moves_on_to_its_next_wait(svc, case):
    svc.clock.now = datetime.fromisoformat(case["clock"])
    wf = _load(svc, case["workflow_json"], _spec_text(case["spec"]))
    assert _waits(svc, wf) == {k: case["waits"][k] for k in ("tasks", "timers", "finished")}
    assert json.loads(dump_data(current_data(wf))) == case["data"]

    if case["next"] is not None:
        _take_step(svc, wf, case["next"])
    text = dump_state(wf)  # storable again, by today's checks
    reloaded = _load(svc, text, _spec_text(case["spec"]))
    expected = case["then"] if case["next"] is not None else case["waits"]
    assert _waits(svc, reloaded) == {k: expected[k] for k in ("tasks", "timers", "finished")}


def _element_ids(path: Path) -> set[str]:
    return set(re.findall(r'<bpmn:\w+ id="([^"]+)"', path.read_text()))


def test_the_corpus_covers_every_procedure_at_every_kind_of_wait():
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    kinds = {}
    for case in CASES:
        kinds.setdefault(case["process_key"], set()).update(case["kinds"])
    called = {name for path in PROCESSES.glob("*.bpmn")
              for name in re.findall(r'calledElement="([^"]+)"', path.read_text())}
    top_level = {p.stem for p in PROCESSES.glob("*.bpmn")} - called
    assert set(kinds) == top_level and set(manifest["procedures"]) == top_level
    for process_key, found in kinds.items():
        text = (PROCESSES / f"{process_key}.bpmn").read_text()
        wanted = {"started", "human", "finished"}
        wanted |= {"timer_fires"} if "timerEventDefinition" in text else set()
        wanted |= {"subprocess"} if "<bpmn:callActivity" in text or "<bpmn:subProcess" in text else set()
        assert wanted <= found, (process_key, sorted(wanted - found))
    # The called procedures are covered where they run: a stored case waits inside each of them.
    waiting_inside = {element for case in CASES if "subprocess" in case["kinds"]
                      for element in case["waits"]["tasks"] + case["waits"]["timers"]}
    for name in called:
        assert waiting_inside & _element_ids(PROCESSES / f"{name}.bpmn"), f"no stored case waits inside {name}"


def test_every_stored_case_was_written_in_a_version_this_build_reads():
    readable = {serializer.SERIALIZER_VERSION, *serializer.MIGRATIONS}
    assert {case["serializer_version"] for case in CASES} <= readable
    assert all(json.loads(case["workflow_json"])["serializer_version"] == case["serializer_version"]
               for case in CASES)
