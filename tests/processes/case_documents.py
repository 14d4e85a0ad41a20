"""What a walked case must hold at the end: its issued documents, in order, with the system's numbers, and in each
PDF's text (pypdf) the case number, the document's own number, the legal basis it cites and what the clerks
filled. One assertion for the walks of every procedure."""
from __future__ import annotations

from tests.conftest import SYSTEM
from tests.documents_helpers import issued
from engine.usecases import cases


def assert_documents(walk, *expected: tuple[str, str | None, list[str]]) -> list[dict]:
    """`expected`: (kind, number or None for the receipt, texts its PDF must show), in the order issued.
    Returns the documents (rows with `text`) for further checks."""
    case_number = cases.get_case(walk.svc, SYSTEM, walk.id)["number"]
    docs = issued(walk.svc, walk.id)
    held = [(d["kind"], d["number"]) for d in docs]
    assert held == [(kind, number) for kind, number, _ in expected], f"the case holds {held}"
    for doc, (kind, number, parts) in zip(docs, expected):
        for part in (case_number, *([number] if number else []), *parts):
            assert part in doc["text"], f"{kind} {number or ''}: {part!r} is not in {doc['text']!r}"
    return docs
