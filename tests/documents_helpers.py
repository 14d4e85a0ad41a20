"""Read a case's issued documents in tests: their rows and the text pypdf extracts from their PDFs."""
from __future__ import annotations

import io

import pypdf

from engine.documents import kinds
from engine.documents.render import render_pdf
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


def assert_issued_text(kind: str, context: dict, number: str, parts) -> str:
    """Render `kind` with `context` and check its text: the sample case's number, the document's `number`, the
    sample code, each of `parts`, and no BORRADOR mark (an issued document). Returns the text."""
    text = pdf_text(render_pdf(kinds.kind(kind).template, context))
    for part in ("EXP-GDCH-2026-00042", number, "7KQ2-M9XD-4TRB-PW3H", *parts):
        assert part in text, f"{kind}: {part!r} missing from {text!r}"
    assert "BORRADOR" not in text
    return text
