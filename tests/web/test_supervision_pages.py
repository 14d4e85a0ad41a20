"""/supervision through Flask's client: the counts of the groups a supervisor oversees, and the list's bulk change
reporting per task what happened (done, refused with the reason, changed meanwhile), bad input refused in Spanish
with nothing changed."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases, tasks
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD, csrf_of, login

FILER = principal_for("ventanilla2", "clerk", ("ventanilla",))
HOLDER = principal_for("ventanilla1", "clerk", ("ventanilla",))


@pytest.fixture(scope="module")
def filed(web_office) -> list[str]:
    """Three licences filed (their first task in ventanilla's queue), the first claimed by ventanilla1."""
    svc, _app = web_office
    add_user(svc, "jefa_ventanilla", "supervisor", PASSWORD, display_name="Jefa de Ventanilla",
             groups=["ventanilla"])
    ids = [task_rows(svc, cases.start_case(svc, FILER, "licencia", intake()).id)[0]["id"] for _ in range(3)]
    tasks.claim_task(svc, HOLDER, ids[0])
    return ids


def supervisor(app):
    client = app.test_client()
    assert login(client, "jefa_ventanilla").status_code == 302
    return client


def cells(html: str, row_attr: str) -> list[str]:
    row = re.search(rf'<tr {row_attr}>(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def holder_of(svc, task_id: str):
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(models.tasks.c.assignee).where(models.tasks.c.id == task_id)).scalar_one()


def test_the_overview_counts_the_supervised_groups_only(app, filed):
    html = supervisor(app).get("/supervision").get_data(as_text=True)
    assert cells(html, 'data-group="ventanilla"') == ["ventanilla", "3", "2", "0", "0"]
    assert 'data-group="tramite"' not in html and 'data-clerk="tramite1"' not in html
    assert cells(html, 'data-clerk="ventanilla1"') == ["Marta Ixcoy (ventanilla1)", "1", "0", "0"]
    assert 'href="/supervision"' in html  # the navigation offers it
    bad = supervisor(app).get("/supervision?dias=nueve")
    assert bad.status_code == 400 and "días hábiles" in bad.get_data(as_text=True)


def test_bulk_reassign_reports_each_task_and_bad_input_changes_nothing(app, office_svc, filed):
    client = supervisor(app)
    page = client.get("/supervision/tareas?grupo=ventanilla").get_data(as_text=True)
    token = csrf_of(page)
    assert all(f'value="{t}"' in page for t in filed)
    form = {"csrf_token": token, "grupo": "ventanilla", "accion": "reasignar", "asignar_a": "ventanilla2",
            "tarea": filed[:2], f"titular-{filed[0]}": "ventanilla1", f"titular-{filed[1]}": ""}
    nobody = client.post("/supervision/tareas", data={**form, "asignar_a": ""})
    assert nobody.status_code == 400 and "Elija a quién" in nobody.get_data(as_text=True)
    none_marked = client.post("/supervision/tareas", data={**form, "tarea": []})
    assert none_marked.status_code == 400 and "Marque al menos una tarea" in none_marked.get_data(as_text=True)
    assert [holder_of(office_svc, t) for t in filed] == ["ventanilla1", None, None]

    tasks.claim_task(office_svc, HOLDER, filed[1])  # taken after the page was read
    done = client.post("/supervision/tareas", data=form)
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Reasignada a ventanilla2." in cells(html, f'class="outcome-done" data-task="{filed[0]}"')
    assert "Cambió mientras tanto: ahora la tiene Marta Ixcoy (ventanilla1)." in \
        cells(html, f'class="outcome-changed" data-task="{filed[1]}"')
    refused = client.post("/supervision/tareas", data={**form, "asignar_a": "tramite1", "tarea": [filed[2]],
                                                         f"titular-{filed[2]}": ""})
    assert "no pertenece al grupo ventanilla" in cells(refused.get_data(as_text=True),
                                                       f'class="outcome-refused" data-task="{filed[2]}"')[2]
    assert [holder_of(office_svc, t) for t in filed] == ["ventanilla2", "ventanilla1", None]

    released = client.post("/supervision/tareas", data={"csrf_token": token, "oficial": "ventanilla1",
                                                        "accion": "liberar", "tarea": [filed[1]],
                                                        f"titular-{filed[1]}": "ventanilla1"})
    assert "Devuelta a la cola del grupo." in cells(released.get_data(as_text=True),
                                                    f'class="outcome-done" data-task="{filed[1]}"')
    assert holder_of(office_svc, filed[1]) is None
