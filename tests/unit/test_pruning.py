"""A saved case keeps only the part of its task tree that can still run, and runs exactly as if it kept it all.

Each diagram is driven twice, saving and loading after every step: once as the engine saves (pruned), once with
pruning switched off. Both must offer the same tasks with the same data at every step and end the same way;
the pruned state must stay the size of a short case however long the history.
"""
from __future__ import annotations

from uuid import UUID

import orjson
import pytest
from SpiffWorkflow.util.task import TaskState

from engine.runtime import serializer
from engine.runtime.pruning import DONE_KEY, prune_document
from engine.runtime.runner import Runtime, current_data, element_marks, is_finished, ready_human_tasks
from engine.language.specs import parse_bundle
from tests.bpmn import LOOP, definitions


def _loop(body: str, first: str, process_id: str) -> bytes:
    """start → init → body (from `first` to "last") → inc → gw → back to `first`, or out to the end at i >= limit."""
    return definitions(f"""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init"/>
    <bpmn:scriptTask id="init"><bpmn:script>i = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="{first}"/>
    {body}
    <bpmn:sequenceFlow id="f3" sourceRef="last" targetRef="inc"/>
    <bpmn:scriptTask id="inc"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="inc" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="back"/>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="{first}"/>
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>i &gt;= limit</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
""", process_id)


PARALLEL_USERS = _loop("""
    <bpmn:parallelGateway id="split"/>
    <bpmn:sequenceFlow id="a1" sourceRef="split" targetRef="left"/>
    <bpmn:sequenceFlow id="b1" sourceRef="split" targetRef="right"/>
    <bpmn:userTask id="left" name="Izquierda"/>
    <bpmn:userTask id="right" name="Derecha"/>
    <bpmn:sequenceFlow id="a2" sourceRef="left" targetRef="last"/>
    <bpmn:sequenceFlow id="b2" sourceRef="right" targetRef="last"/>
    <bpmn:parallelGateway id="last"/>
""", "split", "parallel_users")

# An inclusive gateway's join walks down from the root to its first task (in a loop SpiffWorkflow 3.2 lets the
# join fire before every branch is done); here both branches run once, then the loop's history grows below them.
INCLUSIVE_USERS = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init"/>
    <bpmn:scriptTask id="init"><bpmn:script>i = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="split"/>
    <bpmn:inclusiveGateway id="split"/>
    <bpmn:sequenceFlow id="a1" sourceRef="split" targetRef="left">
      <bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="b1" sourceRef="split" targetRef="right">
      <bpmn:conditionExpression>limit &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="left" name="Izquierda"/>
    <bpmn:userTask id="right" name="Derecha"/>
    <bpmn:sequenceFlow id="a2" sourceRef="left" targetRef="join"/>
    <bpmn:sequenceFlow id="b2" sourceRef="right" targetRef="join"/>
    <bpmn:inclusiveGateway id="join"/>
    <bpmn:sequenceFlow id="f3" sourceRef="join" targetRef="work"/>
    <bpmn:userTask id="work" name="Sesión"/>
    <bpmn:sequenceFlow id="f4" sourceRef="work" targetRef="inc"/>
    <bpmn:scriptTask id="inc"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f5" sourceRef="inc" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="back"/>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="work"/>
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>i &gt;= limit</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
""", "inclusive_users")

BOUNDARY_TIMER = _loop("""
    <bpmn:userTask id="last" name="Sesión"/>
    <bpmn:boundaryEvent id="reminder" attachedToRef="last" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P300D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="r1" sourceRef="reminder" targetRef="noted"/>
    <bpmn:endEvent id="noted"/>
""", "last", "boundary_timer")

SUBPROCESS = _loop("""
    <bpmn:subProcess id="last">
      <bpmn:startEvent id="s_start"/>
      <bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="s_work"/>
      <bpmn:userTask id="s_work" name="Dentro"/>
      <bpmn:sequenceFlow id="s2" sourceRef="s_work" targetRef="s_end"/>
      <bpmn:endEvent id="s_end"/>
    </bpmn:subProcess>
""", "last", "subprocess_loop")

MULTI_INSTANCE = _loop("""
    <bpmn:userTask id="last" name="Revisión">
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopCardinality>2</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
""", "last", "multi_instance")

DIAGRAMS = {"loop": LOOP, "parallel_users": PARALLEL_USERS, "inclusive_users": INCLUSIVE_USERS,
            "boundary_timer": BOUNDARY_TIMER, "subprocess_loop": SUBPROCESS, "multi_instance": MULTI_INSTANCE}


def _spec(process_id: str):
    proc = parse_bundle({f"{process_id}.bpmn": DIAGRAMS[process_id]}).processes[process_id]
    return proc.spec, proc.subprocess_specs


def _drive(process_id: str, rounds: int, *, prune: bool, monkeypatch) -> tuple[list, list[int], object]:
    """Run a case to its end, saving and loading after every step; return what each step offered and the sizes."""
    if not prune:
        monkeypatch.setattr(serializer, "prune_document", lambda dct: set())
    try:
        rt = Runtime()
        spec, subs = _spec(process_id)
        wf = rt.new_workflow(spec, subs, {"limit": rounds})
        assert rt.advance(wf) is None
        seen, sizes = [], []
        for step in range(rounds * 4 + 10):
            text = serializer.dump_workflow(wf)
            sizes.append(len(text))
            wf = rt.attach(serializer.load_workflow(text, *_spec(process_id)))
            ready = sorted(ready_human_tasks(wf), key=lambda t: (t.element_id, t.id))
            if not ready:
                break
            # The order the branches are worked changes from round to round.
            task = ready[step % len(ready)]
            data = dict(wf.get_task_from_id(UUID(task.id)).data)
            seen.append(([t.element_id for t in ready], task.element_id, data))
            assert rt.run_task(wf, wf.get_task_from_id(UUID(task.id)), {f"n_{task.element_id}": step}) is None
        return seen, sizes, wf
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("process_id", DIAGRAMS)
def test_a_pruned_case_runs_exactly_as_a_whole_one(process_id, monkeypatch):
    whole, whole_sizes, whole_wf = _drive(process_id, 12, prune=False, monkeypatch=monkeypatch)
    pruned, sizes, wf = _drive(process_id, 12, prune=True, monkeypatch=monkeypatch)
    assert pruned == whole
    assert is_finished(wf) and is_finished(whole_wf)
    assert current_data(wf) == current_data(whole_wf)
    assert current_data(wf)["i"] == 12
    # What the diagram shows as done is the same, though the tasks behind it were left out.
    assert element_marks(wf) == element_marks(whole_wf)
    assert max(sizes) < max(whole_sizes)


def test_a_long_loop_stays_the_size_of_a_short_one(monkeypatch):
    _seen, sizes, wf = _drive("loop", 1200, prune=True, monkeypatch=monkeypatch)
    assert current_data(wf)["i"] == 1200 and is_finished(wf)
    assert max(sizes[-50:]) <= max(sizes[:10]) * 1.2


def test_a_finished_case_keeps_its_last_task_and_its_data(monkeypatch):
    _seen, _sizes, wf = _drive("loop", 3, prune=True, monkeypatch=monkeypatch)
    dct = orjson.loads(serializer.dump_workflow(wf))
    assert [t["task_spec"] for t in dct["tasks"].values()] == ["Start", "End"]
    last = dct["tasks"][dct["last_task"]]
    assert last["task_spec"] == "End" and last["state"] == TaskState.COMPLETED
    loaded = serializer.load_workflow(serializer.dump_workflow(wf), *_spec("loop"))
    assert current_data(loaded)["i"] == 3 and is_finished(loaded)
    assert {"work", "inc", "gw"} <= set(dct[DONE_KEY])


def _task(tid, parent, children, state, spec, delta=None, data=None):
    return {"id": tid, "parent": parent, "children": children, "state": state, "task_spec": spec,
            "data": data or {}, "delta": delta if delta is not None else {"updates": {}, "deletions": []}}


def test_the_spine_keeps_each_tasks_data_and_a_task_in_error_keeps_what_it_was_given():
    done = TaskState.COMPLETED
    # root → a1 → b1 → a2 → b2 → a3 → e (in error) → f (predicted); a side branch x hangs from a1.
    dct = {"root": "r", "last_task": "x", "tasks": {
        "r": _task("r", None, ["a1"], done, "Start", {}, {"k": 0}),
        "a1": _task("a1", "r", ["b1", "x"], done, "A", {"updates": {"k": 1, "gone": 1}, "deletions": []}),
        "x": _task("x", "a1", [], done, "X", {"updates": {"side": 1}, "deletions": []}),
        "b1": _task("b1", "a1", ["a2"], done, "B", {"updates": {"k": 2}, "deletions": ["gone"]}),
        "a2": _task("a2", "b1", ["b2"], done, "A", {"updates": {"k": 3}, "deletions": []}),
        "b2": _task("b2", "a2", ["a3"], done, "B", {"updates": {"k": 4}, "deletions": []}),
        "a3": _task("a3", "b2", ["e"], done, "A", {"updates": {"k": 5}, "deletions": []}),
        "e": _task("e", "a3", ["f"], TaskState.ERROR, "E"),
        "f": _task("f", "e", [], TaskState.FUTURE, "F", {}),
    }, "subprocesses": {"x": {"root": "s", "tasks": {}}}}
    assert prune_document(dct) == {"X", "A"}  # x and a2 (neither first nor last of A, nor before a first)
    tasks = dct["tasks"]
    assert list(tasks) == ["r", "a1", "b1", "b2", "a3", "e", "f"]
    assert [tasks[t]["parent"] for t in ["a1", "b1", "b2", "a3"]] == ["r", "a1", "b1", "b2"]
    assert tasks["a1"]["children"] == ["b1"] and tasks["b1"]["children"] == ["b2"]
    # b2's data is rewritten against b1's (a2's change folded in): every task loads with the data it had.
    assert tasks["b2"]["delta"] == {"updates": {"k": 4}, "deletions": []}
    assert tasks["a3"]["delta"] == {"updates": {"k": 5}, "deletions": []}
    assert tasks["e"]["parent"] == "a3"  # the task in error hangs from its last completed ancestor, untouched
    assert dct["last_task"] == "a3" and dct["subprocesses"] == {}  # a left-out task's subprocess goes too
