"""The layout of a case export (a ZIP an outside auditor verifies offline), shared by its writer and its checker.

    events.json               the case's events in case_seq order, each with every stored column and its RFC 6962
                              inclusion proof against the latest checkpoint (EVENT_FIELDS, "inclusion_proof")
    checkpoints/NNNN.txt      the signed checkpoint notes, oldest first, from the first that holds the case's
                              first event to the latest
    checkpoints/consistency.json  the notes in order and a consistency proof between each consecutive pair
    index.json|csv|pdf        the case, its events, documents, attachments and mail, for people
    documents/, attachments/, diagrams/   the issued PDFs, the uploaded files, the BPMN of the case's versions
    LEEME.txt                 what the ZIP holds and how to verify it (Spanish)
    manifest.json             every other member's SHA-256 and size, the case, the key id, the export time
    manifest.sig              the office key's Ed25519 signature of manifest.json's bytes, base64, one line
Hashes are lowercase hex. FORMAT is raised when the layout changes incompatibly.
"""
from __future__ import annotations

import re
import unicodedata

FORMAT = 1
EVENTS = "events.json"
CONSISTENCY = "checkpoints/consistency.json"
INDEX_JSON, INDEX_CSV, INDEX_PDF = "index.json", "index.csv", "index.pdf"
README = "LEEME.txt"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
DOCUMENTS, ATTACHMENTS, DIAGRAMS, CHECKPOINTS = "documents/", "attachments/", "diagrams/", "checkpoints/"
# Every stored column of an event, as events.json carries it (`at` as canonical.timestamp text).
EVENT_FIELDS = ("id", "seq", "case_id", "case_seq", "at", "kind", "element_id", "task_id", "actor", "data_json",
                "changes_json", "leaf_hash", "case_chain", "chain")
MAX_NAME_CHARS = 120

_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_name(text: str) -> str:
    """A file name made of letters, digits, '.', '-' and '_' only (no separators, no leading dot)."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", str(text))).strip("._")
    return name[:MAX_NAME_CHARS] or "archivo"


def checkpoint_name(position: int) -> str:
    return f"{CHECKPOINTS}{position + 1:04d}.txt"
