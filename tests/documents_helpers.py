"""Read a case's issued documents in tests: their rows and the text pypdf extracts from their PDFs."""
from __future__ import annotations

import io

import pypdf

from engine.storage import documents


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, pages joined, whitespace collapsed (a word broken across lines reads as two)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def issued(svc, case_id: int) -> list[dict]:
    """The case's documents in the order they were issued: each row (no bytes) plus `pdf` and `text`."""
    with svc.uow(write=False) as uow:
        rows = documents.documents_of_case(uow.conn, case_id)
        out = []
        for row in rows:
            pdf = bytes(documents.document_content(uow.conn, row["id"]))
            out.append({**row, "pdf": pdf, "text": pdf_text(pdf)})
    return out


def kinds_of(svc, case_id: int) -> list[str]:
    """The kinds of the case's documents, in the order they were issued."""
    return [d["kind"] for d in issued(svc, case_id)]
