"""Cases over HTTP: what a clerk may see, listing with filters, supervisors' state changes."""
from __future__ import annotations

from engine.usecases import cases
from tests.api import probes
from tests.conftest import principal_for


def start(client, amount=10, **data):
    response = client.post("/api/cases", json={"process_key": "five_step", "data": {"amount": amount, **data}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_clerk_outside_the_case_groups_neither_lists_nor_reads_it(as_user):
    case = start(as_user("oficial1"))
    outsider = as_user("juridico1")
    assert outsider.get("/api/cases").get_json()["total"] == 0
    for path in ("", "/history", "/data", "/attachments"):
        response = outsider.get(f"/api/cases/{case['id']}{path}")
        assert response.status_code == 404, path
    assert as_user("oficial2").get(f"/api/cases/{case['id']}").status_code == 200  # ventanilla works it
    assert as_user("auditor1").get(f"/api/cases/{case['id']}").status_code == 200


def test_clerk_sees_the_cases_he_started_even_without_a_task_for_his_groups(as_user):
    case = start(as_user("juridico1"))
    assert as_user("juridico1").get(f"/api/cases/{case['id']}").status_code == 200


def test_case_list_pages_sort_and_filter(as_user, seeded):
    clerk = as_user("oficial1")
    ids = []
    for _ in range(5):
        ids.append(start(clerk)["id"])
        seeded.clock.advance(hours=1)
    first = clerk.get("/api/cases?per_page=2").get_json()
    assert (first["total"], first["page"], [c["id"] for c in first["items"]]) == (5, 1, ids[:-3:-1])
    third = clerk.get("/api/cases?per_page=2&page=3&sort=created_at").get_json()
    assert [c["id"] for c in third["items"]] == ids[4:]
    cases.change_case_state(seeded, principal_for("supervisor1"), ids[0], "cancel", "duplicado")
    assert [c["id"] for c in clerk.get("/api/cases?state=cancelled").get_json()["items"]] == [ids[0]]
    assert clerk.get("/api/cases?process_key=otro").get_json()["total"] == 0
    assert clerk.get("/api/cases?created_from=2026-03-02&created_to=2026-03-02").get_json()["total"] == 5
    assert clerk.get("/api/cases?created_from=2026-03-03").get_json()["total"] == 0
    assert clerk.get("/api/cases?overdue=true").get_json()["total"] == 0


def test_unknown_filter_values_are_422_with_the_field_named(as_user):
    response = as_user("oficial1").get("/api/cases?state=perdido&per_page=1000&sort=secret")
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"state", "per_page", "sort"}


def test_supervisor_suspends_and_resumes_with_a_reason_recorded_in_history(as_user):
    supervisor = as_user("supervisor1")
    case = start(as_user("oficial1"))
    assert supervisor.post(f"/api/cases/{case['id']}/suspend", json={"reason": "Falta DPI"}).get_json()["state"] \
        == "suspended"
    task = case["ready_tasks"][0]["id"]
    blocked = as_user("oficial1").post(f"/api/tasks/{task}/complete", json={"data": {"amount": 1}})
    assert blocked.status_code == 409
    assert supervisor.post(f"/api/cases/{case['id']}/suspend", json={"reason": "otra vez"}).status_code == 409
    assert supervisor.post(f"/api/cases/{case['id']}/resume", json={"reason": "Presentó DPI"}).status_code == 200
    history = supervisor.get(f"/api/cases/{case['id']}/history").get_json()
    changes = [(e["kind"], e["data"]["reason"], e["actor"]) for e in history
               if e["kind"] in ("case_suspended", "case_resumed")]
    assert changes == [("case_suspended", "Falta DPI", "supervisor1"), ("case_resumed", "Presentó DPI", "supervisor1")]


def test_a_reason_is_required(as_user):
    case = start(as_user("oficial1"))
    response = as_user("supervisor1").post(f"/api/cases/{case['id']}/cancel", json={"reason": ""})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "reason"


def test_cancelling_closes_the_open_tasks(as_user):
    case = start(as_user("oficial1"))
    as_user("supervisor1").post(f"/api/cases/{case['id']}/cancel", json={"reason": "desistimiento"})
    detail = as_user("oficial1").get(f"/api/cases/{case['id']}").get_json()
    assert detail["state"] == "cancelled" and [t["state"] for t in detail["tasks"]] == ["cancelled"]
    assert as_user("oficial1").get("/api/tasks/queue").get_json() == []


def test_supervisor_retries_an_errored_case_with_corrected_data(as_user, seeded):
    case_id = probes.errored_case(seeded)
    supervisor = as_user("supervisor1")
    detail = supervisor.get(f"/api/cases/{case_id}").get_json()
    assert detail["state"] == "error" and detail["error_element"] == "compute"
    retried = supervisor.post(f"/api/cases/{case_id}/retry", json={"data": {"amount": 500}})
    assert retried.status_code == 200 and retried.get_json()["state"] == "running"
    assert supervisor.post(f"/api/cases/{case_id}/retry", json={}).status_code == 409


def test_starting_an_unknown_process_is_404_and_bad_data_is_refused(as_user):
    clerk = as_user("oficial1")
    assert clerk.post("/api/cases", json={"process_key": "nope"}).status_code == 404
    assert clerk.post("/api/cases", json={"process_key": "five_step", "data": [1]}).status_code == 422
    assert clerk.post("/api/cases", json={"process_key": "five_step", "data": {"n": 2**70}}).status_code == 422
    assert clerk.post("/api/cases", json={"process_key": "five_step\x00"}).status_code == 422
