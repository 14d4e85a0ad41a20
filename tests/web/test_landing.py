"""Where people land: each role on its own page at "/" and after logging in; after filing, the receipt leads the
filer on to the new case's first task when he may work it, else to the queue where it waits."""
from __future__ import annotations

import re

import pytest

from engine.accounts.users import add_user
from engine.usecases import tasks
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD, as_form, csrf_of, login

NEW_LICENCE = "/expedientes/nuevo/licencia"


@pytest.fixture(scope="module")
def staff(web_office):
    """A supervisor and an administrator beside the clerks and the auditor of the web office."""
    svc = web_office[0]
    add_user(svc, "supervisor7", "supervisor", PASSWORD, display_name="Supervisora", groups=["ventanilla"])
    add_user(svc, "admin7", "admin", PASSWORD, display_name="Administración")
    return web_office[1]


def signed_in(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def landing(response) -> str:
    assert response.status_code == 302
    return response.location.split("?")[0]


@pytest.mark.parametrize("username,page", [("ventanilla1", "/bandeja"), ("supervisor7", "/supervision"),
                                           ("auditor1", "/auditoria"), ("admin7", "/admin")])
def test_each_role_lands_on_its_own_page_at_home_and_after_logging_in(staff, username, page):
    client = staff.test_client()
    assert landing(client.get("/")) == "/entrar"  # a visitor logs in first, with no page to go back to
    assert landing(login(client, username)) == page
    assert landing(client.get("/")) == page


@pytest.mark.parametrize("username,page", [("auditor1", "/auditoria"), ("admin7", "/admin"),
                                           ("ventanilla1", "/bandeja"), ("supervisor7", "/bandeja")])
def test_an_auditor_or_admin_sent_to_log_in_from_the_inbox_lands_on_his_own_page(staff, username, page):
    client = staff.test_client()
    form = client.get("/entrar?next=/bandeja").get_data(as_text=True)
    sent = client.post("/entrar", data={"username": username, "password": PASSWORD, "next": "/bandeja",
                                        "csrf_token": csrf_of(form)})
    assert landing(sent) == page


def test_a_role_whose_page_is_missing_falls_back_to_the_inbox(staff, monkeypatch):
    client = signed_in(staff, "admin7")
    monkeypatch.delitem(staff.view_functions, "pages.admin_home")
    assert landing(client.get("/")) == "/bandeja"


def file_licence(client) -> str:
    """File a licence at the desk; return the receipt page the filing lands on."""
    page = client.get(NEW_LICENCE).get_data(as_text=True)
    filed = client.post(NEW_LICENCE, data={**as_form(intake()), "csrf_token": csrf_of(page)})
    assert filed.status_code == 302 and filed.location.endswith("/constancia")
    return client.get(filed.location).get_data(as_text=True)


def next_link(receipt: str) -> str | None:
    found = re.search(r'<a class="button" id="next-task" href="([^"]+)">([^<]+)</a>', receipt)
    return found and found.group(1)


def test_the_receipt_leads_the_filer_to_the_first_task_he_may_work(app, office_svc):
    receipt = file_licence(signed_in(app, "ventanilla1"))
    case_id = int(re.search(r'href="/expedientes/(\d+)"', receipt).group(1))
    first = next(t for t in task_rows(office_svc, case_id) if t["element_id"] == "emitir_constancia")
    assert next_link(receipt) == f"/tareas/{first['id']}"
    assert "Continuar con la tarea «Emitir constancia de recepción»" in receipt


def test_a_first_task_someone_else_took_is_shown_in_the_group_queue(app, office_svc):
    filer = signed_in(app, "ventanilla1")
    receipt = file_licence(filer)
    case_id = int(re.search(r'href="/expedientes/(\d+)"', receipt).group(1))
    first = next(t for t in task_rows(office_svc, case_id) if t["element_id"] == "emitir_constancia")
    tasks.claim_task(office_svc, principal_for("ventanilla2", role="clerk", groups=("ventanilla",)), first["id"])
    again = filer.get(f"/expedientes/{case_id}/constancia").get_data(as_text=True)
    assert next_link(again) == "/bandeja?vista=queue"


def test_a_filer_outside_the_first_tasks_group_gets_no_task_link(app):
    receipt = file_licence(signed_in(app, "tramite1"))  # the desk's task: not his group's
    assert next_link(receipt) is None and "Ver el expediente" in receipt
