"""Public verification of the documents the office issues (`/verificar`): anyone holding a code may check it.

No principal: whoever holds a document's code may verify it, as the QR on the document invites. What is shown is
no more than the document itself says: its kind, number, date of issue, office, SHA-256 and signature status,
whether a newer document corrects it, its recorded signers and the state of its electronic signature (checked
on the stored bytes against the office's configured certificate), and, only for the documents addressed to the citizen (receipt, previo,
resolution, licence, cédula: `citizen_facing`), the original PDF. Internal documents (providencia, dictamen,
oficio) only show that they exist and whether an uploaded copy matches them byte for byte.

Guessing is not rate-limited: codes are 80 random bits (engine/documents/codes.py), so finding any one of even
millions of stored documents by trying codes takes on the order of 2**80 / 10**6 ≈ 10**18 requests. A malformed
code is answered like an unknown one (`status` "not_found", `malformed` True), never with an error.

Every function here only reads (`svc.uow(write=False)`): verifying changes nothing in the database.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select

from engine.accounts.auth import display_names
from engine.documents import kinds, signing
from engine.documents.codes import parse_verification_code
from engine.errors import NotFound
from engine.storage import models
from engine.storage.documents import document_by_code, document_content
from engine.timekeeping.calendar import OFFICE_TZ
from engine.usecases.attachments import DEFAULT_MAX_BYTES, AttachmentTooLarge

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

OFFICE = "Gobernación Departamental de Chimaltenango"
_d = models.documents


def _not_found(typed: str, malformed: bool) -> dict:
    return {"status": "not_found", "malformed": malformed, "typed": typed}


def _lookup(conn, typed: str) -> tuple[dict | None, bool]:
    """(the document row, malformed): None when the code is malformed or unknown."""
    code = parse_verification_code(typed or "")
    if code is None:
        return None, True
    return document_by_code(conn, code), False


def _shown(svc: Services, conn, row: dict) -> dict:
    """The verification of one stored document: what the page shows, and nothing the document does not say."""
    correctors = conn.execute(select(_d.c.number, _d.c.issued_at).where(_d.c.corrects_id == row["id"])
                              .order_by(_d.c.issued_at, _d.c.id)).mappings().all()
    number = row["number"]
    if number is None:  # the receipt carries the case's number, not one of its own
        number = conn.execute(select(models.cases.c.number).where(models.cases.c.id == row["case_id"])).scalar()
    return {"status": "corrected" if correctors else "valid", "malformed": False,
            "code": row["verification_code"], "kind": row["kind"], "title": kinds.title(row["kind"]),
            "number": number, "issued_at": row["issued_at"], "office": OFFICE, "sha256": row["sha256"],
            "size_bytes": row["size_bytes"], "pages": row["pages"], "signed": row["signature"] is not None,
            "signature": _signature(svc, conn, row), "signers": _signers(conn, row),
            "corrected_by": [_label(c) for c in correctors], "citizen_facing": bool(row["citizen_facing"])}


def _signers(conn, row: dict) -> list[dict]:
    """Who signed and co-signed, as recorded at issue: [{"name", "role"}] (role "signer" or "cosigner")."""
    if row.get("signers_json"):
        recorded = orjson.loads(row["signers_json"])
    elif row["issued_by"]:
        recorded = [{"username": row["issued_by"], "role": "signer"}]
    else:
        return []
    names = display_names(conn, [s["username"] for s in recorded if s.get("username")])
    return [{"name": s.get("name") or names.get(s.get("username")) or s.get("username"), "role": s["role"]}
            for s in recorded]


def _signature(svc: Services, conn, row: dict) -> dict:
    """The electronic signature's state, checked now on the stored bytes: "none" for a document issued without
    one; else engine.documents.signing.verify's answer (valid, untrusted, invalid)."""
    if row["signature"] is None:
        return {"status": "none"}
    return signing.verify(bytes(document_content(conn, row["id"])), svc.signer)


def _label(document) -> str:
    """How the page names a correcting document: its number, or (a kind without numbers) its date of issue."""
    return document["number"] or document["issued_at"].astimezone(OFFICE_TZ).strftime("%d/%m/%Y %H:%M")


def verify_code(svc: Services, typed_code: str) -> dict:
    """What the public page tells about a typed code: `status` "valid", "corrected" or "not_found"."""
    with svc.uow(write=False) as uow:
        row, malformed = _lookup(uow.conn, typed_code)
        if row is None:
            return _not_found(typed_code, malformed)
        return _shown(svc, uow.conn, row)


def verified_pdf(svc: Services, typed_code: str) -> dict:
    """The stored PDF of a citizen's document and a file name; an internal or unknown one is NotFound."""
    with svc.uow(write=False) as uow:
        row, _malformed = _lookup(uow.conn, typed_code)
        if row is None or not row["citizen_facing"]:
            raise NotFound("no citizen document has this verification code")
        pdf = document_content(uow.conn, row["id"])
    return {"pdf": bytes(pdf), "filename": f"documento-{row['verification_code']}.pdf"}


def check_upload(svc: Services, typed_code: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Whether an uploaded file is, byte for byte, the document with this code (its SHA-256 equals the stored
    one): the verification of `verify_code` plus `matches` and the upload's hash. Larger than an attachment
    may be: AttachmentTooLarge."""
    if len(data) > max_bytes:
        raise AttachmentTooLarge(f"El archivo supera el límite de {max_bytes // (1024 * 1024)} MiB.",
                                 errors=[{"field": "file", "message": f"más de {max_bytes} bytes"}])
    digest = hashlib.sha256(data).hexdigest()
    shown = verify_code(svc, typed_code)
    if shown["status"] == "not_found":
        return shown
    return {**shown, "matches": digest == shown["sha256"], "uploaded_sha256": digest, "uploaded_bytes": len(data)}
