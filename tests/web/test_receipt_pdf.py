"""The receipt page links its PDF/A form, which carries the case's receipt data (who may fetch it:
tests/web/test_page_authorization.py); the first download issues it (code, QR, stored with its SHA-256) and
every later one gets the same bytes."""
from __future__ import annotations

import hashlib
import io

import pypdf
from PIL import Image

from engine.documents.codes import verification_code
from engine.documents.render import qr_png, verification_url
from engine.storage import documents
from engine.storage.documents import store_document
from engine.usecases import cases
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.processes.test_solicitud_ciudadana import intake as solicitud_intake
from tests.web.conftest import login


def test_the_receipt_page_links_a_pdf_with_the_receipt_data(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia",
                               intake(solicitante_nombre="Juana Sotz"))
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get(f"/expedientes/{started.id}/constancia").get_data(as_text=True)
    assert f'href="/expedientes/{started.id}/constancia.pdf"' in page
    answer = client.get(f"/expedientes/{started.id}/constancia.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert f"constancia-{started.number}.pdf" in answer.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(answer.get_data()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for part in ("GOBERNACIÓN DEPARTAMENTAL DE CHIMALTENANGO", "CONSTANCIA DE RECEPCIÓN", started.number,
                 started.tracking_code, "Juana Sotz", "ventanilla1"):
        assert part in text


def download_receipt(app, svc, username="ventanilla1"):
    """A new licence case's receipt downloaded by a clerk: (the case, the client, the PDF, the stored row)."""
    started = cases.start_case(svc, principal_for(username), "licencia", intake())
    client = app.test_client()
    login(client, username)
    pdf = client.get(f"/expedientes/{started.id}/constancia.pdf").get_data()
    with svc.uow(write=False) as uow:
        stored = documents.document_of_kind(uow.conn, started.id, "constancia_recepcion")
    return started, client, pdf, stored


def test_the_receipt_is_issued_once_with_its_code_and_qr_and_served_byte_for_byte_after(app, office_svc):
    started, _client, first, stored = download_receipt(app, office_svc)
    assert hashlib.sha256(first).hexdigest() == stored["sha256"] and len(first) == stored["size_bytes"]
    reader = pypdf.PdfReader(io.BytesIO(first))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert stored["verification_code"] in text and len(reader.pages) == stored["pages"]
    # The QR code is the one of {EXPEDIENTE_PUBLIC_BASE_URL}/verificar/<code>, pixel for pixel.
    url = verification_url(office_svc.settings.public_base_url, stored["verification_code"])
    [qr] = [image.image for page in reader.pages for image in page.images]
    assert qr.convert("L").tobytes() == Image.open(io.BytesIO(qr_png(url))).convert("L").tobytes()
    other = app.test_client()
    login(other, "ventanilla2")
    assert other.get(f"/expedientes/{started.id}/constancia.pdf").get_data() == first


def test_the_case_page_lists_the_issued_documents(app, office_svc):
    # A petition filed without an e-mail address has no document until its receipt is first downloaded.
    request = {k: v for k, v in solicitud_intake(telefono="5512 3456").items() if k != "correo"}
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "solicitud_ciudadana", request)
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get(f"/expedientes/{started.id}").get_data(as_text=True)
    assert "Documentos" in page and "Aún no se ha emitido ningún documento." in page
    started, client, pdf, stored = download_receipt(app, office_svc)
    page = client.get(f"/expedientes/{started.id}").get_data(as_text=True)
    row = page[page.index('<table id="documents">'):]
    row = row[:row.index("</table>")]
    for part in (f'href="/expedientes/{started.id}/constancia.pdf">Constancia de recepción</a>', started.number,
                 stored["verification_code"], hashlib.sha256(pdf).hexdigest()[:12], f"<td>{stored['pages']}</td>"):
        assert part in row


def test_the_case_page_links_each_issued_document_to_its_stored_pdf(app, office_svc):
    started, client, _pdf, _stored = download_receipt(app, office_svc)
    with office_svc.uow() as uow:
        oficio = store_document(uow.conn, case_id=started.id, task_id=None, kind="oficio", number="OF-GDCH-2026-0777",
                                year=2026, code=verification_code(), pdf=b"%PDF-1.7 oficio", pages=1,
                                issued_at=office_svc.clock(), issued_by="tramite1", citizen_facing=False)
        uow.commit()
    page = client.get(f"/expedientes/{started.id}").get_data(as_text=True)
    assert f'href="/documentos/{oficio["id"]}.pdf">Oficio</a>' in page
    served = client.get(f"/documentos/{oficio['id']}.pdf")
    assert (served.status_code, served.mimetype, served.get_data()) == (200, "application/pdf", b"%PDF-1.7 oficio")
