"""POST /api/cases/<id>/move: a dry run, the move, and its refusals naming the field (engine/usecases/case_moves.py)."""
from __future__ import annotations

from tests.api import probes
from tests.api.test_cases_api import start


def test_dry_run_then_move_with_the_version_seen(as_user):
    case = start(as_user("oficial1"))
    supervisor = as_user("supervisor1")
    dry = supervisor.post(f"/api/cases/{case['id']}/move", json={"element_id": "approve", "dry_run": True})
    assert dry.status_code == 200, dry.get_json()
    body = dry.get_json()
    assert body["moved"] is False and [o["element_id"] for o in body["open"]] == ["approve"]
    assert [c["element_id"] for c in body["close"]] == ["register"]
    version = supervisor.get(f"/api/cases/{case['id']}").get_json()["version"]
    assert version == case["version"]  # the dry run changed nothing

    moved = supervisor.post(f"/api/cases/{case['id']}/move",
                            json={"element_id": "approve", "reason": "Ya registrado en papel", "version": version})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["moved"] is True and moved.get_json()["version"] == version + 1
    tasks = supervisor.get(f"/api/cases/{case['id']}").get_json()["tasks"]
    assert {t["element_id"]: t["state"] for t in tasks} == {"register": "cancelled", "approve": "ready"}
    [event] = [e for e in supervisor.get(f"/api/cases/{case['id']}/history").get_json() if e["kind"] == "case_moved"]
    assert event["actor"] == "supervisor1" and event["data"]["reason"] == "Ya registrado en papel"

    stale = supervisor.post(f"/api/cases/{case['id']}/move",
                            json={"element_id": "review", "reason": "Otra vez", "version": version})
    assert stale.status_code == 409


def test_refusals_name_the_field_and_change_nothing(as_user):
    case = start(as_user("oficial1"))
    supervisor = as_user("supervisor1")
    path = f"/api/cases/{case['id']}/move"
    unknown = supervisor.post(path, json={"element_id": "no_such_step", "reason": "r"})
    assert unknown.status_code == 400
    assert [e["field"] for e in unknown.get_json()["errors"]] == ["element_id"]
    assert "no_such_step" in str(unknown.get_json()), unknown.get_json()
    no_reason = supervisor.post(path, json={"element_id": "approve"})
    assert no_reason.status_code == 400 and no_reason.get_json()["errors"][0]["field"] == "reason"
    missing = supervisor.post(path, json={"reason": "r"})
    assert missing.status_code == 422 and "element_id" in str(missing.get_json())
    after = supervisor.get(f"/api/cases/{case['id']}").get_json()
    assert after["version"] == case["version"]
    assert [t["element_id"] for t in after["tasks"] if t["state"] == "ready"] == ["register"]


def test_an_errored_case_moves_out_of_its_error(as_user, seeded):
    case_id = probes.errored_case(seeded)
    supervisor = as_user("supervisor1")
    before = supervisor.get(f"/api/cases/{case_id}").get_json()
    assert before["state"] == "error" and before["error_element"]
    dry = supervisor.post(f"/api/cases/{case_id}/move", json={"element_id": "register", "dry_run": True}).get_json()
    assert ("error", before["error_element"]) in [(c["what"], c["element_id"]) for c in dry["close"]]
    moved = supervisor.post(f"/api/cases/{case_id}/move", json={"element_id": "register", "reason": "Falta el monto",
                                                               "version": before["version"]})
    assert moved.status_code == 200, moved.get_json()
    after = supervisor.get(f"/api/cases/{case_id}").get_json()
    assert (after["state"], after["error_element"], after["error_message"]) == ("running", None, None)
    assert [t["element_id"] for t in after["tasks"] if t["state"] == "ready"] == ["register"]
    # The clerk completes the step again, now with the amount, and the case goes on.
    [task] = [t for t in after["tasks"] if t["state"] == "ready"]
    done = as_user("oficial1").post(f"/api/tasks/{task['id']}/complete", json={"data": {"amount": 10}})
    assert done.status_code == 200 and done.get_json()["case_state"] == "running", done.get_json()
