"""What a document template reads, for every kind but the receipt (which has `receipt.py`).

`document_context` returns:
- `case_number`, `document_number` (None in a draft), `issued_at`, `code`, `base_url`: what base.html shows;
- `case`: the case's row as the templates may show it: `number`, `tracking_code`, `title`, `applicant_name`,
  `applicant_dpi`, `municipality`, `created_at`, `procedure` (the procedure's name);
- `data`: the case's data at the issuing step with the step's form merged over it (the form wins); with
  `documentEach`, also the item's fields (`item` is that item alone);
- `issued`: the case's earlier documents, the latest of each kind: `{kind: {"number", "issued_at", "code",
  "title"}}` (the licence cites its resolution, the cédula what it notifies);
- `signer` (`{"username", "name"}`: who completed the step) and `cosigner` (a name, or None);
- `corrects` (`{"number", "issued_at", "code", "title"}` of the document this one corrects) and
  `correction_reason`, or None;
- `draft`: True for the preview shown before the step is completed (no number, no code, marked BORRADOR)."""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

CASE_FIELDS = ("number", "tracking_code", "title", "applicant_name", "applicant_dpi", "municipality", "created_at")


def document_context(*, case: Mapping, procedure: str, data: Mapping, issued_at: datetime,
                     number: str | None = None, code: str | None = None, base_url: str | None = None,
                     issued: Mapping[str, Mapping] | None = None, signer: Mapping | None = None,
                     cosigner: str | None = None, corrects: Mapping | None = None,
                     correction_reason: str | None = None, item: Mapping | None = None,
                     draft: bool = False) -> dict:
    shown = {k: case.get(k) for k in CASE_FIELDS}
    shown["procedure"] = procedure
    merged = {**data, **(item or {})}
    return {
        "case_number": case["number"], "document_number": number, "issued_at": issued_at,
        "code": code, "base_url": base_url, "case": shown, "data": merged, "item": dict(item) if item else None,
        "issued": {k: dict(v) for k, v in (issued or {}).items()}, "signer": dict(signer) if signer else None,
        "cosigner": cosigner, "corrects": dict(corrects) if corrects else None,
        "correction_reason": correction_reason, "draft": draft,
    }


def sample_context(**overrides) -> dict:
    """A filled context for tests and benchmarks: a licence case, signed by the Governor (override any key)."""
    from datetime import timezone
    issued_at = datetime(2026, 12, 2, 15, 30, tzinfo=timezone.utc)
    case = {"number": "EXP-GDCH-2026-00042", "tracking_code": "K7QM-2XHD-9TRB", "title": "Feria patronal",
            "applicant_name": "Comité de Feria de Tecpán", "applicant_dpi": "2456 78905 0407",
            "municipality": "Tecpán Guatemala", "created_at": datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)}
    defaults = dict(case=case, procedure="Licencias y autorizaciones", data={}, issued_at=issued_at,
                    number="RES-GDCH-2026-0001", code="7KQ2-M9XD-4TRB-PW3H", base_url="https://expediente.example",
                    issued={}, signer={"username": "gobernador", "name": "María Elena Xicará"})
    defaults.update(overrides)
    return document_context(**defaults)
