"""The inbox and cases pages past the counted cap: "Más de …", a pager without a last page, "Siguiente" by cursor."""
from __future__ import annotations

import re

from engine.usecases import cases, inbox
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.web.conftest import login


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_past_the_cap_the_lists_say_more_than_and_page_on_by_cursor(app, office_svc, monkeypatch):
    names = [f"Persona {i:02d}" for i in range(27)]  # more than a page of 25
    for name in names:
        cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake(solicitante_nombre=name))
    monkeypatch.setattr(inbox, "COUNT_CAP", 2)
    monkeypatch.setattr(cases, "COUNT_CAP", 2)
    client = app.test_client()
    login(client, "ventanilla2")
    first = client.get("/bandeja", query_string={"vista": "queue", "orden": "applicant"})
    assert "Más de 2 tareas" in text(first) and "Página 1" in text(first) and " de " not in text(first).split(
        "Página 1")[1][:4]
    html = first.get_data(as_text=True)
    following = re.search(r'href="([^"]*despues=[^"]+)"[^>]*>Siguiente', html)
    assert following, "no Siguiente link with a cursor"
    second = client.get(following.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert [n for n in names if n in text(first)] == names[:25]
    assert [n for n in names if n in text(second)] == names[25:]  # the next page, none of the first again
    assert client.get("/bandeja?vista=queue&despues=roto").status_code == 200  # a broken cursor: the page by number
    assert "Más de 2 expedientes" in text(client.get("/expedientes"))
