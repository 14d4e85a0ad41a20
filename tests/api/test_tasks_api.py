"""Tasks over HTTP: claiming, someone else's task, assigning, drafts and the form."""
from __future__ import annotations

import json

from engine.usecases.deploy import deploy_files
from engine.forms_gate import office_forms
from tests.api import probes
from tests.bpmn import linear

FORM_TASK = ('<bpmn:userTask id="{id}" name="Datos del solicitante"><bpmn:extensionElements>'
             '<spiffworkflow:properties><spiffworkflow:property name="form" value="solicitante"/>'
             '<spiffworkflow:property name="prefill" value="nombre"/>'
             '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
SOLICITANTE = {
    "type": "object", "title": "Solicitante",
    "properties": {"nombre": {"type": "string", "title": "Nombre", "minLength": 2},
                   "via": {"type": "string", "enum": ["correo", "personal"],
                           "x-etiquetas": {"correo": "Correo", "personal": "Personal"}}},
    "required": ["nombre"],
}


def test_second_clerk_cannot_claim_or_complete_a_claimed_task(as_user, seeded):
    task = probes.ready_task(seeded)
    assert as_user("oficial1").post(f"/api/tasks/{task}/claim").status_code == 200
    taken = as_user("oficial2").post(f"/api/tasks/{task}/claim")
    assert taken.status_code == 409 and taken.get_json()["assignee"] == "oficial1"
    assert as_user("oficial2").post(f"/api/tasks/{task}/complete", json={"data": {"amount": 1}}).status_code == 409
    assert as_user("oficial2").post(f"/api/tasks/{task}/release").status_code == 409
    assert as_user("oficial2").put(f"/api/tasks/{task}/draft", json={"data": {}}).status_code == 409


def test_clerk_cannot_see_or_take_a_task_outside_his_groups(as_user, seeded):
    task = probes.ready_task(seeded)
    outsider = as_user("juridico1")
    for method, path in (("GET", ""), ("GET", "/form"), ("POST", "/claim"), ("POST", "/complete")):
        assert outsider.open(method, f"/api/tasks/{task}{path}", json={}).status_code == 404, path
    assert outsider.get("/api/tasks/queue").get_json() == []
    assert outsider.get("/api/tasks/queue?group=ventanilla").status_code == 403
    assert [t["id"] for t in as_user("supervisor1").get("/api/tasks/queue?group=ventanilla").get_json()] == [task]


def test_supervisor_releases_or_reassigns_a_task_someone_holds(as_user, seeded):
    task = probes.claimed_task(seeded, "oficial1")
    supervisor = as_user("supervisor1")
    assigned = supervisor.post(f"/api/tasks/{task}/assign", json={"username": "oficial2"})
    assert assigned.status_code == 200 and assigned.get_json()["assignee"] == "oficial2"
    assert [t["id"] for t in as_user("oficial2").get("/api/tasks/mine").get_json()] == [task]
    assert supervisor.post(f"/api/tasks/{task}/release").get_json()["assignee"] is None
    history = supervisor.get(f"/api/cases/{assigned.get_json()['case_id']}/history").get_json()
    assert [e["kind"] for e in history][-2:] == ["task_assigned", "task_released"]


def test_a_task_goes_only_to_an_active_worker_of_its_group(as_user, seeded):
    task = probes.ready_task(seeded)
    supervisor = as_user("supervisor1")
    for username in ("juridico1", "auditor1", "nadie"):
        response = supervisor.post(f"/api/tasks/{task}/assign", json={"username": username})
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "username", username


def test_form_shows_schema_hints_and_draft_and_completion_validates_it(as_user, seeded, tmp_path):
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "solicitante.schema.json").write_text(json.dumps(SOLICITANTE))
    seeded.forms = office_forms(seeded.clock, tmp_path / "forms")
    deploy_files(seeded, {"con_form.bpmn": linear(FORM_TASK, process_id="con_form")})
    clerk = as_user("oficial1")
    case = clerk.post("/api/cases", json={"process_key": "con_form", "data": {"nombre": "Ana"}}).get_json()
    task = case["ready_tasks"][0]["id"]
    # The lane-less task has no group: only the one who started the case and supervisors reach it.
    form = as_user("supervisor1").get(f"/api/tasks/{task}/form").get_json()
    assert form["form_key"] == "solicitante" and form["schema"]["required"] == ["nombre"]
    assert form["ui"] == {"via": {"x-etiquetas": {"correo": "Correo", "personal": "Personal"}}}
    assert form["data"] == {"nombre": "Ana"} and form["draft_saved_at"] is None  # the task declares prefill

    supervisor = as_user("supervisor1")
    saved = supervisor.put(f"/api/tasks/{task}/draft", json={"data": {"nombre": "Ana María"}})
    assert saved.status_code == 200
    form = supervisor.get(f"/api/tasks/{task}/form").get_json()
    assert form["data"] == {"nombre": "Ana María"} and form["draft_saved_at"] is not None

    invalid = supervisor.post(f"/api/tasks/{task}/complete", json={"data": {"nombre": "A", "via": "fax"}})
    assert invalid.status_code == 422
    assert sorted(e["field"] for e in invalid.get_json()["errors"]) == ["nombre", "via"]
    done = supervisor.post(f"/api/tasks/{task}/complete", json={"data": {"nombre": "Ana", "via": "correo"}})
    assert done.status_code == 200 and done.get_json()["case_state"] == "completed"


def test_a_task_without_a_form_has_a_null_schema(as_user, seeded):
    form = as_user("oficial1").get(f"/api/tasks/{probes.ready_task(seeded)}/form").get_json()
    assert (form["form_key"], form["schema"], form["ui"]) == (None, None, {})
    assert form["data"] == {}  # the case holds {"amount": 10}; no task pre-fills what its diagram does not name


def test_unknown_and_malformed_task_ids_are_404(as_user):
    clerk = as_user("oficial1")
    assert clerk.get("/api/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert clerk.post("/api/tasks/not-a-uuid/claim").status_code == 404


def test_task_lists_page_on_with_a_cursor_and_refuse_a_forged_one(as_user, seeded):
    made = [probes.ready_task(seeded) for _ in range(5)]
    clerk = as_user("oficial1")
    whole = [t["id"] for t in clerk.get("/api/tasks/queue?limit=100").get_json()]
    assert sorted(whole) == sorted(made)
    seen, url, pages = [], "/api/tasks/queue?limit=2&group=ventanilla", 0
    while url:
        response = clerk.get(url)
        assert response.status_code == 200
        seen += [t["id"] for t in response.get_json()]
        pages += 1
        cursor = response.headers.get("X-Next-Cursor")
        link = response.headers.get("Link")
        assert (cursor is None) == (link is None)
        url = link[1:link.index(">")].replace("http://localhost", "") if link else None
        assert url is None or ("after=" in url and "group=ventanilla" in url and "limit=2" in url)
    assert seen == whole and pages == 3  # 2 + 2 + 1, in the list's order, none twice
    assert clerk.get("/api/tasks/mine?limit=1").headers.get("X-Next-Cursor") is None  # holds none: no next page
    forged = clerk.get("/api/tasks/queue?after=bm90LWEtY3Vyc29y")
    assert forged.status_code in (400, 422) and forged.get_json()["errors"][0]["field"] == "after"
