"""Every case of the stored corpus (tests/fixtures/stored_cases: every procedure at every kind of wait, inside call
activities and subprocesses, finished) swapped onto a freshly built copy of its version's spec
(engine/runtime/spec_swap.py, no mapping): it waits where it waited, with the same ready tasks, timers and message
catches (ids and due moments), keeps its data, loads again, and takes the step its walk took next to the same next
wait. The swap's tree handling (predictions dropped and made again, subprocesses re-pointed) must be invisible when
nothing changed."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from engine.runtime import serializer, spec_swap
from engine.runtime.runner import current_data, ready_human_tasks
from engine.storage.persistence import dump_data, dump_state
from tests.integration.test_stored_corpus import CASES, _load, _spec_text, _take_step, _waits, svc  # noqa: F401

LIVE = [c for c in CASES if not c["waits"]["finished"]]


def _seen(svc, wf) -> tuple:
    return (sorted(t.id for t in ready_human_tasks(wf)), sorted(svc.runtime.waiting_timers(wf).items()),
            sorted(svc.runtime.waiting_messages(wf).items()))


@pytest.mark.parametrize("case", LIVE, ids=[c["id"] for c in LIVE])
def test_a_stored_case_swapped_onto_its_own_spec_is_the_same_case(svc, case):  # noqa: F811
    svc.clock.now = datetime.fromisoformat(case["clock"])
    old = _load(svc, case["workflow_json"], _spec_text(case["spec"]))
    spec, subs = serializer.load_spec(_spec_text(case["spec"]))  # other objects than the old workflow's
    new = spec_swap.swap(svc.runtime, case["workflow_json"], old, spec, subs, {})
    assert spec_swap.run(svc.runtime, new) is None
    assert _seen(svc, new) == _seen(svc, old)
    assert json.loads(dump_data(current_data(new))) == case["data"]
    assert spec_swap.round_trip_problem(svc.runtime, new, spec, subs) is None

    if case["next"] is not None:
        _take_step(svc, new, case["next"])
    reloaded = _load(svc, dump_state(new), _spec_text(case["spec"]))
    expected = case["then"] if case["next"] is not None else case["waits"]
    assert _waits(svc, reloaded) == {k: expected[k] for k in ("tasks", "timers", "finished")}
