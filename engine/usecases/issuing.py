"""Documents issued by the diagrams' steps: a user or manual task whose property `document` names a kind issues
that document when it is completed, in the same transaction as the step (engine/usecases/tasks.py).

The step's transaction, in order:
1. `allocate`: the kind's next number (per kind and year, gapless: `storage.documents.next_number`) and a fresh
   verification code per document (with `documentEach`, one per item of that form array, in item order). The
   task's data gets `documento_<kind>` = {"numero", "codigo"} (and `documentos_<kind>`, the list, with
   `documentEach`) so the diagram's later steps can cite them.
2. The task runs. A step whose state cannot be stored is refused: `release` gives the numbers back (no gap).
3. `issue`: each document is rendered (PDF/A, with the code's QR), signed with the office's certificate when one
   is configured (PAdES, engine/documents/signing.py), stored with its SHA-256 and what it was filled with, and
   recorded in the case history (`document_issued`). Citizen documents that DOMAIN.md says are mailed (previo,
   resolución, licencia) are queued to the citizen's address with the PDF attached.

Rendering and signing happen inside the transaction (about 0.1 s a document): the number is only known there,
and a document must exist exactly when its step does.

`draft` renders the same document without number, code or signature, marked BORRADOR, for the clerk to review
before completing the step."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jinja2
import pypdf

from engine.accounts.auth import display_names
from engine.documents import kinds
from engine.documents.codes import verification_code
from engine.documents.context import CASE_FIELDS, document_context
from engine.documents.dates import local
from engine.documents.render import render_pdf
from engine.errors import FormInvalid, InvalidInput
from engine.mail.notifications import enqueue_document
from engine.messages import msg
from engine.storage import documents, models
from engine.storage.persistence import append_events, dump_data, event_row
from engine.usecases.intake import process_name

if TYPE_CHECKING:
    from datetime import datetime

    from engine.services import Services

_c = models.cases
# The citizen's documents mailed when issued (DOMAIN.md: "Citizens are told by e-mail"): the previo, the
# resolution, the licence certificate they wait for, and every cédula de notificación (the LAIP extension's too:
# engine/mail/notifications.py words that one as the extension). The receipt is mailed at filing.
MAILED = frozenset({"previo", "resolucion", "licencia", "cedula_notificacion"})


@dataclass(frozen=True)
class Pending:
    """A document whose number and code are taken, to be rendered once the step has run."""
    kind: str
    number: str | None
    year: int | None
    code: str
    item: dict | None


def properties_of(task_spec) -> tuple[str | None, str | None]:
    """(kind, documentEach field) a task spec declares; (None, None) for a task that issues nothing."""
    props = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    kind = (props.get(kinds.DOCUMENT_PROPERTY) or "").strip() or None
    each = (props.get(kinds.EACH_PROPERTY) or "").strip() or None
    return kind, each


def _items(kind: str, each: str | None, data: dict) -> list[dict | None]:
    """One entry per document: [None] for a single document; the array's items with `documentEach`."""
    if each is None:
        return [None]
    items = data.get(each)
    if items is None:  # an optional list left out (a session that adopted no resolutions): nothing to issue
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(f"'{each}' must be a list of objects: each one issues a {kind}",
                           errors=[{"field": each, "message": "se espera una lista"}])
    return list(items)


def allocate(svc: Services, conn, kind: str, each: str | None, data: dict, now: datetime) -> list[Pending]:
    """Take the numbers and codes of the documents a step issues and write them into `data` (see the module)."""
    spec = kinds.kind(kind)
    year = local(now).year
    pattern = kinds.number_pattern(kind, svc.settings.document_numbers)
    pending = [Pending(kind, documents.next_number(conn, kind, year, pattern) if pattern else None,
                       year if pattern else None, verification_code(), item)
               for item in _items(kind, each, data)]
    refs = [{"numero": p.number, "codigo": p.code} for p in pending]
    if refs:
        data[f"documento_{spec.key}"] = refs[-1]
    if each is not None:
        data[f"documentos_{spec.key}"] = refs
    return pending


def release(svc: Services, conn, pending: list[Pending]) -> None:
    """Give back the numbers of a step that was refused (same transaction, so nobody took a later one)."""
    taken = [p for p in pending if p.number is not None]
    if taken:
        documents.release_numbers(conn, taken[0].kind, taken[0].year, len(taken))


def _case(conn, case_id: int) -> dict:
    row = conn.execute(_c.select().with_only_columns(*(_c.c[f] for f in CASE_FIELDS), _c.c.process_key)
                       .where(_c.c.id == case_id)).mappings().one()
    return dict(row)


def _earlier(conn, case_id: int) -> dict[str, dict]:
    """The case's latest document of each kind so far (what a new one may cite)."""
    out: dict[str, dict] = {}
    for d in documents.documents_of_case(conn, case_id):
        out[d["kind"]] = {"number": d["number"], "issued_at": d["issued_at"], "code": d["verification_code"],
                          "title": str(kinds.title(d["kind"]))}
    return out


def _cosigner(data: dict) -> str | None:
    value = data.get(kinds.COSIGNER_FIELD)
    return value.strip() if isinstance(value, str) and value.strip() else None


class DocumentIncomplete(FormInvalid):
    """The document cannot be filled from the step's data (a part its template needs is missing): the step is
    refused whole, the case stays as it was, and the clerk reads what is missing."""

    code = "document_incomplete"


def _render(spec: kinds.Kind, context: dict) -> bytes:
    try:
        return render_pdf(spec.template, context)
    except jinja2.UndefinedError as exc:
        missing = str(exc).replace("'dict object' has no attribute ", "").strip("'")
        raise DocumentIncomplete(
            msg("No se puede emitir %(title)s: le falta «%(missing)s» (un dato del formulario o un documento "
                "anterior del expediente).", title=str(spec.title), missing=missing),
            errors=[{"field": missing, "message": msg("Falta para llenar el documento.")}], kind=spec.key) from exc


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def issue(svc: Services, conn, *, case_id: int, task_id: str | None, pending: list[Pending], data: dict,
          actor: str, now: datetime, own: dict | None = None, citizen_email: str | None = None,
          corrects: dict | None = None, correction_reason: str | None = None) -> list[dict]:
    """Render, sign and store the pending documents with `data` (the step's data with the form's over it);
    returns their rows (without bytes). The co-signer is read from `own`, the step's own form fields (default:
    `data`), so an earlier step's co-signer never signs a later document."""
    if not pending:
        return []
    case = _case(conn, case_id)
    procedure = process_name(conn, case["process_key"])
    earlier = _earlier(conn, case_id)
    name = display_names(conn, [actor]).get(actor) or actor
    signer = {"username": actor, "name": name}
    base_url = svc.settings.public_base_url
    issued, events = [], []
    for p in pending:
        spec = kinds.kind(p.kind)
        filled = {**data, **(p.item or {})}
        cosigner = _cosigner({**(data if own is None else own), **(p.item or {})})
        context = document_context(case=case, procedure=procedure, data=data, item=p.item, issued_at=now,
                                   number=p.number, code=p.code, base_url=base_url, issued=earlier, signer=signer,
                                   cosigner=cosigner, corrects=corrects, correction_reason=correction_reason)
        pdf = _render(spec, context)
        pages = page_count(pdf)
        signature = None
        if svc.signer is not None:
            pdf = svc.signer.sign(pdf, signer_name=name, cosigner=cosigner,
                                  reason=f"{spec.title} {p.number or case['number']}")
            signature = "pades"
        signers = [{"username": actor, "name": name, "role": "signer"}]
        if cosigner:
            signers.append({"username": None, "name": cosigner, "role": "cosigner"})
        row = documents.store_document(
            conn, case_id=case_id, task_id=task_id, kind=p.kind, number=p.number, year=p.year, code=p.code,
            pdf=pdf, pages=pages, issued_at=now, issued_by=actor, citizen_facing=spec.citizen_facing,
            corrects_id=corrects["id"] if corrects else None, data_json=dump_data(filled),
            signers_json=dump_data(signers), signature=signature, correction_reason=correction_reason)
        issued.append(row)
        earlier[p.kind] = {"number": p.number, "issued_at": now, "code": p.code, "title": str(spec.title)}
        events.append(event_row(case_id, now, "document_issued", task_id=task_id, actor=actor, data={
            "document_id": row["id"], "kind": p.kind, "number": p.number, "code": p.code, "sha256": row["sha256"],
            "signature": signature, "corrects_id": row["corrects_id"]}))
        if citizen_email and spec.citizen_facing and p.kind in MAILED:
            enqueue_document(conn, to=citizen_email, applicant_name=case.get("applicant_name"), case_id=case_id,
                             number=case["number"], tracking_code=case["tracking_code"], title=str(spec.title),
                             document_number=p.number, code=p.code, verify_url=f"{base_url}/verificar/{p.code}",
                             document_id=row["id"], now=now)
    append_events(conn, events)
    return issued


def draft(svc: Services, conn, *, case_id: int, kind: str, each: str | None, data: dict, actor: str,
          now: datetime, own: dict | None = None) -> bytes:
    """The step's document(s) as they would be issued now, without number, code or signature, marked BORRADOR;
    with `documentEach`, every item's document one after the other in one PDF."""
    spec = kinds.kind(kind)
    case = _case(conn, case_id)
    procedure = process_name(conn, case["process_key"])
    name = display_names(conn, [actor]).get(actor) or actor
    earlier = _earlier(conn, case_id)
    pdfs = []
    for item in _items(kind, each, data):
        context = document_context(case=case, procedure=procedure, data=data, item=item, issued_at=now,
                                   issued=earlier, signer={"username": actor, "name": name},
                                   cosigner=_cosigner({**(data if own is None else own), **(item or {})}),
                                   draft=True)
        pdfs.append(_render(spec, context))
    if not pdfs:
        raise InvalidInput(f"'{each}' is empty: there is no {kind} to show",
                           errors=[{"field": each, "message": "agregue al menos un elemento"}])
    if len(pdfs) == 1:
        return pdfs[0]
    writer = pypdf.PdfWriter()
    for pdf in pdfs:
        writer.append(io.BytesIO(pdf))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
