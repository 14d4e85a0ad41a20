"""The public status page (/consulta): the form, the status of a case for its code and second factor, the same
404 for a wrong code or factor, 429 past the limits, typed HTML escaped, no staff name on the page; the answer to a
previo posted from it (receipt, 409 when the case waits on nothing, 413 and 422 for files refused). (Who may open
each route: tests/web/test_page_authorization.py, the same answers for everyone.)"""
from __future__ import annotations

import hashlib
import io
import re

import pytest

from engine.usecases import cases, tracking
from engine.usecases.attachments import AttachmentStore
from tests.conftest import principal_for
from tests.processes import licencia_walk as lic
from tests.processes.licencia_walk import DPI_ANA, intake
from tests.web.conftest import CLERKS, csrf_of

NOT_FOUND = "No encontramos un expediente con ese código y ese dato."


@pytest.fixture(scope="module")
def filed(web_office):
    """A licence request filed at the desk (with the citizen's e-mail: its receipt is issued at once)."""
    svc, _app = web_office
    return cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake())


def ask(app, code: str, factor: str, client_address: str = "203.0.113.9", client=None):
    client = client or app.test_client()
    form = client.get("/consulta", environ_base={"REMOTE_ADDR": client_address})
    assert form.status_code == 200
    token = csrf_of(form.get_data(as_text=True))
    return client.post("/consulta", data={"codigo": code, "dato": factor, "csrf_token": token},
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


# -- answering a previo from the status page -------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def at_previo(web_office):
    """A new licence request whose previo was issued and notified now: it waits on the citizen."""
    svc, _app = web_office
    walk = lic.Walk(svc, "licencia", intake(), actor="ventanilla1")
    lic.review(lic.receive(walk), complete=False)
    return lic.issue_previo(walk, svc.clock())


class Browser:
    """One browser session (its CSRF token) at one address."""

    def __init__(self, app, address: str = "203.0.113.50"):
        self.app, self.address, self.client = app, address, app.test_client()


def status_page(browser: Browser, code: str) -> str:
    answer = ask(browser.app, code, DPI_ANA[-4:], client_address=browser.address, client=browser.client)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def post_answer(browser: Browser, page: str, files, note: str = ""):
    """Post the status page's answer form as a browser would: its hidden fields, the files and the note."""
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page))
    client, address = browser.client, browser.address
    return client.post("/consulta/respuesta", data={**hidden, "nota": note, "archivos": files},
                       content_type="multipart/form-data", environ_base={"REMOTE_ADDR": address})


def test_the_status_page_of_a_case_waiting_on_a_previo_holds_the_answer_form(app, at_previo):
    page = status_page(Browser(app), at_previo.case.tracking_code)
    assert 'data-stage="previo"' in page and "Lo que usted debe hacer ahora" in page
    assert "Licencia municipal de sonido" in page and "Código Municipal, Decreto 12-2002" in page
    assert 'action="/consulta/respuesta"' in page and 'enctype="multipart/form-data"' in page
    assert f'name="codigo" value="{at_previo.case.tracking_code}"' in page
    assert "/consulta/respuesta?" not in page and f"dato={DPI_ANA[-4:]}" not in page


def test_an_answer_from_the_page_gives_a_receipt_and_the_office_verifies_it(app, at_previo):
    browser = Browser(app)
    page = status_page(browser, at_previo.case.tracking_code)
    answered = post_answer(browser, page, [(io.BytesIO(PDF), "licencia <sonido> & ruido.pdf")],
                           note='<script>alert("nota")</script>')
    receipt = answered.get_data(as_text=True)
    assert answered.status_code == 200, receipt[:500]
    for part in ("Recibimos sus documentos", at_previo.case.number, hashlib.sha256(PDF).hexdigest(),
                 "licencia sonido &amp; ruido.pdf", "&lt;script&gt;alert(&#34;nota&#34;)&lt;/script&gt;",
                 "Le enviamos esta constancia por correo electrónico."):
        assert part in receipt, part
    assert "<script>alert" not in receipt
    assert at_previo.ready() == ["verificar_subsanacion"]  # the office verifies what was presented
    after = status_page(browser, at_previo.case.tracking_code)
    assert 'data-stage="previo"' in after and "answer-form" not in after
    assert "La oficina verifica lo que usted presentó para cumplir el previo." in after
    assert "Usted presentó documentos en línea." in after
    # The form posted again (a second tab, a reload): the case waits on no answer any more.
    again = post_answer(browser, page, [(io.BytesIO(PDF), "otra.pdf")])
    assert again.status_code == 409
    assert "Su expediente no espera documentos de usted en este momento." in again.get_data(as_text=True)


def test_a_case_not_waiting_shows_no_answer_form_and_refuses_one(app, filed):
    browser = Browser(app, "203.0.113.51")
    page = status_page(browser, filed.tracking_code)
    assert "answer-form" not in page and "Lo que usted debe hacer ahora" not in page
    refused = browser.client.post("/consulta/respuesta", data={
        "codigo": filed.tracking_code, "dato": DPI_ANA[-4:],
        "csrf_token": csrf_of(browser.client.get("/consulta").get_data(as_text=True)),
        "archivos": [(io.BytesIO(PDF), "a.pdf")]}, content_type="multipart/form-data")
    assert refused.status_code == 409


def test_a_file_of_another_type_or_too_big_is_refused_and_the_case_still_waits(app, at_previo, monkeypatch,
                                                                                tmp_path):
    browser = Browser(app, "203.0.113.52")
    page = status_page(browser, at_previo.case.tracking_code)
    wrong = post_answer(browser, page, [(io.BytesIO(b"<html>hola</html>"), "a.pdf")])
    assert wrong.status_code == 422 and "Solo se aceptan archivos PDF, PNG o JPEG." in wrong.get_data(as_text=True)
    monkeypatch.setitem(app.extensions, "expediente.attachments", AttachmentStore(directory=tmp_path, max_bytes=64))
    big = post_answer(browser, page, [(io.BytesIO(PDF + b"x" * 100), "a.pdf")])
    assert big.status_code == 413
    none = post_answer(browser, page, [], note="sin archivo")
    assert none.status_code == 400 and "Adjunte al menos un archivo" in none.get_data(as_text=True)
    assert at_previo.ready() == ["recibir_subsanacion"] and "attachment_added" not in at_previo.history()
