"""Processes (validate, deploy, versions, diagram) and accounts (users, groups, lanes) over HTTP."""
from __future__ import annotations

import io

from tests.api import probes
from tests.api.conftest import Client, PASSWORD
from tests.bpmn import linear, user
from tests.conftest import bpmn_fixture


def files(*named):
    return {"data": {"files": [(io.BytesIO(content), name) for name, content in named]},
            "content_type": "multipart/form-data"}


def test_validate_lists_problems_without_deploying(as_user):
    supervisor = as_user("supervisor1")
    good = supervisor.post("/api/processes/validate", **files(("five_step.bpmn", bpmn_fixture("five_step.bpmn"))))
    assert good.status_code == 200 and good.get_json()["valid"] is True
    bad = supervisor.post("/api/processes/validate", **files(("roto.bpmn", b"<bpmn:definitions")))
    assert bad.status_code == 200
    body = bad.get_json()
    assert body["valid"] is False and body["problems"][0]["file"] == "roto.bpmn"
    assert body["problems"][0]["message"].startswith("El XML no está bien formado: ")
    english = supervisor.post("/api/processes/validate", **files(("roto.bpmn", b"<bpmn:definitions")),
                              headers={"Accept-Language": "en"}).get_json()
    assert english["problems"][0]["message"].startswith("Not well-formed XML: ")
    assert [p["process_key"] for p in supervisor.get("/api/processes").get_json()] == ["five_step"]


def test_a_refused_deployment_speaks_the_request_language(as_user):
    supervisor = as_user("supervisor1")
    for language, detail, message in (
            (None, "roto.bpmn:1: El archivo está vacío.", "El archivo está vacío."),
            ("en", "roto.bpmn:1: The file is empty.", "The file is empty.")):
        headers = {"Accept-Language": language} if language else {}
        refused = supervisor.post("/api/processes", **files(("roto.bpmn", b"")), headers=headers)
        assert refused.status_code == 422
        doc = refused.get_json()
        assert doc["code"] == "spec_invalid" and doc["detail"] == detail
        assert [(e["file"], e["message"]) for e in doc["errors"]] == [("roto.bpmn", message)]
    missing = supervisor.get("/api/processes/nope/versions", headers={"Accept-Language": "en"}).get_json()
    assert missing["detail"] == "No process 'nope' is deployed."
    assert supervisor.get("/api/processes/nope/versions").get_json()["detail"] == \
        "No hay ningún procedimiento «nope» publicado."


def test_deploy_creates_a_version_only_when_content_changes_and_counts_open_cases(as_user, seeded):
    supervisor = as_user("supervisor1")
    probes.new_case(seeded)
    same = supervisor.post("/api/processes", **files(("five_step.bpmn", bpmn_fixture("five_step.bpmn"))))
    assert same.status_code == 201 and same.get_json() == [
        {"process_key": "five_step", "version": 1, "version_id": same.get_json()[0]["version_id"], "created": False}]
    changed = bpmn_fixture("five_step.bpmn").replace(b"Aprobar", b"Aprobar solicitud")
    new = supervisor.post("/api/processes", data={"files": [(io.BytesIO(changed), "five_step.bpmn")],
                                                  "comment": "nuevo nombre"}, content_type="multipart/form-data")
    assert new.get_json()[0]["version"] == 2
    versions = supervisor.get("/api/processes/five_step/versions").get_json()
    assert [(v["version"], v["open_cases"], v["comment"], v["created_by"]) for v in versions] == [
        (1, 1, "", "test"), (2, 0, "nuevo nombre", "supervisor1")]
    xml = supervisor.get("/api/processes/five_step/versions/2/bpmn")
    assert xml.content_type.startswith("application/xml") and b"Aprobar solicitud" in xml.data
    assert supervisor.get("/api/processes/five_step/versions/3/bpmn").status_code == 404
    assert supervisor.get("/api/processes/nope/versions").status_code == 404


def test_two_uploaded_files_with_one_name_are_refused(as_user):
    doc = linear(user(), process_id="otro")
    response = as_user("admin").post("/api/processes", **files(("a.bpmn", doc), ("a.bpmn", doc)))
    assert response.status_code == 400 and response.get_json()["detail"] == "Se enviaron dos archivos llamados «a.bpmn»."


def test_admin_creates_a_user_who_can_log_in_and_changes_his_groups(as_user, app):
    admin = as_user("admin")
    created = admin.post("/api/users", json={"username": "oficial9", "role": "clerk", "password": "clave-de-prueba",
                                             "display_name": "Oficial 9", "groups": ["ventanilla"]})
    assert created.status_code == 201 and created.get_json()["groups"] == ["ventanilla"]
    assert "password_hash" not in created.get_json()
    assert admin.post("/api/users", json={"username": "oficial9", "role": "clerk",
                                          "password": "clave-de-prueba"}).status_code == 409
    changed = admin.patch("/api/users/oficial9", json={"groups": ["tramite", "juridico"], "role": "supervisor"})
    assert (changed.get_json()["groups"], changed.get_json()["role"]) == (["juridico", "tramite"], "supervisor")
    login = Client(app).post("/api/session", json={"username": "oficial9", "password": "clave-de-prueba"})
    assert login.status_code == 200 and login.get_json()["user"]["role"] == "supervisor"
    assert admin.patch("/api/users/nadie", json={"active": False}).status_code == 404


def test_admin_unlocks_a_locked_account(as_user, app, seeded):
    anonymous = Client(app)
    for _ in range(5):
        anonymous.post("/api/session", json={"username": "oficial2", "password": "mal"})
        seeded.clock.advance(seconds=10)
    assert anonymous.post("/api/session", json={"username": "oficial2", "password": PASSWORD}).status_code == 429
    user = as_user("supervisor1").get("/api/users/oficial2").get_json()
    assert user["failed_logins"] == 5 and user["locked_until"] is not None
    as_user("admin").patch("/api/users/oficial2", json={"unlock": True})
    assert anonymous.post("/api/session", json={"username": "oficial2", "password": PASSWORD}).status_code == 200


def test_groups_and_lane_mapping(as_user, seeded):
    admin = as_user("admin")
    assert admin.post("/api/groups", json={"name": "despacho", "description": "Despacho"}).status_code == 201
    assert admin.post("/api/groups", json={"name": "despacho"}).status_code == 409
    members = {g["name"]: g["members"] for g in admin.get("/api/groups").get_json()}
    assert members["ventanilla"] == 3 and members["despacho"] == 0
    assert admin.put("/api/lanes", json={"lane": "Ventanilla", "group": "despacho", "process_key": "five_step"}
                     ).status_code == 200
    lanes = {(m["process_key"], m["lane"]): m["group"] for m in admin.get("/api/lanes").get_json()}
    assert lanes[("five_step", "Ventanilla")] == "despacho" and lanes[("*", "Ventanilla")] == "ventanilla"
    task = as_user("supervisor1").get(f"/api/tasks/{probes.ready_task(seeded)}").get_json()
    assert task["candidate_group"] == "despacho"
