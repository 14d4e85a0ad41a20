"""A page form sent twice (double click, reload, retry) acts once and answers with the first redirect."""
from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from engine.usecases import cases
from engine.storage import models
from tests.conftest import SYSTEM, principal_for
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import as_form, csrf_of, login

NEW_CASE = "/expedientes/nuevo/licencia"


def token_of(html: str) -> str:
    found = re.search(r'name="submission_token" value="([^"]+)"', html)
    assert found, "no one-time token on the form"
    return found.group(1)


def count_cases(svc) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(models.cases)).scalar_one()


def signed_in(app, username="ventanilla1"):
    client = app.test_client()
    login(client, username)
    return client


def test_double_submitting_the_new_case_form_files_one_case_and_both_land_on_its_receipt(app, office_svc):
    client = signed_in(app)
    page = client.get(NEW_CASE).get_data(as_text=True)
    form = {**as_form(intake()), "csrf_token": csrf_of(page), "submission_token": token_of(page)}
    before = count_cases(office_svc)
    first = client.post(NEW_CASE, data=form)
    second = client.post(NEW_CASE, data=form)
    assert first.status_code == second.status_code == 302
    assert second.location == first.location and "/constancia" in first.location
    assert count_cases(office_svc) == before + 1
    assert "ya se había enviado" in client.get(second.location).get_data(as_text=True)


def test_the_new_case_form_sent_at_once_from_four_tabs_files_one_case(app, office_svc):
    clients = [signed_in(app) for _ in range(4)]
    token = token_of(clients[0].get(NEW_CASE).get_data(as_text=True))
    forms = [{**as_form(intake()), "csrf_token": csrf_of(c.get(NEW_CASE).get_data(as_text=True)),
              "submission_token": token} for c in clients]
    before = count_cases(office_svc)
    barrier = threading.Barrier(len(clients))
    responses = [None] * len(clients)

    def send(i):
        barrier.wait()
        responses[i] = clients[i].post(NEW_CASE, data=forms[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status_code for r in responses} == {302}
    assert len({r.location for r in responses}) == 1
    assert count_cases(office_svc) == before + 1


def test_a_form_with_errors_rerenders_and_the_corrected_form_files_the_case(app, office_svc):
    client = signed_in(app)
    page = client.get(NEW_CASE).get_data(as_text=True)
    token = token_of(page)
    before = count_cases(office_svc)
    wrong = client.post(NEW_CASE, data={**as_form(intake(solicitante_dpi="123")), "csrf_token": csrf_of(page),
                                        "submission_token": token})
    assert wrong.status_code == 422
    assert "corríjalos" in wrong.get_data(as_text=True) and token_of(wrong.get_data(as_text=True))
    assert count_cases(office_svc) == before
    corrected = client.post(NEW_CASE, data={**as_form(intake()), "csrf_token": csrf_of(page),
                                            "submission_token": token})
    assert corrected.status_code == 302 and "/constancia" in corrected.location
    assert count_cases(office_svc) == before + 1


def test_double_submitting_a_task_form_completes_it_once(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake())
    task_id = started.ready_tasks[0]["id"]
    client = signed_in(app)
    page = client.get(f"/tareas/{task_id}").get_data(as_text=True)
    form = {**as_form({"constancia_entrega": "ventanilla", "constancia_folios": 12}), "accion": "completar",
            "csrf_token": csrf_of(page), "submission_token": token_of(page)}
    first = client.post(f"/tareas/{task_id}", data=form)
    second = client.post(f"/tareas/{task_id}", data=form)
    assert first.status_code == second.status_code == 302
    assert second.location == first.location == f"/expedientes/{started.id}"
    completed = [e for e in cases.case_history(office_svc, SYSTEM, started.id) if e["kind"] == "task_completed"]
    assert len(completed) == 1
    assert [t["state"] for t in task_rows(office_svc, started.id, state="completed")] == ["completed"]


def test_the_upload_field_carries_a_key_for_its_uploads(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake())
    html = signed_in(app).get(f"/expedientes/{started.id}").get_data(as_text=True)
    assert re.search(r'data-idempotency-key="[0-9a-f]{32}"', html)


def test_a_value_the_case_cannot_store_rerenders_the_task_form_with_the_field_marked(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake())
    task_id = started.ready_tasks[0]["id"]
    client = signed_in(app)
    page = client.get(f"/tareas/{task_id}").get_data(as_text=True)
    huge = "1" + "0" * 30  # far past the 63-bit integers a case stores
    form = {**as_form({"constancia_entrega": "ventanilla"}), "constancia_folios": huge, "accion": "completar",
            "csrf_token": csrf_of(page), "submission_token": token_of(page)}
    answer = client.post(f"/tareas/{task_id}", data=form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "corríjalos" in html
    assert f'value="{huge}"' in html  # what the clerk typed is still there to correct
    assert re.search(r'constancia_folios[^>]*aria-invalid="true"|id="constancia_folios-error"', html), html[:2000]
    assert [t["state"] for t in task_rows(office_svc, started.id)] == ["ready"]
