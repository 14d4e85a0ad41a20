"""The administrator's pages through Flask's client: accounts, groups, lanes, closure days and the log."""
from __future__ import annotations

import html
import re

import pytest

from engine.accounts.users import add_user, get_user
from engine.usecases.admin_log import list_admin_log
from tests.conftest import principal_for
from tests.web.conftest import PASSWORD, csrf_of, login

ADMIN = principal_for("jefa")


@pytest.fixture(scope="module")
def office(web_office):
    svc, app = web_office
    add_user(svc, "jefa", "admin", PASSWORD, display_name="Jefa de Informática")
    add_user(svc, "supervisor1", "supervisor", PASSWORD, groups=["ventanilla"])
    return svc, app


def signed_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def post(client, path, data, **kwargs):
    token = csrf_of(client.get("/admin/cierres").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_an_account_created_on_the_page_shows_its_password_once_and_logs_in(office):
    svc, app = office
    client = signed_in(app, "jefa")
    created = post(client, "/admin/usuarios", {"usuario": "lucia", "nombre": "Lucía Xocop", "rol": "clerk",
                                               "correo": "lucia@example.gt", "grupos": ["ventanilla", "tramite"]})
    assert created.status_code == 200
    password = re.search(r'<code id="new-password">([^<]+)</code>', created.get_data(as_text=True)).group(1)
    assert login(app.test_client(), "lucia", html.unescape(password)).status_code == 302
    assert get_user(svc, ADMIN, "lucia")["groups"] == ["tramite", "ventanilla"]
    assert password not in text_of(client.get("/admin/usuarios/lucia"))
    assert password not in text_of(client.get("/admin/registro"))
    entry = list_admin_log(svc, ADMIN, action="user.create")["items"][0]
    assert (entry["actor"], entry["target"]) == ("jefa", "lucia")


def test_bad_input_is_named_in_spanish_and_creates_nothing(office):
    svc, app = office
    client = signed_in(app, "jefa")
    refused = post(client, "/admin/usuarios", {"usuario": "con espacio", "rol": "clerk"})
    assert refused.status_code == 400
    assert "Revise: Usuario (de 1 a 64 letras sin tilde" in text_of(refused)
    refused = post(client, "/admin/usuarios", {"usuario": "mario2", "rol": "clerk", "correo": "sin-arroba"})
    assert refused.status_code == 400 and "Correo electrónico (no es una dirección de correo)" in text_of(refused)
    assert 'value="mario2"' in refused.get_data(as_text=True)  # what was typed stays in the form
    refused = post(client, "/admin/usuarios", {"usuario": "ventanilla1", "rol": "clerk"})
    assert refused.status_code == 409
    assert "mario2" not in [u["username"] for u in list_users(svc)]


def list_users(svc):
    from engine.accounts.users import list_users as listed
    return listed(svc, ADMIN)


def test_a_stale_edit_form_is_refused_and_changes_nothing(office):
    svc, app = office
    add_user(svc, "pablo", "clerk", PASSWORD, display_name="Pablo", groups=["ventanilla"])
    first, second = signed_in(app, "jefa"), signed_in(app, "jefa")
    page_one, page_two = first.get("/admin/usuarios/pablo"), second.get("/admin/usuarios/pablo")
    version = re.search(r'name="version" value="([^"]+)"', page_one.get_data(as_text=True)).group(1)
    assert version in page_two.get_data(as_text=True)
    saved = post(first, "/admin/usuarios/pablo", {"version": version, "nombre": "Pablo Cux", "rol": "supervisor",
                                                  "correo": "", "grupos": ["ventanilla"]}, follow_redirects=True)
    assert "Se guardaron los cambios de la cuenta pablo." in text_of(saved)
    stale = post(second, "/admin/usuarios/pablo", {"version": version, "nombre": "Pablo", "rol": "clerk",
                                                   "correo": "", "grupos": []}, follow_redirects=True)
    assert "Otra persona modificó la cuenta pablo mientras usted la editaba" in text_of(stale)
    pablo = get_user(svc, ADMIN, "pablo")
    assert (pablo["display_name"], pablo["role"], pablo["groups"]) == ("Pablo Cux", "supervisor", ["ventanilla"])


def test_the_last_admin_is_refused_in_spanish(office):
    svc, app = office
    client = signed_in(app, "jefa")
    version = re.search(r'name="version" value="([^"]+)"',
                        client.get("/admin/usuarios/jefa").get_data(as_text=True)).group(1)
    refused = post(client, "/admin/usuarios/jefa", {"version": version, "nombre": "Jefa", "rol": "clerk",
                                                    "correo": ""}, follow_redirects=True)
    assert "jefa es el último administrador activo" in text_of(refused)
    refused = post(client, "/admin/usuarios/jefa/estado", {"activo": "0"}, follow_redirects=True)
    assert "No puede desactivar su propia cuenta." in text_of(refused)
    assert get_user(svc, ADMIN, "jefa")["role"] == "admin"


def test_a_supervisor_reads_the_accounts_without_the_forms(office):
    _svc, app = office
    client = signed_in(app, "supervisor1")
    page = client.get("/admin/usuarios").get_data(as_text=True)
    assert 'data-user="ventanilla1"' in page and 'id="create-user"' not in page
    assert 'id="edit-user"' not in client.get("/admin/usuarios/ventanilla1").get_data(as_text=True)
    assert ">Administración<" not in page  # the navigation's link is the admin's


def test_closure_days_groups_and_lanes_from_the_pages_reach_the_log(office):
    svc, app = office
    client = signed_in(app, "jefa")
    assert ">Administración<" in client.get("/admin").get_data(as_text=True)
    added = post(client, "/admin/cierres", {"dia": "2031-03-17", "motivo": "Emergencia declarada"},
                 follow_redirects=True)
    assert "El 17/03/2031 es día de cierre" in text_of(added) and "Emergencia declarada" in text_of(added)
    again = post(client, "/admin/cierres", {"dia": "2031-03-17", "motivo": "Otra vez"}, follow_redirects=True)
    assert "El 17/03/2031 ya es día de cierre." in text_of(again)
    no_reason = post(client, "/admin/cierres", {"dia": "2031-03-18", "motivo": " "}, follow_redirects=True)
    assert "Escriba el motivo del cierre" in text_of(no_reason)
    removed = post(client, "/admin/cierres/2031-03-17/quitar", {}, follow_redirects=True)
    assert "El 17/03/2031 ya no es día de cierre." in text_of(removed)
    post(client, "/admin/grupos", {"nombre": "caja", "descripcion": "Cobros"})
    post(client, "/admin/grupos/caja/miembros", {"usuario": "ventanilla2"})
    groups = client.get("/admin/grupos").get_data(as_text=True)
    assert re.search(r'data-group="caja".*?ventanilla2', groups, re.S)
    post(client, "/admin/carriles", {"carril": "Caja", "grupo": "caja", "procedimiento": "licencia"})
    assert re.search(r"<td>licencia</td><td>Caja</td><td>caja</td>", client.get("/admin/carriles").get_data(as_text=True))
    log = text_of(client.get("/admin/registro"))
    for label in ("Grupo creado", "Miembro agregado", "Carril asignado"):
        assert label in log
    only_groups = text_of(client.get("/admin/registro?accion=group"))
    assert "Miembro agregado" in only_groups and "Carril asignado</td>" not in only_groups


def test_the_pages_speak_english_on_request(office):
    _svc, app = office
    client = signed_in(app, "jefa")
    client.get("/idioma/en")
    page = client.get("/admin").get_data(as_text=True)
    assert "Administration" in page and "Users" in page and "Closure days" in page
