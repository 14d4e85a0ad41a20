"""Cases and tasks through the use cases, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import text

from engine.usecases import cases
from engine.usecases import tasks
from engine.usecases.deploy import deploy_files, list_versions
from engine.errors import Conflict, InvalidInput, ProcessNotFound, TaskNotFound, TaskNotReady
from engine.accounts.users import map_lane
from tests.bpmn import linear, script, user
from tests.conftest import SYSTEM, bpmn_fixture, make_services, principal_for
from tests.task_rows import task_rows


@pytest.fixture
def five_step(svc):
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    return svc


def ready(svc, case_id):
    return task_rows(svc, case_id)


def test_start_case_gives_number_tracking_code_and_first_task_in_its_group(five_step):
    started = cases.start_case(five_step, principal_for("oficial1"), "five_step", {"amount": 10})
    assert re.fullmatch(r"EXP-GDCH-2026-00001", started.number)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{10}", started.tracking_code)
    [task] = ready(five_step, started.id)
    assert (task["element_id"], task["lane"], task["candidate_group"]) == ("register", "Ventanilla", "ventanilla")
    assert task["title"] == "Registrar solicitud"
    assert cases.get_case(five_step, SYSTEM, started.id)["state"] == "running"


def test_case_numbers_follow_the_pattern_setting(database_url, clock):
    svc = make_services(database_url, clock, case_number_pattern="GDCH/{seq:03d}/{year}")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")})
    assert cases.start_case(svc, SYSTEM, "five_step", {"amount": 1}).number == "GDCH/001/2026"
    svc.db.dispose()


def test_walking_the_case_loads_it_from_the_database_at_every_step(five_step):
    started = cases.start_case(five_step, SYSTEM, "five_step", {"amount": 80})
    [register] = ready(five_step, started.id)
    result = tasks.complete_task(five_step, principal_for("oficial1"), register["id"], {"amount": 80})
    [review] = ready(five_step, started.id)
    assert review["element_id"] == "review" and review["candidate_group"] == "tramite"
    assert result["case_state"] == "running" and result["case_version"] == 2
    result = tasks.complete_task(five_step, principal_for("oficial2"), review["id"], {"ok": True})
    assert result["case_state"] == "completed"
    case = cases.get_case(five_step, SYSTEM, started.id)
    assert case["state"] == "completed" and case["completed_at"] is not None
    assert cases.case_data(five_step, SYSTEM, started.id)["total"] == 160
    kinds = [(e["kind"], e["element_id"], e["actor"]) for e in cases.case_history(five_step, SYSTEM, started.id)]
    assert kinds == [("case_started", "five_step", None), ("task_completed", "register", "oficial1"),
                     ("task_completed", "review", "oficial2"), ("case_completed", None, None)]
    assert cases.case_history(five_step, SYSTEM, started.id)[1]["data"] == {"amount": 80}


def test_low_amount_takes_the_default_branch(five_step):
    started = cases.start_case(five_step, SYSTEM, "five_step")
    [register] = ready(five_step, started.id)
    tasks.complete_task(five_step, principal_for("oficial1"), register["id"], {"amount": 5})
    assert [t["element_id"] for t in ready(five_step, started.id)] == ["approve"]


def test_unknown_process_and_task_are_typed_errors(five_step):
    with pytest.raises(ProcessNotFound):
        cases.start_case(five_step, SYSTEM, "nope")
    with pytest.raises(TaskNotFound):
        tasks.complete_task(five_step, principal_for("x"), "00000000-0000-0000-0000-000000000000", {})
    with pytest.raises(InvalidInput):
        tasks.complete_task(five_step, principal_for("x"), "not-a-uuid", {})


def test_second_clerk_cannot_complete_or_claim_a_claimed_task(five_step):
    started = cases.start_case(five_step, SYSTEM, "five_step")
    [register] = ready(five_step, started.id)
    tasks.claim_task(five_step, principal_for("oficial1"), register["id"])
    with pytest.raises(TaskNotReady, match="held by oficial1"):
        tasks.claim_task(five_step, principal_for("oficial2"), register["id"])
    with pytest.raises(TaskNotReady, match="held by oficial1"):
        tasks.complete_task(five_step, principal_for("oficial2"), register["id"], {"amount": 1})
    tasks.release_task(five_step, principal_for("oficial1"), register["id"])
    tasks.claim_task(five_step, principal_for("oficial2"), register["id"])
    assert tasks.get_task(five_step, SYSTEM, register["id"])["assignee"] == "oficial2"
    kinds = [e["kind"] for e in cases.case_history(five_step, SYSTEM, started.id)]
    assert kinds == ["case_started", "task_claimed", "task_released", "task_claimed"]


def test_completing_a_completed_task_names_who_did_it(five_step):
    started = cases.start_case(five_step, SYSTEM, "five_step")
    [register] = ready(five_step, started.id)
    tasks.complete_task(five_step, principal_for("oficial1"), register["id"], {"amount": 1})
    with pytest.raises(TaskNotReady, match="already completed by oficial1"):
        tasks.complete_task(five_step, principal_for("oficial2"), register["id"], {"amount": 1})


def test_of_two_concurrent_completions_exactly_one_wins(five_step):
    for _ in range(3):
        started = cases.start_case(five_step, SYSTEM, "five_step")
        [register] = ready(five_step, started.id)
        barrier = threading.Barrier(2)
        outcomes = []

        def complete(actor):
            barrier.wait()
            try:
                tasks.complete_task(five_step, principal_for(actor), register["id"], {"amount": 1})
                outcomes.append("won")
            except Conflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=complete, args=(f"clerk{i}",)) for i in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(outcomes) == ["conflict", "won"]
        assert [t["element_id"] for t in ready(five_step, started.id)] == ["approve"]
        completions = [e for e in cases.case_history(five_step, SYSTEM, started.id) if e["kind"] == "task_completed"]
        assert len(completions) == 1


def test_stale_case_version_is_a_conflict_not_an_overwrite(five_step):
    from engine.storage.persistence import read_case, write_case
    from engine.runtime import serializer
    started = cases.start_case(five_step, SYSTEM, "five_step")
    with five_step.uow() as uow:
        stale = read_case(uow.conn, started.id)
    [register] = ready(five_step, started.id)
    tasks.complete_task(five_step, principal_for("oficial1"), register["id"], {"amount": 1})
    with five_step.uow(write=False) as uow:
        spec, subs = five_step.specs.get(uow.conn, stale.process_version_id)
    wf = serializer.load_workflow(stale.workflow_json, spec, subs)
    with pytest.raises(Conflict):
        with five_step.uow() as uow:
            write_case(uow.conn, stale, wf, "running", None, five_step.clock())


def test_case_numbers_have_no_gaps_under_concurrency(five_step):
    numbers, lock = [], threading.Lock()

    def start(n):
        for i in range(n):
            if i == 2:  # a failing start in the middle must not burn a number
                with pytest.raises(ProcessNotFound):
                    cases.start_case(five_step, SYSTEM, "missing")
            while True:
                try:
                    c = cases.start_case(five_step, SYSTEM, "five_step")
                    break
                except Conflict:
                    continue
            with lock:
                numbers.append(c.number)

    threads = [threading.Thread(target=start, args=(6,)) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(numbers) == [f"EXP-GDCH-2026-{i:05d}" for i in range(1, 25)]


def test_sequence_restarts_each_year_in_office_time(five_step, clock):
    from datetime import datetime, timezone
    clock.now = datetime(2027, 1, 1, 5, 0, tzinfo=timezone.utc)  # still 31 Dec 2026 in Guatemala
    assert cases.start_case(five_step, SYSTEM, "five_step").number == "EXP-GDCH-2026-00001"
    clock.now = datetime(2027, 1, 1, 7, 0, tzinfo=timezone.utc)
    assert cases.start_case(five_step, SYSTEM, "five_step").number == "EXP-GDCH-2027-00001"


def test_history_is_append_only_in_the_database(five_step):
    started = cases.start_case(five_step, SYSTEM, "five_step")
    for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"):
            with five_step.db.begin() as conn:
                conn.execute(text(statement))
    assert len(cases.case_history(five_step, SYSTEM, started.id)) == 1


def test_redeploying_the_same_content_keeps_the_version(five_step):
    again = deploy_files(five_step, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")})
    assert [(d.version, d.created) for d in again] == [(1, False)]


def test_running_case_stays_on_its_version_after_a_new_one_is_deployed(five_step):
    old_case = cases.start_case(five_step, SYSTEM, "five_step")
    changed = bpmn_fixture("five_step.bpmn").replace(b"total = amount * 2", b"total = amount * 1000")
    [d] = deploy_files(five_step, {"five_step.bpmn": changed}, comment="más estricto")
    assert (d.version, d.created) == (2, True)
    new_case = cases.start_case(five_step, SYSTEM, "five_step")
    assert cases.get_case(five_step, SYSTEM, old_case.id)["process_version"] == 1
    assert cases.get_case(five_step, SYSTEM, new_case.id)["process_version"] == 2
    for c in (old_case, new_case):
        [register] = ready(five_step, c.id)
        tasks.complete_task(five_step, principal_for("oficial1"), register["id"], {"amount": 1})
    assert [t["element_id"] for t in ready(five_step, old_case.id)] == ["approve"]   # 1 * 2
    assert [t["element_id"] for t in ready(five_step, new_case.id)] == ["review"]    # 1 * 1000
    versions = {v["version"]: v["open_cases"] for v in list_versions(five_step, "five_step")}
    assert versions == {1: 1, 2: 1}


def test_failing_script_puts_case_in_error_and_retry_recovers(svc):
    deploy_files(svc, {"p.bpmn": linear(user("Ingresar"), script("r = 10 / divisor"), user("Fin"))})
    started = cases.start_case(svc, SYSTEM, "p")
    [first] = ready(svc, started.id)
    result = tasks.complete_task(svc, principal_for("oficial1"), first["id"], {"divisor": 0})
    assert result["case_state"] == "error" and result["error_element"] == "e1"
    assert "division by zero" in result["error_message"]
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e1")
    assert tasks.get_task(svc, SYSTEM, first["id"])["state"] == "completed"   # the clerk's work is kept
    assert ready(svc, started.id) == []
    recovered = cases.retry_case(svc, principal_for("supervisor1"), started.id, {"divisor": 2})
    assert recovered["state"] == "running"
    [last] = ready(svc, started.id)
    assert last["element_id"] == "e2"
    assert cases.case_data(svc, SYSTEM, started.id)["r"] == 5
    kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, started.id)]
    assert kinds == ["case_started", "task_completed", "error", "retried"]


def test_deploy_refuses_a_script_that_imports(svc):
    from engine.errors import SpecInvalid
    with pytest.raises(SpecInvalid) as refused:
        deploy_files(svc, {"p.bpmn": linear(script("import os"))})
    assert refused.value.problems[0].element_id == "e0"


@pytest.mark.parametrize("attack", [
    "f = open('{marker}', 'w')",
    "c = getattr((), '__' + 'class__')",
    "g = (x for x in [1]); fr = getattr(g, 'gi_' + 'frame')",
])
def test_script_escape_attempt_at_run_time_stops_the_case_without_side_effects(svc, tmp_path, attack):
    marker = tmp_path / "pwned"
    deploy_files(svc, {"p.bpmn": linear(script(attack.format(marker=marker)))})
    started = cases.start_case(svc, SYSTEM, "p")
    case = cases.get_case(svc, SYSTEM, started.id)
    assert case["state"] == "error" and case["error_element"] == "e0"
    assert not marker.exists()


def test_runaway_script_is_stopped_by_the_time_limit_in_a_worker_thread(database_url, clock):
    svc = make_services(database_url, clock, script_time_limit_seconds=0.5)
    deploy_files(svc, {"p.bpmn": linear(script("while True:\n    pass"))})
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("case", cases.start_case(svc, SYSTEM, "p")))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert out["case"].state == "error"
    assert "time" in cases.get_case(svc, SYSTEM, out["case"].id)["error_message"].lower()
    svc.db.dispose()


def test_data_that_is_not_plain_json_is_refused_before_anything_is_written(five_step):
    with pytest.raises(InvalidInput):
        cases.start_case(five_step, SYSTEM, "five_step", {"x": object()})
    with pytest.raises(InvalidInput):
        cases.start_case(five_step, SYSTEM, "five_step", ["not", "an", "object"])
    assert task_rows(five_step) == []
