"""The electronic case file: a case's documents and attachments in the order they were added, foliated, and the
whole compiled as one PDF ("Expediente completo") on demand.

The entries come from the rows already stored (issued documents: `documents`; attachments with the pages
counted at upload), so the index costs two indexed reads and no rendering; the foliation itself and the PDF
are engine/documents/casefile.py's. The compiled PDF is a copy: it is not stored and has no verification code
(each original keeps its own)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.documents import casefile
from engine.documents import kinds
from engine.storage import documents, models
from engine.usecases.attachments import AttachmentStore, attachments_of

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

DOCUMENT, ATTACHMENT = "documento", "anexo"
_c = models.cases


def case_file_entries(issued: list[dict], attachments: list[dict]) -> tuple[list[dict], int]:
    """The foliated entries of a case file and its total of folios, from the case's document rows (those of
    storage.documents or usecases.documents.documents_shown) and attachment rows: in the order they were added
    (issued_at / uploaded_at, then id), each with kind ("documento"/"anexo"), id, title (the kind's title, or
    the file's name), number, added_at, pages, sha256, content_type and its folios (casefile.foliate)."""
    entries = [{"kind": DOCUMENT, "id": d["id"], "title": kinds.title(d["kind"]), "number": d["number"],
                "added_at": d["issued_at"], "pages": d["pages"], "sha256": d["sha256"],
                "content_type": "application/pdf"} for d in issued]
    entries += [{"kind": ATTACHMENT, "id": a["id"], "title": a["filename"], "number": None,
                 "added_at": a["uploaded_at"], "pages": a["pages"], "sha256": a["sha256"],
                 "content_type": a["content_type"]} for a in attachments]
    entries.sort(key=lambda e: (e["added_at"], e["id"], e["kind"]))
    return casefile.foliate(entries)


@use_case("case.read")
def case_file_index(svc: Services, principal: Principal, case_id: int) -> dict:
    """The case file's foliated index: the case's id and number, how many folios the index and the whole file
    take, and the entries (see case_file_entries)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        entries, folios = case_file_entries(documents.documents_of_case(conn, case_id), attachments_of(conn, case_id))
        return {"case_id": case_id, "number": _number(conn, case_id),
                "index_folios": casefile.index_pages(len(entries)), "folios": folios, "entries": entries}


@use_case("case.read")
def case_file_pdf(svc: Services, principal: Principal, store: AttachmentStore, case_id: int) -> dict:
    """The whole case file as one PDF: the foliated index, then every included document and attachment, every
    page stamped "Folio N de M"; with a file name and the folio count. Made on demand, not stored."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        number = _number(conn, case_id)
        attached = attachments_of(conn, case_id)
        entries, folios = case_file_entries(documents.documents_of_case(conn, case_id), attached)
        contents = {(DOCUMENT, e["id"]): documents.document_content(conn, e["id"])
                    for e in entries if e["included"] and e["kind"] == DOCUMENT}
    # The attachments' files are read, and everything rendered, after the read transaction.
    files = {a["id"]: a["stored_name"] for a in attached}
    contents |= {(ATTACHMENT, e["id"]): store.path(files[e["id"]]).read_bytes()
                 for e in entries if e["included"] and e["kind"] == ATTACHMENT}
    parts = [casefile.Part(content=contents[e["kind"], e["id"]], content_type=e["content_type"], pages=e["pages"],
                           name=e["title"]) for e in entries if e["included"]]
    pdf = casefile.compile_case_file(case_number=number, compiled_at=svc.clock(), entries=entries, total=folios,
                                     parts=parts)
    return {"pdf": pdf, "filename": f"expediente-{number}.pdf", "folios": folios}


def _number(conn, case_id: int) -> str:
    return conn.execute(select(_c.c.number).where(_c.c.id == case_id)).scalar_one()
