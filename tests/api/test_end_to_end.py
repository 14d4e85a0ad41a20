"""A case of the five-step process walked over HTTP, start to finish."""
from __future__ import annotations


def test_clerk_starts_claims_and_completes_a_case_over_http(as_user):
    clerk = as_user("oficial1")
    started = clerk.post("/api/cases", json={"process_key": "five_step", "data": {"amount": 10}})
    assert started.status_code == 201, started.get_json()
    case = started.get_json()
    assert case["state"] == "running" and case["number"].startswith("EXP-GDCH-")

    queue = clerk.get("/api/tasks/queue").get_json()
    [register] = [t for t in queue if t["case_id"] == case["id"]]
    assert (register["element_id"], register["candidate_group"]) == ("register", "ventanilla")

    claimed = clerk.post(f"/api/tasks/{register['id']}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "oficial1"
    assert [t["id"] for t in clerk.get("/api/tasks/mine").get_json()] == [register["id"]]

    done = clerk.post(f"/api/tasks/{register['id']}/complete", json={"data": {"amount": 10}})
    assert done.status_code == 200, done.get_json()
    [approve] = done.get_json()["ready_tasks"]
    assert approve["element_id"] == "approve"

    clerk.post(f"/api/tasks/{approve['id']}/claim")
    assert clerk.post(f"/api/tasks/{approve['id']}/complete", json={"data": {}}).get_json()["case_state"] == "completed"

    read = clerk.get(f"/api/cases/{case['id']}").get_json()
    assert read["state"] == "completed" and read["completed_at"] is not None
    assert sorted((t["element_id"], t["state"], t["completed_by"]) for t in read["tasks"]) == [
        ("approve", "completed", "oficial1"), ("register", "completed", "oficial1")]
    kinds = [e["kind"] for e in clerk.get(f"/api/cases/{case['id']}/history").get_json()]
    assert kinds == ["case_started", "task_claimed", "task_completed", "task_claimed", "task_completed",
                     "case_completed"]
    assert clerk.get(f"/api/cases/{case['id']}/data").get_json()["data"]["total"] == 20
