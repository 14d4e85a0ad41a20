"""The modeler pages: supervisors and administrators only, with what the editor needs on the page."""
from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORD, make_app, seed


@pytest.fixture
def modeler_app(sqlite_svc, tmp_path):
    seed(sqlite_svc)
    return make_app(sqlite_svc, tmp_path)  # create_app registers the modeler pages


def logged_in(app, username: str):
    client = app.test_client()
    response = client.post("/api/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return client, response.get_json()["csrf_token"]


def test_supervisor_opens_the_editor_with_forms_processes_and_csrf(modeler_app):
    client, csrf = logged_in(modeler_app, "supervisor1")
    page = client.get("/modelador/five_step")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "vendor/modeler/modeler.js" in html and "revision_completitud" in html
    assert '"five_step"' in html and csrf in html


def test_the_index_lists_processes_and_drafts(modeler_app):
    client, csrf = logged_in(modeler_app, "admin")
    client.post("/api/drafts", json={"process_key": "nuevo_tramite"}, headers={"X-CSRF-Token": csrf})
    html = client.get("/modelador").get_data(as_text=True)
    assert "five_step" in html and "nuevo_tramite" in html


@pytest.mark.parametrize("username", ["oficial1", "auditor1"])
def test_clerks_and_auditors_may_not_model(modeler_app, username):
    client, _ = logged_in(modeler_app, username)
    assert client.get("/modelador/five_step").status_code == 403
    assert client.get("/modelador").status_code == 403


def test_anonymous_visitors_are_refused(modeler_app):
    assert modeler_app.test_client().get("/modelador").status_code in (302, 401)


def test_an_invalid_process_key_is_refused(modeler_app):
    client, _ = logged_in(modeler_app, "supervisor1")
    assert client.get("/modelador/1malo").status_code == 400


def test_the_editor_of_a_published_process_without_draft_says_so_and_creates_no_draft(modeler_app):
    client, _ = logged_in(modeler_app, "supervisor1")
    html = client.get("/modelador/five_step").get_data(as_text=True)
    assert '"latest": 1' in html and "sin borrador" in html  # the status the page shows when nothing is drafted
    assert client.get("/api/drafts/five_step").status_code == 404  # opening the editor drafted nothing


def test_an_unknown_procedure_without_draft_is_not_found(modeler_app):
    client, _ = logged_in(modeler_app, "supervisor1")
    assert client.get("/modelador/no_existe").status_code == 404


def test_the_modeler_pages_extend_the_site_layout_and_speak_english_on_request(modeler_app):
    client, csrf = logged_in(modeler_app, "supervisor1")
    client.post("/api/drafts", json={"process_key": "nuevo_tramite"}, headers={"X-CSRF-Token": csrf})
    index = client.get("/modelador").get_data(as_text=True)
    assert "Modelador de procedimientos" in index and 'href="/modelador"' in index  # the site's menu links it
    assert "skip" in index and "Saltar al contenido" in index  # the common layout
    client.get("/idioma/en?next=/modelador")
    index = client.get("/modelador").get_data(as_text=True)
    assert "Process modeler" in index and "Modelador de procedimientos" not in index
    editor = client.get("/modelador/nuevo_tramite").get_data(as_text=True)
    assert "Save draft" in editor and "Guardar borrador" not in editor
    assert "no draft" in editor and "sin borrador" not in editor  # the script's texts are translated too


def test_clerks_do_not_see_the_modeler_in_the_menu(modeler_app):
    client, _ = logged_in(modeler_app, "oficial1")
    assert 'href="/modelador"' not in client.get("/bandeja").get_data(as_text=True)
