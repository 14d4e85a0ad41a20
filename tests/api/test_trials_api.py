"""Trials and import fixes over HTTP: a bad input is a 4xx naming the field, another's trial a 404, a trial walked
to its end through the API."""
from __future__ import annotations

from tests.api import trial_probes as tp
from tests.bpmn import linear, user


def test_a_trial_walked_through_the_api_and_its_refusals(as_user):
    sup = as_user("supervisor1")
    key = "prueba_api"
    assert sup.put(f"/api/drafts/{key}", json={"xml": linear(user("Revisar"), process_id=key).decode()}) \
        .status_code == 200
    setup = sup.get(f"/api/drafts/{key}/trial-setup").get_json()
    assert setup["gateways"] == [] and setup["start_form"] is None
    r = sup.post("/api/trials", json={"process_key": key, "choices": {"gw": "f1"}})
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "choices.gw"
    r = sup.post("/api/trials", json={"process_key": key, "step_limit": 0})
    assert r.status_code in (400, 422) and "step_limit" in str(r.get_json())
    r = sup.post("/api/trials", json={"process_key": key})
    assert r.status_code == 201
    state = r.get_json()
    [task] = state["ready_tasks"]
    assert task["element_id"] == "e0" and state["path"]["active"] == ["e0"]
    assert as_user("admin").get(f"/api/trials/{state['token']}").status_code == 404  # another's trial
    r = sup.post(f"/api/trials/{state['token']}/tasks/no-such-task", json={"data": {}})
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "task_id"
    r = sup.post(f"/api/trials/{state['token']}/tasks/{task['id']}", json={"data": {"visto": True}})
    assert r.status_code == 200 and r.get_json()["finished"] and r.get_json()["data"]["visto"] is True
    assert r.get_json()["path"]["flows"] == ["f0", "f_end"]
    assert sup.post(f"/api/trials/{state['token']}/timers").status_code == 409  # nothing waits
    assert sup.delete(f"/api/trials/{state['token']}").status_code == 204
    r = sup.get(f"/api/trials/{state['token']}")
    assert r.status_code == 404 and r.get_json()["code"] == "trial_not_found"


def test_import_fixes_over_http(as_user):
    sup = as_user("supervisor1")
    fix = tp.foreign_fix()
    r = sup.post("/api/drafts/importado/import-fixes", json={"xml": fix["xml"]})
    assert r.status_code == 200
    kinds = {f["kind"] for f in r.get_json()["fixes"]}
    assert {"process_id", "task_type", "lane_group", "expression"} <= kinds
    r = sup.post("/api/drafts/importado/import-fixes/apply", json=fix)
    assert r.status_code == 200 and 'id="importado"' in r.get_json()["xml"]
    assert "process_id" not in {f["kind"] for f in r.get_json()["fixes"]}
    r = sup.post("/api/drafts/importado/import-fixes/apply", json={"xml": fix["xml"], "fixes": [
        {"id": "task_type:_ec59e164-68b4-4f94-98de-ffb1c58a84af", "value": "scriptTask"}]})
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "fixes.0.value"
    r = sup.post("/api/drafts/importado/import-fixes", json={"xml": "<roto"})
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "xml"
