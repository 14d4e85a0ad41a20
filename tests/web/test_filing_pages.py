"""The online filing pages (/tramites): no login, the desk's form with file inputs, «Revise su correo», a
confirmation button that files nothing on GET, and the filed case's number, tracking code and receipt on POST.
What the citizen typed is escaped on every page. (Who may open each route: tests/web/test_page_authorization.py.)"""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from engine.mail.notifications import outbox_rows
from engine.storage import models
from engine.usecases.attachments import AttachmentStore
from tests.integration.test_online_filing import HTML, PDF, laip
from tests.web.conftest import as_form, csrf_of

FILING = "/tramites/solicitud_ciudadana"


def client_at(app, address: str):
    """A citizen's browser from its own address (the per-client limit counts each)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def send(client, data: dict, files=()):
    page = client.get(FILING)
    assert page.status_code == 200
    form = {**as_form(data), "csrf_token": csrf_of(page.get_data(as_text=True))}
    form["archivos"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(FILING, data=form, content_type="multipart/form-data")


def token_for(svc, email: str) -> str:
    body = [m["body"] for m in outbox_rows(svc) if m["kind"] == "confirmar_solicitud" and m["to_address"] == email][-1]
    return re.search(r"/tramites/confirmar/(\S+)", body).group(1)


def cases_count(svc) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(models.cases)).scalar_one()


def test_the_list_says_what_each_procedure_needs(app):
    page = app.test_client().get("/tramites").get_data(as_text=True)
    for text in ('href="/tramites/licencia"', 'href="/tramites/solicitud_ciudadana"', "Solicitud ciudadana",
                 "Nombre del solicitante", "correo electrónico"):
        assert text in page, text
    assert 'href="/tramites/mediacion_tierras"' not in page
    assert "Correo electrónico;" not in page  # said once, for every procedure
    assert app.test_client().get("/tramites/mediacion_tierras").status_code == 404


def test_the_form_is_the_desks_with_files_and_the_confirmation_note(app):
    page = app.test_client().get(FILING).get_data(as_text=True)
    for text in ('enctype="multipart/form-data"', 'type="file"', 'name="archivos"', 'name="solicitante_dpi"',
                 'name="lugar_residencia"', "Fuera del departamento de Chimaltenango", "correo electrónico",
                 "48 horas"):
        assert text in page, text
    assert 'name="canal"' not in page  # filed online: the channel is not the citizen's to choose
    # The fields come in the form's own order (the version's stored forms keep it), the name first.
    order = [page.index(f'name="{name}"') for name in ("solicitante_nombre", "solicitante_dpi", "municipio",
                                                       "lugar_residencia", "solicitud_categoria", "asunto",
                                                       "resumen", "correo", "telefono")]
    assert order == sorted(order)


def test_a_filing_is_sent_confirmed_once_and_shows_the_case(app, office_svc):
    citizen = client_at(app, "203.0.113.20")
    before = cases_count(office_svc)
    sent = send(citizen, laip(correo="ines@example.gt"), files=[("carta.pdf", PDF)])
    assert sent.status_code == 200
    text = sent.get_data(as_text=True)
    assert "Revise su correo" in text and "ines@example.gt" in text
    token = token_for(office_svc, "ines@example.gt")

    button = citizen.get(f"/tramites/confirmar/{token}")
    assert button.status_code == 200 and "Confirmar y presentar" in button.get_data(as_text=True)
    assert cases_count(office_svc) == before  # a mail scanner following the link files nothing

    confirm = {"csrf_token": csrf_of(button.get_data(as_text=True))}
    done = citizen.post(f"/tramites/confirmar/{token}", data=confirm)
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    with office_svc.uow(write=False) as uow:
        case = uow.conn.execute(select(models.cases).order_by(models.cases.c.id.desc()).limit(1)).mappings().one()
        code = uow.conn.execute(select(models.documents.c.verification_code)
                                .where(models.documents.c.case_id == case["id"])).scalar_one()
    for text in (case["number"], case["tracking_code"], 'href="/consulta"', f'href="/verificar/{code}/pdf"'):
        assert text in page, text
    assert citizen.get(f"/verificar/{code}/pdf").data.startswith(b"%PDF-")
    again = citizen.post(f"/tramites/confirmar/{token}", data=confirm)
    assert again.status_code == 200 and case["number"] in again.get_data(as_text=True)
    assert case["number"] in citizen.get(f"/tramites/confirmar/{token}").get_data(as_text=True)
    assert cases_count(office_svc) == before + 1


def test_html_typed_in_every_field_comes_back_escaped(app, office_svc):
    citizen = client_at(app, "203.0.113.21")
    data = laip(solicitante_nombre=HTML, lugar_residencia=HTML, asunto=HTML, resumen=HTML,
                direccion_notificaciones=HTML, correo="no es un correo")
    refused = send(citizen, data)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "<script>" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;" in page and "&lt;b onmouseover=alert(1)&gt;" in page
    assert "correo electrónico" in page.lower()
    sent = send(citizen, data | {"correo": "html@example.gt"}, files=[(HTML + ".pdf", PDF)])
    assert sent.status_code == 200 and "<script>" not in sent.get_data(as_text=True)
    token = token_for(office_svc, "html@example.gt")
    button = citizen.get(f"/tramites/confirmar/{token}")
    done = citizen.post(f"/tramites/confirmar/{token}", data={"csrf_token": csrf_of(button.get_data(as_text=True))})
    assert done.status_code == 200 and "<script>" not in done.get_data(as_text=True)


def test_refused_uploads_keep_the_form_with_the_files_error(app, monkeypatch):
    citizen = client_at(app, "203.0.113.22")
    wrong = send(citizen, laip(correo="ana.b@example.gt"), files=[("nota.pdf", b"<html>texto</html>")])
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "Solo se aceptan archivos PDF, PNG o JPEG." in page and 'value="ana.b@example.gt"' in page
    store = app.extensions["expediente.attachments"]
    monkeypatch.setitem(app.extensions, "expediente.attachments",
                        AttachmentStore(directory=store.directory, max_bytes=len(PDF) - 1))
    big = send(citizen, laip(correo="ana.b@example.gt"), files=[("carta.pdf", PDF)])
    assert big.status_code == 413 and "supera el límite" in big.get_data(as_text=True)


def test_unknown_and_expired_links_get_a_clear_page(app, office_svc):
    citizen = client_at(app, "203.0.113.24")
    token_form = csrf_of(citizen.get(FILING).get_data(as_text=True))
    for response in (citizen.get("/tramites/confirmar/no-existe"),
                     citizen.post("/tramites/confirmar/no-existe", data={"csrf_token": token_form})):
        assert response.status_code == 404
        assert "no corresponde a ninguna solicitud" in response.get_data(as_text=True)
    assert send(citizen, laip(correo="tarde@example.gt")).status_code == 200
    token = token_for(office_svc, "tarde@example.gt")
    saved = office_svc.clock.now
    try:
        office_svc.clock.advance(hours=48)
        for response in (citizen.get(f"/tramites/confirmar/{token}"),
                         citizen.post(f"/tramites/confirmar/{token}", data={"csrf_token": token_form})):
            assert response.status_code == 410 and "venció" in response.get_data(as_text=True)
    finally:
        office_svc.clock.now = saved


def test_too_many_filings_from_one_address_get_429(app):
    citizen = client_at(app, "203.0.113.23")
    for n in range(5):
        assert send(citizen, laip(correo=f"lote{n}@example.gt")).status_code == 200
    limited = send(citizen, laip(correo="lote9@example.gt"))
    assert limited.status_code == 429 and "demasiadas solicitudes" in limited.get_data(as_text=True)
