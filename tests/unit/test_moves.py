"""engine/runtime/moves.py on small diagrams: which steps a case may be moved to, and a move out of parallel
branches and back into a loop, saving and loading around it (the saved tree is pruned)."""
from __future__ import annotations

from uuid import UUID

from engine.runtime import moves, serializer
from engine.runtime.runner import Runtime, current_data, is_finished, ready_human_tasks
from tests.unit.test_pruning import _spec


def _saved(rt, wf, process_id):
    return rt.attach(serializer.load_workflow(serializer.dump_workflow(wf), *_spec(process_id)))


def test_steps_inside_parallel_or_inclusive_branches_multi_instance_or_a_subprocess_are_refused():
    spec, subs = _spec("parallel_users")
    assert "ramas paralelas" in moves.target_problem(spec, subs, "left")
    assert moves.move_targets(spec) == []
    spec, subs = _spec("inclusive_users")
    assert "ramas paralelas" in moves.target_problem(spec, subs, "right")
    assert [t.element_id for t in moves.move_targets(spec)] == ["work"]
    spec, subs = _spec("multi_instance")
    assert "instancias múltiples" in moves.target_problem(spec, subs, "last")
    spec, subs = _spec("subprocess_loop")
    assert "dentro de un subproceso" in moves.target_problem(spec, subs, "s_work")
    assert [(t.element_id, t.kind) for t in moves.move_targets(spec)] == [("last", "call")]
    spec, subs = _spec("boundary_timer")
    assert moves.target_problem(spec, subs, "last") is None
    assert "no es una tarea" in moves.target_problem(spec, subs, "inc")


def test_a_case_moved_out_of_inclusive_branches_runs_on_from_the_target_to_its_end():
    rt = Runtime()
    wf = rt.new_workflow(*_spec("inclusive_users"), {"limit": 2})
    assert rt.advance(wf) is None
    wf = _saved(rt, wf, "inclusive_users")
    assert sorted(t.element_id for t in ready_human_tasks(wf)) == ["left", "right"]
    [left] = [t for t in ready_human_tasks(wf) if t.element_id == "left"]
    assert rt.run_task(wf, wf.get_task_from_id(UUID(left.id)), {"izquierda": "hecha"}) is None

    assert moves.move(rt, wf, "work") is None

    assert [t.element_id for t in ready_human_tasks(wf)] == ["work"]
    assert current_data(wf)["izquierda"] == "hecha"  # what the case holds moves with it
    for _round in range(2):  # the loop runs twice (limit 2), saved and loaded at each step
        wf = _saved(rt, wf, "inclusive_users")
        [work] = ready_human_tasks(wf)
        assert rt.run_task(wf, wf.get_task_from_id(UUID(work.id)), {}) is None
    assert is_finished(_saved(rt, wf, "inclusive_users"))


def test_a_timer_bound_step_moved_to_waits_with_its_timer_again():
    rt = Runtime()
    wf = rt.new_workflow(*_spec("boundary_timer"), {"limit": 3})
    assert rt.advance(wf) is None
    [first] = ready_human_tasks(wf)
    assert len(rt.waiting_timers(wf)) == 1
    wf = _saved(rt, wf, "boundary_timer")
    assert rt.run_task(wf, wf.get_task_from_id(UUID(first.id)), {}) is None
    wf = _saved(rt, wf, "boundary_timer")
    [second] = ready_human_tasks(wf)
    before = set(rt.waiting_timers(wf))

    assert moves.move(rt, wf, "last") is None

    [moved] = ready_human_tasks(wf)
    assert moved.id != second.id
    after = rt.waiting_timers(wf)
    assert len(after) == 1 and not set(after) & before  # the old timer went with its task; a new one waits
    wf = _saved(rt, wf, "boundary_timer")
    for _round in range(2):
        [task] = ready_human_tasks(wf)
        assert rt.run_task(wf, wf.get_task_from_id(UUID(task.id)), {}) is None
        wf = _saved(rt, wf, "boundary_timer")
    assert current_data(wf)["i"] == 3 and is_finished(wf)
