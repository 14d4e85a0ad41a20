"""What a walked case holds at the end: its issued documents, in order, each read back with pypdf.

One assertion for the walks of the mediation, CODEDE session and prioritization procedures: the kinds and numbers
in the order they were issued, and in each document's text the case number, its own number, the legal basis its
kind must cite and the parts the walk filled in."""
from __future__ import annotations

from tests.documents_helpers import issued

# The legal basis each kind cites (a fixed text of its template).
BASIS = {
    "acta_admision": "Decreto 114-97", "acta_inspeccion": "Decreto 114-97", "acta_sesion": "Decreto 114-97",
    "acta_mediacion": "Decreto 114-97", "acta_cierre": "Decreto 114-97", "oficio": "Decreto 114-97",
    "codede_convocatoria": "Decreto 11-2002", "codede_acta": "Decreto 11-2002",
    "codede_resolucion": "Decreto 11-2002", "cedula_notificacion": "Decreto 119-96",
}


def assert_documents(walk, expected: list[tuple[str, str, list[str]]]) -> list[dict]:
    """`expected`: (kind, number, texts it must show) for every document of the case, in the order issued."""
    docs = issued(walk.svc, walk.id)
    assert [(d["kind"], d["number"]) for d in docs] == [(kind, number) for kind, number, _ in expected]
    for doc, (kind, number, parts) in zip(docs, expected):
        for part in (walk.case.number, number, BASIS[kind], *parts):
            assert part in doc["text"], f"{kind} {number}: {part!r} missing from {doc['text']!r}"
    return docs
