"""The case page's «Operaciones» panel (web/case_operation_pages.py) through Flask's client: what a supervisor
does from the page, the refusals in Spanish (nothing changes), a stale page's 409, and what a clerk does not see."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases
from engine.usecases.deploy import deploy_files
from tests.api import probes
from tests.conftest import SYSTEM, bpmn_fixture
from tests.processes.licencia_walk import intake
from tests.web.conftest import PASSWORD, as_form, csrf_of, login


@pytest.fixture(scope="module")
def desk(web_office):
    svc, app = web_office
    add_user(svc, "supervisor1", "supervisor", PASSWORD, display_name="Sara Supervisora", groups=["ventanilla"])
    return svc, app


def client_of(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def file_case(app) -> int:
    filer = client_of(app, "ventanilla2")
    page = filer.get("/expedientes/nuevo/licencia").get_data(as_text=True)
    filed = filer.post("/expedientes/nuevo/licencia", data={**as_form(intake()), "csrf_token": csrf_of(page)})
    return int(re.search(r"/expedientes/(\d+)/constancia", filed.location).group(1))


def form_fields(html: str, form_id: str) -> dict:
    """The hidden fields of the form `form_id` on a page (its CSRF and submission tokens and the version)."""
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def task_of(svc, case_id: int) -> dict:
    with svc.uow(write=False) as uow:
        return dict(uow.conn.execute(select(models.tasks).where(models.tasks.c.case_id == case_id,
                                                                models.tasks.c.state == "ready")).mappings().one())


def kinds(svc, case_id: int) -> list[str]:
    return [e["kind"] for e in cases.case_history(svc, SYSTEM, case_id)]


def test_a_clerk_sees_no_operations_and_cannot_post_them(desk):
    svc, app = desk
    case_id = file_case(app)
    clerk = client_of(app, "ventanilla1")
    html = clerk.get(f"/expedientes/{case_id}").get_data(as_text=True)
    assert 'id="operations"' not in html
    supervisor_page = client_of(app, "supervisor1").get(f"/expedientes/{case_id}").get_data(as_text=True)
    fields = form_fields(supervisor_page, "op-suspend")
    refused = clerk.post(f"/expedientes/{case_id}/operaciones/suspender",
                         data={**fields, "csrf_token": csrf_of(html), "motivo": "x"})
    assert refused.status_code == 403
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "running"


def test_supervisor_reassigns_releases_suspends_resumes_from_the_page(desk):
    svc, app = desk
    case_id = file_case(app)
    sup = client_of(app, "supervisor1")
    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    assert 'id="operations"' in page and "Operaciones" in page
    task = task_of(svc, case_id)
    # Only those who could work the task are offered: the ventanilla clerks and the supervisor, not juridico1.
    assert 'value="ventanilla1"' in page and 'value="juridico1"' not in page
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                        re.search(r'<table id="op-tasks".*?</table>', page, re.S).group(0))
    reassign = dict(fields[:4])
    assert reassign["tarea"] == task["id"]
    done = sup.post(f"/expedientes/{case_id}/operaciones/reasignar", data={**reassign, "usuario": "ventanilla1"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert task_of(svc, case_id)["assignee"] == "ventanilla1"

    # The same page, stale now: a second reassignment is refused in Spanish with a 409, nothing changes.
    stale = sup.post(f"/expedientes/{case_id}/operaciones/reasignar",
                     data={**reassign, "submission_token": "otro", "usuario": "ventanilla2"})
    assert stale.status_code == 409 and "Otra persona modificó este expediente" in stale.get_data(as_text=True)
    assert task_of(svc, case_id)["assignee"] == "ventanilla1"

    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    release = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                              re.search(r'action="/expedientes/\d+/operaciones/liberar".*?</form>', page,
                                        re.S).group(0)))
    assert sup.post(f"/expedientes/{case_id}/operaciones/liberar", data=release).status_code == 302
    assert task_of(svc, case_id)["assignee"] is None

    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    suspend = form_fields(page, "op-suspend")
    no_reason = sup.post(f"/expedientes/{case_id}/operaciones/suspender", data={**suspend, "motivo": "  "})
    assert no_reason.status_code == 400 and "indique el motivo" in no_reason.get_data(as_text=True)
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "running"
    assert sup.post(f"/expedientes/{case_id}/operaciones/suspender",
                    data={**suspend, "submission_token": "s2", "motivo": "Falta el dictamen"}).status_code == 302
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "suspended"
    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    assert 'id="op-move"' not in page  # a suspended case is resumed before it moves
    resume = form_fields(page, "op-resume")
    assert sup.post(f"/expedientes/{case_id}/operaciones/reanudar",
                    data={**resume, "motivo": "Llegó el dictamen"}).status_code == 302
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "running"
    assert kinds(svc, case_id)[-4:] == ["task_assigned", "task_released", "case_suspended", "case_resumed"]
    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    for label in ("Tarea asignada", "Tarea liberada", "Expediente suspendido", "Expediente reanudado"):
        assert label in page, label


def test_supervisor_previews_and_moves_then_cancels_after_confirming(desk):
    svc, app = desk
    case_id = file_case(app)
    sup = client_of(app, "supervisor1")
    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    assert 'value="elaborar_dictamen"' in page
    preview = sup.get(f"/expedientes/{case_id}/mover?paso=elaborar_dictamen")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    close = re.search(r'<ul id="move-close">(.*?)</ul>', html, re.S).group(1)
    opened = re.search(r'<ul id="move-open">(.*?)</ul>', html, re.S).group(1)
    assert "Emitir constancia de recepción" in close and "Elaborar dictamen" in opened
    assert task_of(svc, case_id)["element_id"] == "emitir_constancia"  # the preview changed nothing
    refused = sup.get(f"/expedientes/{case_id}/mover?paso=no_existe")
    assert refused.status_code == 400 and "no tiene el paso «no_existe»" in refused.get_data(as_text=True)

    move = form_fields(html, "move-form")
    no_reason = sup.post(f"/expedientes/{case_id}/mover", data={**move, "motivo": ""})
    assert no_reason.status_code == 400 and "motivo" in no_reason.get_data(as_text=True)
    moved = sup.post(f"/expedientes/{case_id}/mover", data={**move, "submission_token": "m2",
                                                              "motivo": "Expediente completo en papel"})
    assert moved.status_code == 302
    assert task_of(svc, case_id)["element_id"] == "elaborar_dictamen"
    again = sup.post(f"/expedientes/{case_id}/mover", data={**move, "submission_token": "m3", "motivo": "Otra"})
    assert again.status_code == 409  # the preview's version is stale now

    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    assert "Expediente movido a otro paso" in page
    cancel = form_fields(page, "op-cancel")
    confirm = sup.post(f"/expedientes/{case_id}/operaciones/anular", data={**cancel, "motivo": "Duplicado"})
    assert confirm.status_code == 200 and 'id="cancel-confirm"' in confirm.get_data(as_text=True)
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "running"  # not before confirming
    confirmed = sup.post(f"/expedientes/{case_id}/operaciones/anular",
                         data=form_fields(confirm.get_data(as_text=True), "cancel-confirm") | {"motivo": "Duplicado"})
    assert confirmed.status_code == 302
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "cancelled"
    assert kinds(svc, case_id)[-2:] == ["case_moved", "case_cancelled"]
    assert 'id="operations"' not in sup.get(f"/expedientes/{case_id}").get_data(as_text=True)  # closed


def test_the_panel_shows_an_errored_case_s_error_and_retries_it(desk):
    svc, app = desk
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    case_id = probes.errored_case(svc)  # its script needs "amount", which the case lacks
    sup = client_of(app, "supervisor1")
    page = sup.get(f"/expedientes/{case_id}").get_data(as_text=True)
    error = cases.get_case(svc, SYSTEM, case_id)
    shown = re.search(r'<p class="error" id="op-error">(.*?)</p>', page, re.S).group(1)
    assert error["error_element"] in shown and "amount" in error["error_message"] and "amount" in shown
    retried = sup.post(f"/expedientes/{case_id}/operaciones/reintentar", data=form_fields(page, "op-retry"))
    assert retried.status_code == 302
    assert "volvió a fallar" in sup.get(retried.location).get_data(as_text=True)
    assert kinds(svc, case_id)[-2:] == ["retried", "error"]
    stale = sup.post(f"/expedientes/{case_id}/operaciones/reintentar",
                     data={**form_fields(page, "op-retry"), "submission_token": "r2"})
    assert stale.status_code == 409  # the page showed the case before the first retry
