"""The public verification page: no login, three outcomes (valid, corrected, not found), the PDF for citizens'
documents only, a byte-for-byte check of an uploaded copy, and nothing written to the database by any of it.
(Who may open each route: tests/web/test_page_authorization.py, the same answers for everyone.)"""
from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import event

from engine.documents import signing
from engine.documents.codes import verification_code
from engine.documents.receipt import receipt_context
from engine.documents.render import render_pdf
from engine.storage.documents import document_of_kind, store_document
from engine.usecases import cases, verification
from engine.usecases.attachments import AttachmentTooLarge
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.web.conftest import csrf_of, login

NOT_FOUND = "No se encontró ningún documento con ese código"


def pdf_bytes(label: str) -> bytes:
    return f"%PDF-1.7\n% {label}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".encode()


@pytest.fixture(scope="module")
def stored(web_office):
    """A citizen's resolution, an internal dictamen, and a resolution corrected by a later one, of one case."""
    svc, _app = web_office
    case = cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake(solicitante_nombre="Ana Boc"))
    issued_at = svc.clock()
    made = {}
    with svc.uow() as uow:
        for name, kind, number, citizen, corrects in (
                ("citizen", "resolucion", "RES-GDCH-2026-0901", True, None),
                ("internal", "dictamen", "DIC-GDCH-2026-0901", False, None),
                ("old", "resolucion", "RES-GDCH-2026-0902", True, None),
                ("new", "resolucion", "RES-GDCH-2026-0903", True, "old")):
            pdf = pdf_bytes(f"{name} {number}")
            row = store_document(uow.conn, case_id=case.id, task_id=None, kind=kind, number=number, year=2026,
                                 code=verification_code(), pdf=pdf, pages=1,
                                 issued_at=issued_at + timedelta(minutes=len(made)), issued_by="juridico1",
                                 citizen_facing=citizen,
                                 corrects_id=made[corrects]["id"] if corrects else None)
            made[name] = {**row, "pdf": pdf, "number": number}
        uow.commit()
    return made


@pytest.fixture
def writes(office_svc):
    """The INSERT/UPDATE/DELETE statements (and write transactions) the requests of a test send."""
    seen = []

    def record(conn, _cursor, statement, _params, _context, _many):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE") \
                or conn.get_execution_options().get("write"):
            seen.append(statement)

    event.listen(office_svc.db, "before_cursor_execute", record)
    yield seen
    event.remove(office_svc.db, "before_cursor_execute", record)


def code_of(document) -> str:
    return document["verification_code"]


def test_a_citizens_document_is_valid_with_its_data_and_pdf(app, stored, writes):
    doc = stored["citizen"]
    answer = app.test_client().get(f"/verificar/{code_of(doc)}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Documento válido" in page and "corregido por" not in page
    for part in ("Resolución", doc["number"], doc["sha256"], hashlib.sha256(doc["pdf"]).hexdigest(),
                 "30/03/2026", "Gobernación Departamental de Chimaltenango",
                 "Documento sin firma electrónica", 'id="doc-signers">Lic. Julio Tubac<'):
        assert part in page, part
    assert f'href="/verificar/{code_of(doc)}/pdf"' in page
    pdf = app.test_client().get(f"/verificar/{code_of(doc)}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data() == doc["pdf"]
    assert writes == []


def test_an_internal_document_shows_that_it_exists_but_not_its_pdf(app, stored, writes):
    doc = stored["internal"]
    page = app.test_client().get(f"/verificar/{code_of(doc)}").get_data(as_text=True)
    assert "Documento válido" in page and doc["number"] in page and doc["sha256"] in page
    assert f"/verificar/{code_of(doc)}/pdf" not in page and "doc-pdf" not in page
    assert app.test_client().get(f"/verificar/{code_of(doc)}/pdf").status_code == 404
    assert writes == []


def test_a_corrected_document_names_the_one_that_corrects_it(app, stored, writes):
    answer = app.test_client().get(f"/verificar/{code_of(stored['old'])}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Documento corregido por RES-GDCH-2026-0903" in page and "Documento válido" not in page
    newer = app.test_client().get(f"/verificar/{code_of(stored['new'])}").get_data(as_text=True)
    assert "Documento válido" in newer
    assert writes == []


@pytest.mark.parametrize("typed", ["0000-0000-0000-0000", "ABCD", "no es un código", "UUUU-UUUU-UUUU-UUUU"])
def test_unknown_and_malformed_codes_are_not_found(app, stored, writes, typed):
    client = app.test_client()
    answer = client.get(f"/verificar/{typed}")
    assert answer.status_code == 404
    assert NOT_FOUND in answer.get_data(as_text=True)
    assert client.get(f"/verificar/{typed}/pdf").status_code == 404
    token = csrf_of(client.get("/entrar").get_data(as_text=True))
    upload = client.post(f"/verificar/{typed}", data={"csrf_token": token,
                                                      "archivo": (io.BytesIO(b"%PDF-1.7"), "x.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 404 and NOT_FOUND in upload.get_data(as_text=True)
    assert writes == []


def test_a_typed_code_is_normalised(app, stored, writes):
    doc = stored["citizen"]
    typed = code_of(doc).lower().replace("-", " ").replace("0", "O").replace("1", "l")
    client = app.test_client()
    assert "Documento válido" in client.get(f"/verificar/{typed}").get_data(as_text=True)
    form = client.get("/verificar")
    assert form.status_code == 200 and 'name="codigo"' in form.get_data(as_text=True)
    sent = client.get("/verificar", query_string={"codigo": typed}, follow_redirects=True)
    assert sent.status_code == 200 and doc["number"] in sent.get_data(as_text=True)
    assert writes == []


def test_an_upload_matches_only_byte_for_byte(app, stored, writes):
    doc = stored["citizen"]
    client = app.test_client()
    page = client.get(f"/verificar/{code_of(doc)}").get_data(as_text=True)
    token = csrf_of(page)

    def upload(data: bytes):
        return client.post(f"/verificar/{code_of(doc)}", content_type="multipart/form-data",
                           data={"csrf_token": token, "archivo": (io.BytesIO(data), "copia.pdf")})

    same = upload(doc["pdf"])
    assert same.status_code == 200 and "coincide byte por byte" in same.get_data(as_text=True)
    changed = bytearray(doc["pdf"])
    changed[-8] ^= 0x01
    other = upload(bytes(changed))
    text = other.get_data(as_text=True)
    assert other.status_code == 200 and "no coincide" in text and "coincide byte por byte" not in text
    assert hashlib.sha256(bytes(changed)).hexdigest() in text
    internal = client.post(f"/verificar/{code_of(stored['internal'])}", content_type="multipart/form-data",
                           data={"csrf_token": token, "archivo": (io.BytesIO(stored["internal"]["pdf"]), "d.pdf")})
    assert "coincide byte por byte" in internal.get_data(as_text=True)
    assert writes == []


def test_an_upload_without_the_forms_token_is_refused(app, stored):
    answer = app.test_client().post(f"/verificar/{code_of(stored['citizen'])}", content_type="multipart/form-data",
                                    data={"archivo": (io.BytesIO(stored["citizen"]["pdf"]), "copia.pdf")})
    assert answer.status_code == 403


def test_the_write_detector_sees_a_write(office_svc, stored, writes):
    """The `writes` fixture the tests above rely on catches a write (this one rolled back)."""
    with office_svc.uow() as uow:
        store_document(uow.conn, case_id=stored["citizen"]["case_id"], task_id=None, kind="oficio", number=None,
                       year=None, code=verification_code(), pdf=b"%PDF", pages=1, issued_at=office_svc.clock(),
                       issued_by=None, citizen_facing=False)
    assert any(statement.lstrip().upper().startswith("INSERT") for statement in writes)


def test_an_upload_larger_than_an_attachment_may_be_is_refused(office_svc, stored):
    with pytest.raises(AttachmentTooLarge):
        verification.check_upload(office_svc, code_of(stored["citizen"]), b"x" * 11, max_bytes=10)
    assert verification.check_upload(office_svc, code_of(stored["citizen"]), b"x" * 10, max_bytes=10)["matches"] \
        is False


def test_an_issued_receipt_verifies_with_the_case_number_and_its_own_pdf(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake())
    clerk = app.test_client()
    login(clerk, "ventanilla1")
    issued = clerk.get(f"/expedientes/{started.id}/constancia.pdf").get_data()
    with office_svc.uow(write=False) as uow:
        receipt = document_of_kind(uow.conn, started.id, "constancia_recepcion")
    public = app.test_client()
    page = public.get(f"/verificar/{receipt['verification_code']}").get_data(as_text=True)
    for part in ("Documento válido", "Constancia de recepción", started.number, hashlib.sha256(issued).hexdigest()):
        assert part in page, part
    assert public.get(f"/verificar/{receipt['verification_code']}/pdf").get_data() == issued


def test_a_signed_document_reports_its_signature_and_a_stored_copy_that_no_longer_matches_it(
        web_office, tmp_path):
    svc, app = web_office
    cert, key, chain = signing.make_demo_certificate(tmp_path / "firma")
    signer = signing.load_signer(str(cert), str(key), str(chain))
    case = cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake(solicitante_nombre="Eva Sut"))
    original = render_pdf("constancia_recepcion.html", receipt_context(
        {"case": {"number": "EXP-X", "tracking_code": "T", "created_at": svc.clock()}, "name": "Licencia"},
        issued_at=svc.clock()))
    signed = signer.sign(original, signer_name="Lic. Julio Tubac", cosigner=None, reason="prueba")
    broken = bytearray(signed)
    at = broken.index(b"/Length", 2000)
    broken[at + 8] = ord("9") if broken[at + 8] != ord("9") else ord("8")
    codes = {}
    with svc.uow() as uow:
        for name, pdf in (("good", signed), ("broken", bytes(broken))):
            codes[name] = verification_code()
            store_document(uow.conn, case_id=case.id, task_id=None, kind="resolucion", number=None, year=None,
                           code=codes[name], pdf=pdf, pages=1, issued_at=svc.clock(), issued_by="juridico1",
                           citizen_facing=True, signature="pades")
        uow.commit()
    before, svc.signer = svc.signer, signer
    try:
        good = app.test_client().get(f"/verificar/{codes['good']}").get_data(as_text=True)
        assert 'data-status="valid"' in good and "DEMOSTRACIÓN" in good
        bad = app.test_client().get(f"/verificar/{codes['broken']}").get_data(as_text=True)
        assert 'data-status="invalid"' in bad
        svc.signer = None  # the office no longer has that certificate: intact, but not vouched for
        assert verification.verify_code(svc, codes["good"])["signature"]["status"] == "untrusted"
    finally:
        svc.signer = before
