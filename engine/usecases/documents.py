"""Use cases on the documents a case produces: the filing receipt (constancia de recepción), issued once, and
what the case page lists of its documents (the other kinds are issued by the diagrams' steps: issuing.py).

The first request for a case's receipt issues it: a fresh verification code, the PDF/A rendered with the code
and its QR (pointing to `{EXPEDIENTE_PUBLIC_BASE_URL}/verificar/<code>`), stored with its SHA-256 in `documents`
(engine/storage/documents.py). Every later request serves the stored bytes unchanged, so every copy a citizen
prints is the same file and matches its hash. When the intake gives the citizen's e-mail address, the receipt
is issued at filing instead (`issue_receipt_now`, in the filing's transaction) and mailed with it attached."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.documents import kinds
from engine.documents.codes import verification_code
from engine.documents.receipt import receipt_context
from engine.documents.render import render_pdf
from engine.errors import NotFound
from engine.storage import documents, models
from engine.storage.persistence import dump_data
from engine.usecases.issuing import page_count
from engine.usecases.intake import process_name

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_c = models.cases
_RECEIPT_COLUMNS = (_c.c.id, _c.c.number, _c.c.tracking_code, _c.c.process_key, _c.c.title, _c.c.applicant_name,
                    _c.c.applicant_dpi, _c.c.municipality, _c.c.created_at, _c.c.created_by)
RECEIPT = kinds.kind(kinds.RECEIPT)


@use_case("case.read")
def receipt_pdf(svc: Services, principal: Principal, case_id: int) -> dict:
    """The case's constancia de recepción as PDF/A bytes and a file name, for whoever may see the receipt page;
    the first request issues it (see the module's docstring), `issued` says whether this one did."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        case = _receipt_case(conn, case_id)
        stored = documents.document_of_kind(conn, case_id, RECEIPT.key)
        if stored is not None:
            return _answer(case, documents.document_content(conn, stored["id"]), stored, issued=False)
        shown = {"case": case, "name": process_name(conn, case["process_key"])}
    # Rendered (about 80 ms) before the write transaction, which stays short: SQLite has one writer at a time.
    issued_at, code = svc.clock(), verification_code()
    pdf = _render_receipt(svc, shown, issued_at, code)
    with svc.uow() as uow:
        conn = uow.conn
        # One receipt per case: the case row's lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
        # writers) makes a concurrent first request wait here, then find the receipt the other one stored.
        conn.execute(select(_c.c.id).where(_c.c.id == case_id).with_for_update())
        stored = documents.document_of_kind(conn, case_id, RECEIPT.key)
        if stored is not None:  # issued meanwhile: ours is discarded, theirs is the receipt
            return _answer(case, documents.document_content(conn, stored["id"]), stored, issued=False)
        # The receipt is the filing desk's document: its issuer is who filed the case, not whoever opens it
        # first (an auditor, say, who would then be named as its signer on /verificar).
        stored = _store_receipt(svc, conn, case, pdf, code, issued_at, case["created_by"] or principal.username)
        uow.commit()
    return _answer(case, pdf, stored, issued=True)


@use_case("case.read")
def document_pdf(svc: Services, principal: Principal, document_id: int) -> dict:
    """An issued document's stored PDF and a file name, for whoever may see its case (NotFound otherwise)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        row = documents.document_by_id(conn, document_id)
        if row is None:
            raise NotFound(f"document {document_id} does not exist", document_id=document_id)
        check_case_visible(conn, principal, row["case_id"])
        pdf = bytes(documents.document_content(conn, document_id))
    return {"pdf": pdf, "filename": f"{row['number'] or row['kind'] + '-' + str(row['case_id'])}.pdf", **row}


def issue_receipt_now(svc: Services, conn, case_id: int, issued_by: str) -> dict:
    """Issue the receipt inside the caller's transaction (the filing's, when the receipt is mailed at once);
    returns its row. Unchecked: for use cases that created or already checked the case."""
    case = _receipt_case(conn, case_id)
    issued_at, code = svc.clock(), verification_code()
    pdf = _render_receipt(svc, {"case": case, "name": process_name(conn, case["process_key"])}, issued_at, code)
    return _store_receipt(svc, conn, case, pdf, code, issued_at, issued_by)


def _receipt_case(conn, case_id: int) -> dict:
    return dict(conn.execute(select(*_RECEIPT_COLUMNS).where(_c.c.id == case_id)).mappings().one())


def _render_receipt(svc: Services, shown: dict, issued_at, code: str) -> bytes:
    # The documents received are left out: the intake does not record them (with their pages) yet.
    context = receipt_context(shown, issued_at=issued_at, calendar=svc.calendar,
                              base_url=svc.settings.public_base_url, code=code)
    return render_pdf(RECEIPT.template, context)


def _store_receipt(svc: Services, conn, case: dict, pdf: bytes, code: str, issued_at, issued_by: str) -> dict:
    signature, signers = None, [{"username": issued_by, "role": "signer"}]
    if svc.signer is not None:
        pdf = svc.signer.sign(pdf, signer_name=issued_by, cosigner=None,
                              reason=f"{RECEIPT.title} {case['number']}")
        signature = "pades"
    return documents.store_document(
        conn, case_id=case["id"], task_id=None, kind=RECEIPT.key, number=None, year=None, code=code, pdf=pdf,
        pages=page_count(pdf), issued_at=issued_at, issued_by=issued_by, citizen_facing=RECEIPT.citizen_facing,
        signers_json=dump_data(signers), signature=signature)


def documents_shown(conn, case_id: int) -> list[dict]:
    """What the case page lists of each issued document, in the order they were issued (no bytes)."""
    return [{"id": d["id"], "kind": d["kind"], "title": kinds.title(d["kind"]), "number": d["number"],
             "issued_at": d["issued_at"], "pages": d["pages"], "sha256": d["sha256"],
             "sha256_short": d["sha256"][:12], "code": d["verification_code"], "corrects_id": d["corrects_id"]}
            for d in documents.documents_of_case(conn, case_id)]


def _answer(case: dict, pdf: bytes, stored: dict, *, issued: bool) -> dict:
    return {"pdf": pdf, "filename": f"constancia-{case['number']}.pdf", "code": stored["verification_code"],
            "sha256": stored["sha256"], "issued": issued}
