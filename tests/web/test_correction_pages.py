"""Correcting an issued document from the case page: a «Corregir» link for supervisors and administrators on each
document but the receipt and those already corrected, /documentos/<id>/corregir with the document's fields
prefilled and the reason, the correction issued and named on return (who may open it:
tests/web/test_page_authorization.py; the correction itself: tests/integration/test_corrections.py)."""
from __future__ import annotations

import json
import re

import pytest

from engine.accounts.users import add_user
from engine.storage import documents
from engine.usecases import corrections
from tests.api.probes import issued_document
from tests.conftest import principal_for
from tests.web.conftest import PASSWORD, csrf_of, login


@pytest.fixture(scope="module")
def people(web_office):
    svc, _app = web_office
    add_user(svc, "supervisor1", "supervisor", PASSWORD, groups=["ventanilla", "tramite"])
    return svc


def signed_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def document_row(svc, document_id: int) -> dict:
    with svc.uow(write=False) as uow:
        return documents.document_by_id(uow.conn, document_id)


def correct_links(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/documentos/(\d+)/corregir"', page)]


def test_a_supervisor_corrects_a_document_from_the_case_page(app, people):
    svc = people
    original = document_row(svc, issued_document(svc))
    case_id = original["case_id"]
    client = signed_in(app, "supervisor1")
    page = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    # The probe's case holds the resolution the licence cites, then the licence: both may be corrected.
    assert correct_links(page) == [original["id"] - 1, original["id"]]

    form = client.get(f"/documentos/{original['id']}/corregir")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and original["number"] in html
    # The form's own input for the field (a date), prefilled.
    assert re.search(r'<input type="date" id="f-certificado_vigencia_hasta" name="certificado_vigencia_hasta"\s+'
                     r'value="2030-01-12"', html)
    assert 'name="motivo"' in html and "Motivo de la corrección" in html
    assert re.search(r'<label for="f-certificado_vigencia_hasta">Vigente hasta', html)  # the form's title

    # Without a reason: the form again (422), the field marked, what was typed kept; nothing issued.
    refused = client.post(f"/documentos/{original['id']}/corregir", data={
        "csrf_token": csrf_of(html), "submission_token": "a" * 32, "certificado_vigencia_hasta": "2030-01-13",
        "motivo": "  "})
    again = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="f-motivo-error"' in again and 'value="2030-01-13"' in again
    with svc.uow(write=False) as uow:
        assert [d["id"] for d in documents.documents_of_case(uow.conn, case_id)][-1] == original["id"]

    done = client.post(f"/documentos/{original['id']}/corregir", data={
        "csrf_token": csrf_of(html), "submission_token": "b" * 32, "certificado_vigencia_hasta": "2030-01-13",
        "motivo": "La feria termina el día 13."})
    assert done.status_code == 302 and done.location.endswith(f"/expedientes/{case_id}")
    with svc.uow(write=False) as uow:
        correction = documents.documents_of_case(uow.conn, case_id)[-1]
    assert correction["corrects_id"] == original["id"] and correction["kind"] == "licencia"
    assert json.loads(correction["data_json"])["certificado_vigencia_hasta"] == "2030-01-13"
    assert correction["correction_reason"] == "La feria termina el día 13"
    page = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    assert f"Se emitió {correction['number']}, que corrige {original['number']}." in page
    assert original["id"] not in correct_links(page) and correction["id"] in correct_links(page)
    assert f"Corregido por {correction['number']}" in page and f"Corrige {original['number']}" in page

    # The same submission again changes nothing; the original's form says which document corrects it.
    replay = client.post(f"/documentos/{original['id']}/corregir", data={
        "csrf_token": csrf_of(html), "submission_token": "b" * 32, "certificado_vigencia_hasta": "2030-01-13",
        "motivo": "La feria termina el día 13."})
    assert replay.status_code == 302
    with svc.uow(write=False) as uow:
        assert documents.documents_of_case(uow.conn, case_id)[-1]["id"] == correction["id"]
    shown = client.get(f"/documentos/{original['id']}/corregir").get_data(as_text=True)
    assert 'id="already-corrected"' in shown and correction["number"] in shown and 'id="correction-form"' not in shown


def test_a_clerk_sees_no_correct_link_and_cannot_open_the_form(app, people):
    svc = people
    original = document_row(svc, issued_document(svc))
    client = signed_in(app, "ventanilla1")
    page = client.get(f"/expedientes/{original['case_id']}")
    assert page.status_code == 200 and correct_links(page.get_data(as_text=True)) == []
    assert "Corrección" not in page.get_data(as_text=True)  # nothing corrected here: no column for him
    assert client.get(f"/documentos/{original['id']}/corregir").status_code == 403
    # Once corrected, he reads which document corrects it, and still may not correct either.
    made = corrections.correct_document(svc, principal_for("supervisor1", role="supervisor"), original["id"], {},
                                        "Fecha equivocada")
    page = client.get(f"/expedientes/{original['case_id']}").get_data(as_text=True)
    assert f"Corregido por {made['number']}" in page and correct_links(page) == []


def test_the_correction_page_follows_the_pages_language(app, people):
    original = document_row(people, issued_document(people))
    client = signed_in(app, "supervisor1")
    client.get("/idioma/en")
    page = client.get(f"/documentos/{original['id']}/corregir").get_data(as_text=True)
    assert "Reason for the correction" in page and "Issue the correction" in page
    assert ">Correct<" in client.get(f"/expedientes/{original['case_id']}").get_data(as_text=True)


def test_each_field_keeps_its_forms_input_where_it_holds_a_text_or_a_list_of_texts(app):
    from web.case_pages import _correction_schema, _same
    shown = [{"name": "forma", "label": "Forma", "list": False, "required": True, "value": "personal",
              "schema": {"type": "string", "enum": ["personal", "correo"], "readOnly": True}},
             {"name": "cuando", "label": None, "list": False, "required": True, "value": "2026-06-26T16:00:00+00:00",
              "schema": {"type": "string", "format": "date-time"}},
             {"name": "puntos", "label": "Puntos", "list": True, "required": True, "value": ["Uno"],
              "schema": {"type": "array", "items": {"type": "string"}}},
             {"name": "votos", "label": "Votos", "list": False, "required": False, "value": "3",
              "schema": {"type": "integer"}},  # stored as a text: a text area, not a number input
             {"name": "nota", "label": None, "list": False, "required": False, "value": "x", "schema": None}]
    with app.test_request_context():
        schema = _correction_schema(shown)
    props = schema["properties"]
    assert props["forma"]["enum"] == ["personal", "correo"] and "readOnly" not in props["forma"]
    assert props["cuando"]["format"] == "date-time" and props["cuando"]["title"] == "Cuando"
    assert props["puntos"]["description"] == "Un elemento por línea."
    assert props["votos"] == {"type": "string", "x-multilinea": True, "title": "Votos"}
    assert props["nota"]["x-multilinea"] is True and schema["required"] == ["forma", "cuando", "puntos"]
    # The page posts the office's local time: the same moment is no change.
    assert _same("2026-06-26T10:00:00-06:00", "2026-06-26T16:00:00+00:00")
    assert not _same("2026-06-26T11:00:00-06:00", "2026-06-26T16:00:00+00:00") and not _same("a", "b")
