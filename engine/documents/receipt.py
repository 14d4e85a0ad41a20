"""The constancia de recepción's context, from what the receipt page shows (`usecases.cases.receipt`).

The parts ../shared/DOCUMENTS.md lists: who filed, the procedure and its summary, the documents received with
their pages, the date and hour of filing and (LAIP) the day it counts as filed after the cut-off, the tracking
code and how to use it, and the legal deadline that starts, when the caller knows it."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from engine.documents.dates import local

if TYPE_CHECKING:
    from engine.timekeeping.calendar import WorkingCalendar

TEMPLATE = "constancia_recepcion.html"


def receipt_context(shown: dict, *, issued_at: datetime, calendar: WorkingCalendar | None = None,
                    documents: Iterable[dict] | None = None, deadline: str | None = None,
                    base_url: str | None = None, code: str | None = None) -> dict:
    """`shown` is the receipt use case's answer ({"case": ..., "name": ...}); `documents` are rows with `name`
    (or `filename`) and optionally `pages` (None: not recorded, and the part is left out); without `code` the
    document has no verification footer yet."""
    case = shown["case"]
    filed_at = case["created_at"]
    effective = calendar.effective_filing_date(filed_at) if calendar is not None else None
    return {
        "case_number": case["number"],
        "procedure": shown["name"],
        "summary": case.get("title"),
        "applicant": case.get("applicant_name"),
        "applicant_dpi": case.get("applicant_dpi"),
        "municipality": case.get("municipality"),
        "received_by": case.get("created_by"),
        "filed_at": filed_at,
        "effective_date": effective,
        "filed_late": effective is not None and effective != local(filed_at).date(),
        "cutoff": f"{calendar.settings.filing_cutoff_time:%H:%M}" if calendar is not None else None,
        "documents": None if documents is None else [
            {"name": d.get("name") or d.get("filename"), "pages": d.get("pages")} for d in documents],
        "tracking_code": case["tracking_code"],
        "deadline": deadline,
        "issued_at": issued_at,
        "base_url": base_url,
        "code": code,
    }
