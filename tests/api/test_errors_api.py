"""One error shape (RFC 9457 problem+json) for every failure, with field-level detail."""
from __future__ import annotations

import io

from api.errors import STATUS_BY_ERROR, status_for
from engine import errors
from engine.usecases import processes
from tests.api import probes
from tests.api.conftest import Client, token_for


def assert_problem(response, status: int):
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys() and body["status"] == status
    return body


def test_unknown_route_and_wrong_method_are_problems(anonymous):
    assert_problem(anonymous.get("/api/nothing-here"), 404)
    response = anonymous.open("PATCH", "/api/cases")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_marshmallow_errors_are_422_with_field_paths(as_user):
    body = assert_problem(as_user("admin").post("/api/users", json={"username": "a b", "role": "rey",
                                                                     "groups": ["ok", ""], "extra": 1}), 422)
    assert {(e["field"], e["location"]) for e in body["errors"]} == {
        ("username", "json"), ("role", "json"), ("password", "json"), ("groups/1", "json"), ("extra", "json")}


def test_malformed_json_is_400(as_user):
    response = as_user("oficial1").post("/api/cases", data="{not json", content_type="application/json")
    assert_problem(response, 400)


def test_domain_errors_carry_their_code_and_details(as_user, seeded):
    task = probes.claimed_task(seeded, "oficial1")
    body = assert_problem(as_user("oficial2").post(f"/api/tasks/{task}/claim"), 409)
    assert body["code"] == "task_not_ready" and body["assignee"] == "oficial1"


def test_spec_problems_name_file_and_element(as_user):
    response = as_user("supervisor1").post("/api/processes", data={"files": [(io.BytesIO(b"<nope"), "roto.bpmn")]},
                                           content_type="multipart/form-data")
    body = assert_problem(response, 422)
    assert body["code"] == "spec_invalid" and body["errors"][0]["file"] == "roto.bpmn"
    assert body["errors"][0]["field"] == "roto.bpmn"


def test_the_error_table_maps_every_engine_error_class_to_a_status():
    def subclasses(cls):
        return [cls] + [s for sub in cls.__subclasses__() for s in subclasses(sub)]
    for cls in subclasses(errors.ExpedienteError):
        exc = cls([]) if cls is errors.SpecInvalid else cls("x")
        assert 400 <= status_for(exc) < 500, cls
    assert STATUS_BY_ERROR[-1][0] is errors.ExpedienteError  # the catch-all row stays last


def test_an_unexpected_exception_is_a_logged_500_problem(app, seeded, monkeypatch, caplog):
    monkeypatch.setattr(processes, "list_processes", lambda svc, principal: 1 / 0)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = Client(app, token_for(seeded, "oficial1"))
    body = assert_problem(client.get("/api/processes"), 500)
    assert body["code"] == "internal_error" and "ZeroDivisionError" not in body["detail"]
    assert "unhandled error" in caplog.text


def test_json_nested_too_deeply_is_422_not_a_crash(as_user):
    depth = 100_000
    body = '{"process_key": "five_step", "data": {"a": ' + "[" * depth + "]" * depth + "}}"
    response = as_user("oficial1").post("/api/cases", data=body, content_type="application/json")
    assert assert_problem(response, 422)["errors"][0]["location"] == "json"
