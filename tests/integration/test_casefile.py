"""The electronic case file (engine/usecases/casefile.py, engine/documents/casefile.py) on SQLite and PostgreSQL:
documents and attachments in the order they were added with their folios, and the compiled "Expediente
completo" with its foliated index and a "Folio N de M" stamp on every page."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pypdf
import pytest
from PIL import Image

from engine.accounts.permissions import CaseNotFound
from engine.documents import casefile as layout
from engine.documents.codes import verification_code
from engine.storage import documents
from engine.usecases import cases
from engine.usecases import documents as document_cases
from engine.usecases.attachments import AttachmentStore, add_attachment
from engine.usecases.casefile import case_file_index, case_file_pdf
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM, bpmn_fixture, principal_for

CLERK = principal_for("oficial1", role="clerk", groups=("ventanilla",))
OUTSIDER = principal_for("juridico1", role="clerk", groups=("juridico",))
A4, LETTER_LANDSCAPE = (595.28, 841.89), (792, 612)


def blank_pdf(*sizes: tuple[float, float], rotate: int = 0) -> bytes:
    """A PDF of blank pages of these sizes (points); the last one rotated by `rotate`."""
    writer = pypdf.PdfWriter()
    for width, height in sizes:
        writer.add_blank_page(width, height)
    if rotate:
        writer.pages[-1].rotate(rotate)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def locked_pdf() -> bytes:
    """A PDF that opens only with a password."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(*A4)
    writer.encrypt(user_password="secreto", owner_password="dueño", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png(color: str, size=(300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def case_id(svc):
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    return cases.start_case(svc, principal_for("oficial1"), "five_step", {"amount": 10}).id


@pytest.fixture
def store(tmp_path):
    return AttachmentStore(tmp_path / "attachments")


def attach(svc, store, case_id, name: str, content: bytes) -> dict:
    svc.clock.advance(minutes=1)
    return add_attachment(svc, CLERK, store, case_id, name, io.BytesIO(content))


def issue(svc, case_id, pdf: bytes) -> dict:
    """A document stored as issued now (its pages counted as the issuing code counts them)."""
    svc.clock.advance(minutes=1)
    with svc.uow() as uow:
        row = documents.store_document(
            uow.conn, case_id=case_id, task_id=None, kind="providencia", number="PROV-2026-0001", year=2026,
            code=verification_code(), pdf=pdf, pages=document_cases.page_count(pdf), issued_at=svc.clock(),
            issued_by="oficial1", citizen_facing=False)
        uow.commit()
    return row


def pages_text(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_attachments_record_their_pages_and_an_unreadable_pdf_is_accepted_without(svc, case_id, store):
    assert attach(svc, store, case_id, "dos.pdf", blank_pdf(A4, A4))["pages"] == 2
    assert attach(svc, store, case_id, "foto.png", png("red"))["pages"] == 1
    assert attach(svc, store, case_id, "dañado.pdf", b"%PDF-1.4\nnot a pdf at all\n%%EOF\n")["pages"] is None
    assert attach(svc, store, case_id, "con-clave.pdf", locked_pdf())["pages"] is None
    assert layout.content_pages(b"PK\x03\x04 a zip", "application/zip") is None


def test_the_index_lists_documents_and_attachments_in_the_order_added_with_their_folios(svc, case_id, store):
    receipt = document_cases.receipt_pdf(svc, CLERK, case_id)  # the first document (1 page)
    scan = attach(svc, store, case_id, "solicitud.pdf", blank_pdf(A4, LETTER_LANDSCAPE, rotate=90))
    photo = attach(svc, store, case_id, "croquis.png", png("blue"))
    broken = attach(svc, store, case_id, "dañado.pdf", b"%PDF-1.4\nnot a pdf at all\n%%EOF\n")
    ruling = issue(svc, case_id, blank_pdf(A4, A4, A4))
    index = case_file_index(svc, CLERK, case_id)
    rows = [(e["kind"], e["title"], e["pages"], e["folio_first"], e["folio_last"], e["included"])
            for e in index["entries"]]
    assert rows == [("documento", "Constancia de recepción", 1, 2, 2, True),
                    ("anexo", "solicitud.pdf", 2, 3, 4, True),
                    ("anexo", "croquis.png", 1, 5, 5, True),
                    ("anexo", "dañado.pdf", None, None, None, False),
                    ("documento", "Providencia", 3, 6, 8, True)]
    assert index["index_folios"] == 1 and index["folios"] == 8
    assert [e["sha256"] for e in index["entries"]] == [receipt["sha256"], scan["sha256"], photo["sha256"],
                                                       broken["sha256"], ruling["sha256"]]
    assert [e["number"] for e in index["entries"]][-1] == "PROV-2026-0001"
    added = [e["added_at"] for e in index["entries"]]
    assert added == sorted(added)


def test_the_case_file_pdf_is_the_index_then_every_page_each_stamped_with_its_folio(svc, case_id, store):
    document_cases.receipt_pdf(svc, CLERK, case_id)
    attach(svc, store, case_id, "solicitud.pdf", blank_pdf(A4, LETTER_LANDSCAPE, rotate=90))
    attach(svc, store, case_id, "croquis.png", png("blue", size=(200, 900)))
    attach(svc, store, case_id, "dañado.pdf", b"%PDF-1.4\nnot a pdf at all\n%%EOF\n")
    issue(svc, case_id, blank_pdf(A4, A4, A4))
    made = case_file_pdf(svc, CLERK, store, case_id)
    number = case_file_index(svc, CLERK, case_id)["number"]
    assert made["filename"] == f"expediente-{number}.pdf" and made["folios"] == 8
    text = pages_text(made["pdf"])
    assert len(text) == 1 + 1 + 2 + 1 + 3  # the index, then every included entry's pages
    for n, page in enumerate(text, start=1):
        assert re.findall(r"Folio (\d+) de (\d+)", page) == [(str(n), "8")], page
    index = text[0]
    for part in ("ÍNDICE DEL EXPEDIENTE", number, "Constancia de recepción", "solicitud.pdf", "croquis.png",
                 "dañado.pdf", "No incluido", "páginas desconocidas", "Providencia · PROV-2026-0001", "SHA-256"):
        assert part in index, part
    assert "CONSTANCIA DE RECEPCIÓN" in text[1] and "Código de verificación" in text[1]
    reader = pypdf.PdfReader(io.BytesIO(made["pdf"]))
    assert [len(page.images) for page in reader.pages][4] == 1  # the image is its own page
    # The landscape page turned by 90° is shown upright (612 × 792) with the stamp on that upright top right.
    turned = reader.pages[3]
    assert turned.rotation == 0 and (float(turned.mediabox.width), float(turned.mediabox.height)) == (612, 792)
    # Bookmarks: the index, then each included entry at its first folio.
    assert [(item.title, reader.get_destination_page_number(item)) for item in reader.outline] == [
        ("Índice", 0), ("1. Constancia de recepción (folio 2)", 1), ("2. solicitud.pdf (folio 3)", 2),
        ("3. croquis.png (folio 5)", 4), ("5. Providencia · PROV-2026-0001 (folio 6)", 5)]


def test_every_sha256_in_the_index_is_the_stored_files(svc, case_id, store):
    pdf = blank_pdf(A4)
    attach(svc, store, case_id, "uno.pdf", pdf)
    made = case_file_pdf(svc, CLERK, store, case_id)
    assert hashlib.sha256(pdf).hexdigest() in pages_text(made["pdf"])[0]


def test_a_long_index_takes_the_pages_it_was_counted_to_take(svc, case_id, store):
    """Entries beyond the first index page push every folio on; the rendered index has the counted pages
    (long names are cut, never wrapped)."""
    count = layout.INDEX_FIRST_PAGE_ROWS + layout.INDEX_NEXT_PAGE_ROWS + 1
    for i in range(count):
        attach(svc, store, case_id, f"{i:02d} " + "anexo de nombre muy largo que no cabe en su columna " * 3 + ".png",
               png("green", size=(20, 20)))
    index = case_file_index(svc, CLERK, case_id)
    assert index["index_folios"] == 3 == layout.index_pages(count)
    assert [(e["folio_first"], e["folio_last"]) for e in index["entries"]][:2] == [(4, 4), (5, 5)]
    text = pages_text(case_file_pdf(svc, CLERK, store, case_id)["pdf"])
    assert len(text) == 3 + count
    assert all(f"Folio {n} de {3 + count}" in page for n, page in enumerate(text, start=1))
    assert "Índice, página 3 de 3" in text[2] and f"{count - 1:02d} anexo" in text[2]
    assert "Índice" not in text[3]


def test_an_empty_case_file_is_its_index_alone(svc, case_id, store):
    made = case_file_pdf(svc, CLERK, store, case_id)
    [page] = pages_text(made["pdf"])
    assert "Folio 1 de 1" in page and "aún no tiene documentos ni anexos" in page


def test_a_clerk_outside_the_cases_group_finds_no_case_file(svc, case_id, store):
    attach(svc, store, case_id, "uno.pdf", blank_pdf(A4))
    with pytest.raises(CaseNotFound):
        case_file_index(svc, OUTSIDER, case_id)
    with pytest.raises(CaseNotFound):
        case_file_pdf(svc, OUTSIDER, store, case_id)
    assert case_file_index(svc, SYSTEM, case_id)["folios"] == 2
