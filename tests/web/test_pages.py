"""The pages over Flask's test client: login, CSRF, inbox filters and search, new case receipt, errors."""
from __future__ import annotations

import re
from pathlib import Path

from engine.usecases import cases, tasks
from tests.conftest import SYSTEM, principal_for
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import as_form, csrf_of, login

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_wrong_password_is_refused_with_a_spanish_message(app):
    client = app.test_client()
    response = login(client, "tramite1", "no-es-la-clave")
    assert response.status_code == 401
    assert "Usuario o contraseña incorrectos." in text(response)
    assert client.get("/bandeja").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(app):
    client = app.test_client()
    login(client, "ventanilla1")
    response = client.post("/expedientes/nuevo/licencia", data=as_form(intake()))
    assert response.status_code == 403
    assert "El formulario venció" in text(response)
    assert client.post("/entrar", data={"username": "ventanilla1", "password": "x", "csrf_token": "forged"}
                       ).status_code == 403


def test_anonymous_visitor_is_sent_to_the_login_page(app):
    response = app.test_client().get("/bandeja")
    assert response.status_code == 302 and "/entrar" in response.location


def test_filing_a_case_prints_a_receipt_with_number_code_date_and_hour(app):
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get("/expedientes/nuevo/licencia").get_data(as_text=True)
    response = client.post("/expedientes/nuevo/licencia", data={**as_form(intake()), "csrf_token": csrf_of(page)})
    assert response.status_code == 302
    receipt = text(client.get(response.location))
    assert re.search(r"Número de expediente EXP-GDCH-2026-\d{5}", receipt)
    assert re.search(r"Código de seguimiento [2-9A-Z]{6,}", receipt)
    assert "Fecha de presentación 30/03/2026" in receipt
    assert "Hora de presentación 09:00 (hora de Guatemala)" in receipt
    assert "Licencia o autorización" in receipt


def test_new_case_lists_procedures_but_not_shared_subprocesses(app):
    client = app.test_client()
    login(client, "ventanilla1")
    html = client.get("/expedientes/nuevo").get_data(as_text=True)
    assert "/expedientes/nuevo/licencia" in html
    assert "/expedientes/nuevo/comun_" not in html
    assert client.get("/expedientes/nuevo/comun_firma").status_code == 404


def test_inbox_filters_and_searches_by_number_name_dpi_and_code(app, office_svc):
    mine = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia",
                            intake(solicitante_nombre="Josefina Boror", municipio="Patzún"))
    other = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia",
                             intake(solicitante_nombre="Tomás Coyoy", municipio="Tecpán Guatemala"))
    client = app.test_client()
    login(client, "ventanilla2")

    def rows(**query) -> str:
        return text(client.get("/bandeja", query_string={"vista": "queue", **query}))

    assert "Josefina Boror" in rows() and "Tomás Coyoy" in rows()
    assert "Tomás Coyoy" not in rows(municipio="Patzún")
    assert "Josefina Boror" in rows(q="josefina")
    assert "Josefina Boror" not in rows(q=other.number)
    assert "Tomás Coyoy" in rows(q=other.tracking_code.lower())
    assert "Josefina Boror" in rows(q=mine.number, procedimiento="licencia", tarea="emitir_constancia")
    assert "0 tareas" in rows(tarea="elaborar_dictamen")
    assert rows(orden="no-such-sort", pagina="x")  # bad input falls back, never a 500
    assert "No hay tareas" in text(client.get("/bandeja"))  # nothing claimed yet


def test_claim_from_the_list_moves_the_task_to_my_tasks_and_release_gives_it_back(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia",
                               intake(solicitante_nombre="Irma Tum"))
    task_id = started.ready_tasks[0]["id"]
    client = app.test_client()
    login(client, "ventanilla2")
    token = csrf_of(client.get("/bandeja?vista=queue").get_data(as_text=True))
    client.post(f"/tareas/{task_id}/tomar", data={"csrf_token": token, "next": "/bandeja"})
    assert "Irma Tum" in text(client.get("/bandeja"))
    client.post(f"/tareas/{task_id}/liberar", data={"csrf_token": token, "next": "/bandeja"})
    assert "Irma Tum" not in text(client.get("/bandeja"))


def test_the_case_page_and_a_lost_claim_name_the_holder_as_clerks_know_him(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake())
    task_id = started.ready_tasks[0]["id"]
    tasks.claim_task(office_svc, principal_for("ventanilla1"), task_id)
    client = app.test_client()
    login(client, "ventanilla2")
    assert "Marta Ixcoy (ventanilla1)" in text(client.get(f"/expedientes/{started.id}"))
    token = csrf_of(client.get("/bandeja?vista=queue").get_data(as_text=True))
    lost = client.post(f"/tareas/{task_id}/tomar", data={"csrf_token": token, "next": "/bandeja"},
                       follow_redirects=True)
    assert "ya la tomó Marta Ixcoy (ventanilla1)" in text(lost)


def test_a_task_outside_my_groups_and_unknown_pages_answer_a_spanish_404(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake())
    client = app.test_client()
    login(client, "juridico1")
    for path in (f"/tareas/{started.ready_tasks[0]['id']}", "/tareas/not-a-uuid", "/expedientes/999999",
                 "/no-existe", f"/expedientes/{started.id}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "No encontrado" in text(response)
    assert client.get("/api/no-existe").content_type == "application/problem+json"


def test_auditor_may_read_but_not_file_cases(app):
    client = app.test_client()
    login(client, "auditor1")
    assert client.get("/expedientes").status_code == 200
    assert client.get("/expedientes/nuevo").status_code == 403


def test_inbox_loads_no_diagram_library_and_little_javascript(app):
    client = app.test_client()
    login(client, "ventanilla1")
    html = client.get("/bandeja").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]+src="/static/([^"]+)"', html)
    assert not any("bpmn" in s for s in scripts)
    assert sum((STATIC / s).stat().st_size for s in scripts) < 300 * 1024


def test_english_is_available_from_the_language_switch(app):
    client = app.test_client()
    login(client, "ventanilla1")
    client.get("/idioma/en?next=/bandeja")
    assert "My tasks" in text(client.get("/bandeja"))
    client.get("/idioma/es_GT")
    assert "Mis tareas" in text(client.get("/bandeja"))


def test_saving_a_draft_keeps_what_was_typed_and_leaves_the_task_ready(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia",
                               intake(solicitante_nombre="Rosa Cumes"))
    task_id = started.ready_tasks[0]["id"]
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get(f"/tareas/{task_id}").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "accion": "borrador", "constancia_folios": "7"}
    saved = client.post(f"/tareas/{task_id}", data=form)
    assert saved.status_code == 302
    again = client.get(f"/tareas/{task_id}").get_data(as_text=True)
    assert "Borrador guardado" in again and 'value="7"' in again
    assert [t["state"] for t in task_rows(office_svc, started.id)] == ["ready"]


def test_nested_objects_of_an_intake_are_fieldsets_whose_fields_reach_the_case(app, office_svc):
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get("/expedientes/nuevo/licencia").get_data(as_text=True)
    assert 'name="representante_legal.nombre"' in page
    collection = intake("colecta_publica")
    response = client.post("/expedientes/nuevo/licencia", data={**as_form(collection), "csrf_token": csrf_of(page)})
    assert response.status_code == 302, text(response)[:500]
    case_id = int(re.search(r"/expedientes/(\d+)/constancia", response.location).group(1))
    assert cases.case_data(office_svc, SYSTEM, case_id)["representante_legal"] == {"nombre": "Luis Cúmez",
                                                                                    "cargo": "Presidente"}
