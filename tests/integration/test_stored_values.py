"""Every value is checked before it is stored: a script's bad value stops the case in error naming the element,
the stored state stays readable, and cases stored before the check still load (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from engine.usecases import cases
from engine.usecases import tasks
from engine.usecases import timers
from engine.usecases.deploy import deploy_files
from engine.storage.persistence import MAX_CASE_STATE_BYTES
from tests.bpmn import linear, script, user
from tests.conftest import SYSTEM, principal_for
from tests.task_rows import task_rows

# The reproductions of issue 12: each once stored fine and broke the case later, or answered 500.
BAD_SCRIPTS = {
    "huge_int": "x = 2 ** 1100",
    "decimal_overflow": "x = Decimal(10) ** Decimal('999999999')",
    "cycle": "a = []\na.append(a)",
    "bytes": "b = b'x'",
    "complex": "c = 1j",
    "exception": "e = ValueError('x')",
    "shared_references": "leak = [[0] * 100000] * 300",
}


def ready(svc, case_id):
    return [t for t in task_rows(svc, case_id)]


def kinds(svc, case_id):
    return [e["kind"] for e in cases.case_history(svc, SYSTEM, case_id)]


@pytest.mark.parametrize("name", BAD_SCRIPTS)
def test_a_script_value_a_case_cannot_store_puts_it_in_error_naming_the_element(svc, name):
    deploy_files(svc, {"p.bpmn": linear(user("Ingresar"), script(BAD_SCRIPTS[name]), user("Fin"))})
    started = cases.start_case(svc, SYSTEM, "p")
    [first] = ready(svc, started.id)
    result = tasks.complete_task(svc, principal_for("oficial1"), first["id"], {"n": 1})
    assert (result["case_state"], result["error_element"]) == ("error", "e1")
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e1")
    # The state before the script is kept and reads back: the clerk's work, not the bad value.
    data = cases.case_data(svc, SYSTEM, started.id)
    assert data["n"] == 1 and not {"x", "a", "b", "c", "e", "leak"} & set(data)
    assert cases.case_page(svc, SYSTEM, started.id)["marks"]["failed"] == ["e1"]
    assert kinds(svc, started.id) == ["case_started", "task_completed", "error"]
    # A retry runs the same script again: in error again, never a crash, still readable.
    again = cases.retry_case(svc, principal_for("supervisor1"), started.id)
    assert (again["state"], again["error_element"]) == ("error", "e1")
    assert cases.case_data(svc, SYSTEM, started.id)["n"] == 1


def test_the_message_names_the_value_and_why(svc):
    deploy_files(svc, {"p.bpmn": linear(script("leak = [[0] * 100000] * 300"), user())})
    case = cases.get_case(svc, SYSTEM, cases.start_case(svc, SYSTEM, "p").id)
    assert case["error_element"] == "e0"
    assert case["error_message"].startswith("data.leak: ") and "KiB" in case["error_message"]


def test_retry_with_corrected_data_runs_the_script_again(svc):
    deploy_files(svc, {"p.bpmn": linear(user("Ingresar"), script("big = 2 ** n"), user("Fin"))})
    started = cases.start_case(svc, SYSTEM, "p")
    [first] = ready(svc, started.id)
    result = tasks.complete_task(svc, principal_for("oficial1"), first["id"], {"n": 1100})
    assert (result["case_state"], result["error_element"]) == ("error", "e1")
    assert "bits" in result["error_message"]
    recovered = cases.retry_case(svc, principal_for("supervisor1"), started.id, {"n": 10})
    assert recovered["state"] == "running"
    assert [t["element_id"] for t in ready(svc, started.id)] == ["e2"]
    assert cases.case_data(svc, SYSTEM, started.id)["big"] == 1024


def test_a_failing_first_script_stores_the_case_as_filed(svc):
    deploy_files(svc, {"p.bpmn": linear(script("b = b'x'"), user())})
    started = cases.start_case(svc, SYSTEM, "p", {"nombre": "Ana"})
    assert started.state == "error"
    assert cases.case_data(svc, SYSTEM, started.id) == {"nombre": "Ana"}
    assert kinds(svc, started.id) == ["case_started", "error"]


NESTED = linear(user("Ingresar"), script('solicitante["documentos"].append(b"x")'), user("Fin"))


def test_a_value_changed_in_place_is_refused_at_the_script_and_the_shared_value_is_untouched(svc):
    # The script changes, in place, a list the intake data holds (SpiffWorkflow shares it with every earlier
    # task). The script runs on a copy in a worker process and gives back the whole changed value, so the
    # check of its output sees it, and the list the earlier tasks hold is never touched.
    deploy_files(svc, {"p.bpmn": NESTED})
    started = cases.start_case(svc, SYSTEM, "p", {"solicitante": {"documentos": []}})
    [first] = ready(svc, started.id)
    result = tasks.complete_task(svc, principal_for("oficial1"), first["id"], {"n": 1})
    assert (result["case_state"], result["error_element"]) == ("error", "e1")
    assert "bytes" in result["error_message"]
    assert cases.case_data(svc, SYSTEM, started.id) == {"solicitante": {"documentos": []}, "n": 1}
    # A retry runs the script again: refused again, the stored data still as the clerk left it.
    assert cases.retry_case(svc, principal_for("supervisor1"), started.id)["state"] == "error"
    assert cases.case_data(svc, SYSTEM, started.id) == {"solicitante": {"documentos": []}, "n": 1}


def test_a_case_that_would_outgrow_the_state_limit_is_refused_from_the_estimate(svc):
    # Ten scripts of 900,000 characters each: every task is within its limit, the case is not.
    parts = [script(f"s{i} = 'x' * 900000") for i in range(10)]
    deploy_files(svc, {"p.bpmn": linear(*parts, user())})
    assert 10 * 900_000 > MAX_CASE_STATE_BYTES
    started = cases.start_case(svc, SYSTEM, "p")
    case = cases.get_case(svc, SYSTEM, started.id)
    assert case["state"] == "error" and "KiB" in case["error_message"]
    assert cases.case_data(svc, SYSTEM, started.id) == {}


TIMED = linear('<bpmn:intermediateCatchEvent id="{id}"><bpmn:timerEventDefinition>'
               '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
               '</bpmn:intermediateCatchEvent>',
               script('solicitante["documentos"].append(1j)'), user())


def test_a_timer_whose_step_is_refused_leaves_the_case_in_error_as_it_was(svc, clock):
    deploy_files(svc, {"p.bpmn": TIMED})
    started = cases.start_case(svc, SYSTEM, "p", {"solicitante": {"documentos": []}})
    clock.advance(hours=2)
    assert timers.fire_due_timers(svc).fired == 1
    case = cases.get_case(svc, SYSTEM, started.id)
    assert case["state"] == "error" and "complex" in case["error_message"] and case["error_element"] == "e1"
    assert cases.case_data(svc, SYSTEM, started.id) == {"solicitante": {"documentos": []}}


# --- cases stored before values were checked ----------------------------------------------------
HUGE = "1" * 5000  # more digits than Python parses by default


def store_legacy_state(svc, case_id: int) -> None:
    """Rewrite a case's state as the serializer wrote it before values were checked: an integer past 64 bits
    (the standard library's JSON, flagged), and one longer than Python parses."""
    with svc.uow() as uow:
        stored = uow.conn.execute(text("SELECT workflow_json FROM cases WHERE id = :id"), {"id": case_id}).scalar()
        dct = json.loads(stored)
        root = next(t for t in dct["tasks"].values() if t["parent"] is None)
        root["data"].update({"grande": 2 ** 1100, "enorme": "__HUGE__"})
        legacy = json.dumps({**dct, "expediente_stdlib_json": True}).replace('"__HUGE__"', HUGE)
        uow.conn.execute(text("UPDATE cases SET workflow_json = :j WHERE id = :id"), {"j": legacy, "id": case_id})
        uow.commit()


def test_a_case_stored_with_values_now_refused_still_loads_reads_and_moves_on(svc):
    deploy_files(svc, {"p.bpmn": linear(user("Ingresar"), script("total = n * 2"), user("Fin"))})
    started = cases.start_case(svc, SYSTEM, "p", {"n": 2})
    store_legacy_state(svc, started.id)
    data = cases.case_data(svc, SYSTEM, started.id)
    assert data["grande"] == 2 ** 1100 and data["enorme"] == HUGE and data["n"] == 2
    assert cases.case_page(svc, SYSTEM, started.id)["marks"]["active"] == ["e0"]
    assert kinds(svc, started.id) == ["case_started"]
    [first] = ready(svc, started.id)
    result = tasks.complete_task(svc, principal_for("oficial1"), first["id"], {"n": 3})
    assert result["case_state"] == "running"
    after = cases.case_data(svc, SYSTEM, started.id)
    assert after["total"] == 6 and after["grande"] == 2 ** 1100


def test_a_stored_case_with_a_huge_value_changed_in_a_new_step_is_refused(svc):
    deploy_files(svc, {"p.bpmn": linear(user("Ingresar"), script("grande = grande + 1"), user("Fin"))})
    started = cases.start_case(svc, SYSTEM, "p")
    store_legacy_state(svc, started.id)
    [first] = ready(svc, started.id)
    result = tasks.complete_task(svc, principal_for("oficial1"), first["id"], {})
    assert (result["case_state"], result["error_element"]) == ("error", "e1")
    assert cases.case_data(svc, SYSTEM, started.id)["grande"] == 2 ** 1100

