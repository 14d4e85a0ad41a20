"""/api/migrations: choices, a plan with its dry run, a batch applied, the case on the other version with its history
event, undo; refusals name the field and write nothing (engine/usecases/case_migration*.py)."""
from __future__ import annotations

from tests.api import migration_probes as mp
from tests.api.test_cases_api import start


def test_plan_apply_and_undo_through_the_api(as_user, seeded):
    old, new = mp.five_step_versions(seeded)
    case = start(as_user("oficial1"))  # on the newest version
    supervisor = as_user("supervisor1")
    choices = supervisor.get(f"/api/migrations/choices?from_version_id={new}&to_version_id={old}")
    assert choices.status_code == 200, choices.get_json()
    assert {e["element_id"]: e["auto"] for e in choices.get_json()["old_elements"]}["register"] == "register"

    planned = supervisor.post("/api/migrations", json={"from_version_id": new, "to_version_id": old,
                                                       "filters": {"case_ids": [case["id"]]}})
    assert planned.status_code == 201, planned.get_json()
    body = planned.get_json()
    assert body["planned"] == 1 and body["remaining"] == 1
    [plan] = body["cases"]
    assert plan["case_id"] == case["id"] and plan["target"] == "register" and plan["problem"] is None
    assert plan["way"] == "move" and plan["mapping"] == {"register": "register"} and plan["keep"] == []
    assert [c["element_id"] for c in plan["open"]] == ["register"]

    applied = supervisor.post(f"/api/migrations/{body['id']}/apply", json={"batch": 10})
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["remaining"] == 0 and applied.get_json()["migrated"] == 1
    assert applied.get_json()["state"] == "applied"
    detail = supervisor.get(f"/api/cases/{case['id']}").get_json()
    assert detail["process_version"] == 1
    kinds = [e["kind"] for e in supervisor.get(f"/api/cases/{case['id']}/history").get_json()]
    assert kinds[-1] == "case_migrated"
    listed = supervisor.get(f"/api/migrations/{body['id']}?state=migrated").get_json()
    assert [i["case_id"] for i in listed["items"]] == [case["id"]]

    undone = supervisor.post(f"/api/migrations/{body['id']}/undo", json={})
    assert undone.status_code == 200 and undone.get_json()["undone"] == 1 and undone.get_json()["state"] == "undone"
    assert supervisor.get(f"/api/cases/{case['id']}").get_json()["process_version"] == 2
    again = supervisor.post(f"/api/migrations/{body['id']}/apply", json={})
    assert again.status_code == 409


def test_refusals_name_the_field(as_user, seeded):
    old, new = mp.five_step_versions(seeded)
    supervisor = as_user("supervisor1")
    same = supervisor.post("/api/migrations", json={"from_version_id": old, "to_version_id": old})
    assert same.status_code == 400 and same.get_json()["errors"][0]["field"] == "to_version_id"
    bad_map = supervisor.post("/api/migrations", json={"from_version_id": new, "to_version_id": old,
                                                       "mapping": {"register": "no_such_step"}})
    assert bad_map.status_code == 400 and bad_map.get_json()["errors"][0]["field"] == "mapping.register"
    missing = supervisor.post("/api/migrations", json={"to_version_id": old})
    assert missing.status_code == 422 and "from_version_id" in str(missing.get_json())
    bad_state = supervisor.post("/api/migrations", json={"from_version_id": new, "to_version_id": old,
                                                         "filters": {"states": ["completed"]}})
    assert bad_state.status_code == 422 and "states" in str(bad_state.get_json())
    batch = supervisor.post("/api/migrations/999999/apply", json={"batch": 0})
    assert batch.status_code == 422
    assert supervisor.get("/api/migrations/999999").status_code == 404
    assert supervisor.get("/api/migrations").get_json() == []
    assert as_user("oficial1").get("/api/migrations").status_code == 403
