"""The form editor's pages and API: supervisors only; open, save (400 naming the field, 409 when stale), undo; the
preview is the task page's own rendering of the form; publishing from the list page pins the form."""
from __future__ import annotations

import copy
import json
import re

import pytest

from engine.accounts.users import map_lane
from engine.usecases.deploy import deploy_files
from tests.api.conftest import PASSWORD, make_app, seed

FORM = "codede_asistencia"  # a real form with a repeatable group, options and dates
BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://x">
  <bpmn:process id="alta" name="Alta de prueba" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla"><bpmn:flowNodeRef>s</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>t</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:userTask id="t" name="Tomar asistencia"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="{FORM}"/></spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def editor_app(sqlite_svc, tmp_path):
    seed(sqlite_svc)
    map_lane(sqlite_svc, "Ventanilla", "ventanilla")
    deploy_files(sqlite_svc, {"alta.bpmn": BPMN}, actor="test")
    return make_app(sqlite_svc, tmp_path)


def logged_in(app, username: str):
    client = app.test_client()
    response = client.post("/api/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    csrf = response.get_json()["csrf_token"]

    def call(method: str, path: str, **kw):
        return client.open(path, method=method, headers={"X-CSRF-Token": csrf}, **kw)
    return client, call


def test_without_a_draft_the_list_offers_to_open_one(editor_app):
    client, call = logged_in(editor_app, "supervisor1")
    html = client.get("/modelador/alta/formularios").get_data(as_text=True)
    assert "no tiene borrador" in html and 'id="open-draft"' in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    opened = client.post("/modelador/alta/formularios", data={"csrf_token": csrf})
    assert opened.status_code == 302
    html = client.get("/modelador/alta/formularios").get_data(as_text=True)
    assert f'data-form="{FORM}"' in html and "Tomar asistencia" in html and "Sin cambios" in html


def test_open_save_stale_and_bad_schema(editor_app):
    client, call = logged_in(editor_app, "supervisor1")
    assert call("POST", "/api/drafts", json={"process_key": "alta"}).status_code == 201
    shown = call("GET", f"/api/drafts/alta/forms/{FORM}").get_json()
    assert shown["revision"] == 0 and shown["source"] == "version"
    schema = copy.deepcopy(shown["schema"])
    first = next(iter(schema["properties"]))
    schema["properties"][first]["title"] = "Etiqueta cambiada"
    schema["properties"]["dpi_testigo"] = {"title": "DPI del testigo", "type": "string", "format": "cui"}
    saved = call("PUT", f"/api/drafts/alta/forms/{FORM}", json={"schema": schema, "revision": 0})
    assert saved.status_code == 200 and saved.get_json()["revision"] == 1
    stale = call("PUT", f"/api/drafts/alta/forms/{FORM}", json={"schema": schema, "revision": 0})
    assert stale.status_code == 409
    bad = copy.deepcopy(schema)
    bad["properties"]["dpi_testigo"]["format"] = "dpi"
    refused = call("PUT", f"/api/drafts/alta/forms/{FORM}", json={"schema": bad, "revision": 1})
    assert refused.status_code == 400
    assert "dpi_testigo" in {e["field"] for e in refused.get_json()["errors"]}
    listed = call("GET", "/api/drafts/alta/forms").get_json()
    assert [(f["form_key"], f["edited"], f["revision"]) for f in listed["forms"]] == [(FORM, True, 1)]
    page = client.get(f"/modelador/alta/formularios/{FORM}").get_data(as_text=True)
    assert "Etiqueta cambiada" in page and "DPI del testigo" in page and "js/form-editor.js" in page
    assert call("DELETE", f"/api/drafts/alta/forms/{FORM}").status_code == 204
    assert call("GET", f"/api/drafts/alta/forms/{FORM}").get_json()["revision"] == 0
    assert call("GET", "/api/drafts/alta/forms/no_existe").status_code == 404


def test_preview_is_the_task_pages_own_rendering_of_the_form(editor_app):
    client, call = logged_in(editor_app, "supervisor1")
    call("POST", "/api/drafts", json={"process_key": "alta"})
    schema = json.loads(call("GET", f"/api/drafts/alta/forms/{FORM}").get_json()["schema_json"])  # in order
    # as a browser sends it (the test client's json= would sort the keys, the fields' order)
    preview = call("POST", f"/api/drafts/alta/forms/{FORM}/preview", data=json.dumps({"schema": schema}),
                   content_type="application/json").get_json()
    assert preview["valid"] is True and preview["problems"] == []

    call("POST", "/api/cases", json={"process_key": "alta", "data": {}})
    task = call("GET", "/api/tasks/queue?group=ventanilla").get_json()[0]["id"]
    page = client.get(f"/tareas/{task}").get_data(as_text=True)
    drawn = re.search(r'name="submission_token" value="[^"]*">(.*?)<p>\s*<button type="submit" name="accion"',
                      page, re.S)[1]
    assert _squeezed(drawn) == _squeezed(preview["html"])
    assert 'data-add-row' in preview["html"]  # the repeatable group is drawn as the clerk gets it


def test_preview_of_a_bad_schema_lists_its_problems_and_draws_nothing(editor_app):
    _client, call = logged_in(editor_app, "supervisor1")
    bad = {"type": "object", "properties": {"tipo": {"title": "Tipo", "type": "string", "enum": []}}}
    answer = call("POST", f"/api/drafts/alta/forms/{FORM}/preview", json={"schema": bad}).get_json()
    assert answer["valid"] is False and answer["html"] == ""
    assert [p["field"] for p in answer["problems"]] == ["tipo"]


def test_publishing_pins_the_edited_form_for_new_cases(editor_app):
    _client, call = logged_in(editor_app, "supervisor1")
    call("POST", "/api/drafts", json={"process_key": "alta"})
    schema = call("GET", f"/api/drafts/alta/forms/{FORM}").get_json()["schema"]
    schema["properties"]["dpi_testigo"] = {"title": "DPI del testigo", "type": "string", "format": "cui"}
    call("PUT", f"/api/drafts/alta/forms/{FORM}", json={"schema": schema, "revision": 0})
    published = call("POST", "/api/drafts/alta/publish", json={"comment": "DPI del testigo"})
    assert published.status_code == 201 and published.get_json()["version"] == 2
    assert call("GET", "/api/drafts/alta/forms").status_code == 404  # the draft and its forms are gone


@pytest.mark.parametrize("username", ["oficial1", "auditor1"])
def test_clerks_and_auditors_may_not_edit_forms(editor_app, username):
    admin_client, admin_call = logged_in(editor_app, "supervisor1")
    admin_call("POST", "/api/drafts", json={"process_key": "alta"})
    client, call = logged_in(editor_app, username)
    assert client.get("/modelador/alta/formularios").status_code == 403
    assert client.get(f"/modelador/alta/formularios/{FORM}").status_code == 403
    assert call("GET", f"/api/drafts/alta/forms/{FORM}").status_code == 403
    assert call("POST", f"/api/drafts/alta/forms/{FORM}/preview", json={"schema": {}}).status_code == 403


def _squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def test_a_saved_form_keeps_its_fields_in_the_order_sent(editor_app):
    """JSON answers come with sorted keys; the editor reads schema_json, which keeps the form's order."""
    _client, call = logged_in(editor_app, "supervisor1")
    call("POST", "/api/drafts", json={"process_key": "alta"})
    schema = json.loads(call("GET", f"/api/drafts/alta/forms/{FORM}").get_json()["schema_json"])
    order = list(reversed(schema["properties"]))
    schema["properties"] = {k: schema["properties"][k] for k in order}
    saved = call("PUT", f"/api/drafts/alta/forms/{FORM}", data=json.dumps({"schema": schema, "revision": 0}),
                 content_type="application/json")
    assert saved.status_code == 200
    assert list(json.loads(saved.get_json()["schema_json"])["properties"]) == order
