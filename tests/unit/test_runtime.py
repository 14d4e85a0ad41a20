"""The runtime's guarantees: loops never end in a false 'completed', data survives saving."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from engine.runtime import serializer
from engine.runtime.runner import Runtime, is_finished, ready_human_tasks
from engine.language.specs import parse_bundle
from tests.bpmn import ENDLESS, LOOP, PARALLEL_LOOP
from tests.conftest import bpmn_fixture


def spec_of(xml: bytes, process_id: str):
    proc = parse_bundle({f"{process_id}.bpmn": xml}).processes[process_id]
    return proc.spec, proc.subprocess_specs


def end_reached(wf) -> bool:
    return any(t.task_spec.bpmn_id == "end" and t.state == TaskState.COMPLETED for t in wf.tasks.values())


def test_loop_keeps_working_past_spiffworkflows_depth_cap():
    # SpiffWorkflow 3.2 alone stalls after 333 rounds of this loop (3 tasks a round: depth 1000) and reports
    # 'completed'; 400 rounds go well past that (each round costs more than the last: 1005 took 15 s).
    rt = Runtime()
    spec, subs = spec_of(LOOP, "loop")
    wf = rt.new_workflow(spec, subs, {"limit": 400})
    assert rt.advance(wf) is None
    rounds = 0
    while not is_finished(wf):
        [task] = ready_human_tasks(wf)
        assert rt.run_task(wf, wf.get_task_from_id(UUID(task.id)), None) is None
        rounds += 1
    assert rounds == 400
    assert end_reached(wf)
    assert wf.last_task.data["i"] == 400


def test_loop_past_the_depth_bound_stops_with_a_clear_error_not_completed():
    rt = Runtime(max_task_depth=60)
    spec, subs = spec_of(LOOP, "loop")
    wf = rt.new_workflow(spec, subs, {"limit": 10_000})
    rt.advance(wf)
    failure = None
    for _ in range(100):
        [task] = ready_human_tasks(wf)
        failure = rt.run_task(wf, wf.get_task_from_id(UUID(task.id)), None)
        if failure:
            break
    assert failure is not None and failure.element_id == "work"
    assert "cycles" in failure.message
    assert not is_finished(wf) and not end_reached(wf)


def test_endless_automatic_loop_is_stopped_with_the_element_named():
    rt = Runtime()
    spec, subs = spec_of(ENDLESS, "endless")
    wf = rt.new_workflow(spec, subs, {"i": 0})
    failure = rt.advance(wf)
    assert failure is not None
    assert "never ends" in failure.message
    assert failure.element_id in {"inc", "gw"}
    assert not is_finished(wf)


def test_parallel_join_inside_a_short_loop_reaches_the_end():
    rt = Runtime()
    spec, subs = spec_of(PARALLEL_LOOP, "parallel_loop")
    wf = rt.new_workflow(spec, subs, {"limit": 12})
    assert rt.advance(wf) is None
    assert end_reached(wf) and is_finished(wf) and wf.last_task.data["i"] == 12


def test_parallel_join_inside_a_long_loop_is_stopped_cleanly():
    # SpiffWorkflow alone slows down round after round and raises RecursionError near 164.
    rt = Runtime(max_join_rounds=15)
    spec, subs = spec_of(PARALLEL_LOOP, "parallel_loop")
    wf = rt.new_workflow(spec, subs, {"limit": 400})
    failure = rt.advance(wf)
    assert failure is not None and failure.element_id in {"split", "join"}
    assert "has run 16 times in a loop" in failure.message
    assert not is_finished(wf) and not end_reached(wf)


def test_saved_case_keeps_types_and_reserved_keys_and_loads_on_the_stored_spec():
    rt = Runtime()
    spec, subs = spec_of(bpmn_fixture("five_step.bpmn"), "five_step")
    wf = rt.new_workflow(spec, subs)
    rt.advance(wf)
    payload = {"amount": 7, "d": Decimal("1.50"), "day": date(2026, 1, 2),
               "at": datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc), "big": 2**63 - 1,
               "x": {"typename": "UUID", "value": "not-a-uuid", "~typename": 1},
               "rows": [{"typename": "BpmnWorkflow"}]}
    [task] = ready_human_tasks(wf)
    rt.run_task(wf, wf.get_task_from_id(UUID(task.id)), payload)
    text = serializer.dump_workflow(wf)
    assert '"spec"' not in text[:200] and "five_step" not in text.split('"tasks"')[0]
    spec2, subs2 = serializer.load_spec(serializer.dump_spec(spec, subs))
    loaded = rt.attach(serializer.load_workflow(text, spec2, subs2))
    [task] = ready_human_tasks(loaded)
    data = loaded.get_task_from_id(UUID(task.id)).data
    assert {k: data[k] for k in payload} == payload
    assert type(data["big"]) is int and data["total"] == 14
    assert loaded.script_engine is rt.script_engine


def test_spec_serialization_is_deterministic():
    spec, subs = spec_of(bpmn_fixture("five_step.bpmn"), "five_step")
    assert serializer.dump_spec(spec, subs) == serializer.dump_spec(*spec_of(bpmn_fixture("five_step.bpmn"), "five_step"))
