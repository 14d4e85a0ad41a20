"""Use cases on the documents a case produces. Today: the filing receipt as a PDF/A, rendered on request.

Not yet issued (issue 14): the PDF carries no verification code or QR until documents are numbered, stored with
their hash and checkable at /verificar; until then it is the printable form of the receipt page."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.documents.receipt import TEMPLATE as RECEIPT, receipt_context
from engine.documents.render import render_pdf
from engine.storage import models
from engine.usecases.intake import process_name

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_c = models.cases
_RECEIPT_COLUMNS = (_c.c.number, _c.c.tracking_code, _c.c.process_key, _c.c.title, _c.c.applicant_name,
                    _c.c.applicant_dpi, _c.c.municipality, _c.c.created_at, _c.c.created_by)


@use_case("case.read")
def receipt_pdf(svc: Services, principal: Principal, case_id: int) -> dict:
    """The constancia de recepción as PDF/A bytes and a file name, for whoever may see the receipt page."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        case = dict(conn.execute(select(*_RECEIPT_COLUMNS).where(_c.c.id == case_id)).mappings().one())
        shown = {"case": case, "name": process_name(conn, case["process_key"])}
    # The documents received are left out: the intake does not record them (with their pages) yet.
    context = receipt_context(shown, issued_at=svc.clock(), calendar=svc.calendar)
    return {"pdf": render_pdf(RECEIPT, context), "filename": f"constancia-{case['number']}.pdf"}
