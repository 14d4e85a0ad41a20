"""SpiffWorkflow's depth cap of 1000 is lifted for our workflows only, without changing SpiffWorkflow."""
from __future__ import annotations

import inspect
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.language.specs import parse_bundle
from engine.runtime import serializer
from engine.runtime.runner import Runtime, is_finished, ready_human_tasks
from engine.runtime.walks import DeepEndJoin, DeepWorkflow
from tests.bpmn import definitions

# One branch waits for a clerk; the other runs a loop of automatic steps past depth 1000, then waits too.
DEEP_BRANCH = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:sequenceFlow id="f1" sourceRef="split" targetRef="init"/>
    <bpmn:sequenceFlow id="b1" sourceRef="split" targetRef="shallow"/>
    <bpmn:scriptTask id="init"><bpmn:script>i = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="inc"/>
    <bpmn:scriptTask id="inc"><bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="inc" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="back"/>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="inc"/>
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="deep">
      <bpmn:conditionExpression>i &gt;= limit</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:userTask id="deep"/>
    <bpmn:userTask id="shallow"/>
    <bpmn:sequenceFlow id="a2" sourceRef="deep" targetRef="end_deep"/>
    <bpmn:sequenceFlow id="b2" sourceRef="shallow" targetRef="end_shallow"/>
    <bpmn:endEvent id="end_deep"/>
    <bpmn:endEvent id="end_shallow"/>
""", "deep_branch")


def _spiff_defaults(cls) -> dict:
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_spiffworkflow_iterators_keep_their_own_defaults():
    assert _spiff_defaults(TaskIterator)["max_depth"] == 1000
    assert _spiff_defaults(BpmnTaskIterator)["max_depth"] == 1000


def test_a_branch_past_depth_1000_keeps_the_case_open_when_the_other_branch_ends():
    rt = Runtime(max_engine_steps=5_000)
    proc = parse_bundle({"deep_branch.bpmn": DEEP_BRANCH}).processes["deep_branch"]
    wf = rt.new_workflow(proc.spec, proc.subprocess_specs, {"limit": 700})
    assert isinstance(wf, DeepWorkflow)
    assert rt.advance(wf) is None
    assert sorted(t.element_id for t in ready_human_tasks(wf)) == ["deep", "shallow"]
    assert max(t.depth for t in wf.tasks.values()) > 1000

    # Saved and loaded, the case still walks past the cap (the end join is restored as ours).
    spec, subs = serializer.load_spec(serializer.dump_spec(proc.spec, proc.subprocess_specs))
    assert isinstance(spec.task_specs["deep_branch.EndJoin"], DeepEndJoin)
    wf = rt.attach(serializer.load_workflow(serializer.dump_workflow(wf), spec, subs))
    assert isinstance(wf, DeepWorkflow)

    [shallow] = [t for t in ready_human_tasks(wf) if t.element_id == "shallow"]
    assert rt.run_task(wf, wf.get_task_from_id(UUID(shallow.id)), None) is None
    # SpiffWorkflow's own end join, walking 1000 deep, misses 'deep' and ends the process here.
    assert [t.element_id for t in ready_human_tasks(wf)] == ["deep"]
    assert not wf.is_completed() and not is_finished(wf)

    # Merging the branches at the end recurses once per level in SpiffWorkflow (Task.is_descendant_of):
    # that deep, the runtime stops the case cleanly, as it always has, rather than ending it falsely.
    [deep] = ready_human_tasks(wf)
    failure = rt.run_task(wf, wf.get_task_from_id(UUID(deep.id)), None)
    assert failure is not None and "too long" in failure.message
    assert not is_finished(wf)


def test_the_same_case_shallower_ends_when_both_branches_end():
    rt = Runtime()
    proc = parse_bundle({"deep_branch.bpmn": DEEP_BRANCH}).processes["deep_branch"]
    wf = rt.new_workflow(proc.spec, proc.subprocess_specs, {"limit": 3})
    assert rt.advance(wf) is None
    for element in ("shallow", "deep"):
        [task] = [t for t in ready_human_tasks(wf) if t.element_id == element]
        assert rt.run_task(wf, wf.get_task_from_id(UUID(task.id)), None) is None
    assert wf.is_completed() and is_finished(wf)
    assert any(t.task_spec.name == "End" and t.state == TaskState.COMPLETED for t in wf.tasks.values())


def test_plain_spiffworkflow_still_stops_at_its_cap():
    # The same diagram in SpiffWorkflow's own workflow class: proof the behaviour above is ours alone.
    proc = parse_bundle({"deep_branch.bpmn": DEEP_BRANCH}).processes["deep_branch"]
    wf = BpmnWorkflow(proc.spec, proc.subprocess_specs)
    wf.task_tree.data["limit"] = 700
    for task in wf.task_tree.children:
        task.data["limit"] = 700
    wf.do_engine_steps()
    ready = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, max_depth=10**9)]
    # The loop stalled at depth 1000 with its gateway ready: do_engine_steps no longer finds it.
    assert sorted(ready) == ["gw", "shallow"]
