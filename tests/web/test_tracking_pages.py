"""The public status page (/consulta): the form, the status of a case for its code and second factor, the same
404 for a wrong code or factor, 429 past the limits, typed HTML escaped, no staff name on the page. (Who may open
each route: tests/web/test_page_authorization.py, the same answers for everyone.)"""
from __future__ import annotations

import re

import pytest

from engine.usecases import cases, tracking
from tests.conftest import principal_for
from tests.processes.licencia_walk import DPI_ANA, intake
from tests.web.conftest import CLERKS, csrf_of

NOT_FOUND = "No encontramos un expediente con ese código y ese dato."


@pytest.fixture(scope="module")
def filed(web_office):
    """A licence request filed at the desk (with the citizen's e-mail: its receipt is issued at once)."""
    svc, _app = web_office
    return cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake())


def ask(app, code: str, factor: str, client_address: str = "203.0.113.9"):
    client = app.test_client()
    form = client.get("/consulta", environ_base={"REMOTE_ADDR": client_address})
    assert form.status_code == 200
    return client.post("/consulta", data={"codigo": code, "dato": factor, "csrf_token": csrf_of(form.get_data(as_text=True))},
                       environ_base={"REMOTE_ADDR": client_address})


def error_of(page: str) -> str:
    found = re.search(r'id="consulta-error">([^<]*)<', page)
    return found.group(1) if found else ""


def test_the_form_needs_no_login_and_asks_code_and_factor_by_post(app):
    answer = app.test_client().get("/consulta")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'method="post"' in page and 'name="codigo"' in page and 'name="dato"' in page
    assert "Últimos 4 dígitos del DPI o correo electrónico" in page and "<script" not in page


def test_the_status_of_a_case_for_its_code_and_dpi(app, filed):
    answer = ask(app, filed.tracking_code.lower(), DPI_ANA[-4:])
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    for part in (filed.number, "Licencia o autorización", 'data-stage="presentado"', "Presentado",
                 "30/03/2026 09:00", "Usted presentó su solicitud.", "Constancia de recepción", "Lo que sigue:"):
        assert part in page, part
    receipt = re.search(r'href="/verificar/([0-9A-Z-]+)/pdf"', page)
    assert receipt and f'href="/verificar/{receipt.group(1)}"' in page
    assert app.test_client().get(f"/verificar/{receipt.group(1)}/pdf").status_code == 200
    assert not [name for name, _groups in CLERKS.values() if name in page]
    assert "ventanilla1" not in page and DPI_ANA not in page and "emitir_constancia" not in page


def test_the_filing_email_is_a_factor_too(app, filed):
    answer = ask(app, filed.tracking_code, "ANA.XICARA@example.com")
    assert answer.status_code == 200 and filed.number in answer.get_data(as_text=True)


def test_a_wrong_code_and_a_wrong_factor_get_the_same_404(app, filed):
    unknown = ask(app, "2" * 10, DPI_ANA[-4:])
    wrong = ask(app, filed.tracking_code, "0000" if DPI_ANA[-4:] != "0000" else "1111")
    assert unknown.status_code == wrong.status_code == 404
    assert NOT_FOUND in error_of(unknown.get_data(as_text=True))
    assert error_of(unknown.get_data(as_text=True)) == error_of(wrong.get_data(as_text=True))
    assert filed.number not in wrong.get_data(as_text=True)


def test_html_typed_in_the_fields_is_escaped(app):
    answer = ask(app, '<script>alert("c")</script>', '"><img src=x onerror=alert(1)>')
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt;" in page


def test_too_many_attempts_from_one_address_get_429_with_retry_after(app, filed, monkeypatch):
    monkeypatch.setattr(tracking, "CLIENT_LIMIT", (600, 2))
    for _ in range(2):
        assert ask(app, "3" * 10, "1234", client_address="198.51.100.77").status_code == 404
    refused = ask(app, filed.tracking_code, DPI_ANA[-4:], client_address="198.51.100.77")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Demasiados intentos" in refused.get_data(as_text=True)
    assert filed.number not in refused.get_data(as_text=True)
    assert ask(app, filed.tracking_code, DPI_ANA[-4:], client_address="198.51.100.78").status_code == 200


def test_the_page_is_in_english_too(app, filed):
    client = app.test_client()
    client.get("/idioma/en")
    form = client.get("/consulta").get_data(as_text=True)
    assert "Tracking code" in form
    page = client.post("/consulta", data={"codigo": filed.tracking_code, "dato": DPI_ANA[-4:],
                                          "csrf_token": csrf_of(form)}).get_data(as_text=True)
    assert "Filed" in page and "You filed your request." in page
