"""The LAIP annual report (GET /api/reports/laip) and the monthly summary (GET /api/reports/monthly)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.usecases.laip_report import COUNTS as LAIP_COUNTS, FIRST_YEAR, LAST_YEAR
from engine.usecases.monthly_report import COUNTS as MONTHLY_COUNTS


class LaipQuerySchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
                          metadata={"description": "The year whose requests are counted (by month of filing)."})


def _counts(names, descriptions: dict) -> dict:
    return {name: fields.Integer(metadata={"description": descriptions.get(name, name)}) for name in names}


_LAIP_WORDS = {
    "received": "Requests filed", "in_time": "Answered by the due moment", "late": "Answered after it",
    "overdue": "Still unanswered past it", "pending": "Still open within it", "extended": "Extended (art. 43)",
    "entrega_total": "Delivered in full", "entrega_parcial": "Delivered in part", "inexistente": "Non-existent",
    "reservada": "Denied: reserved", "confidencial": "Denied: confidential", "denied": "Denied (reserved or "
    "confidential)", "appealed": "A review appeal was filed", "review_confirma": "The review confirmed it",
    "review_revoca": "The review revoked it", "review_modifica": "The review modified it"}
LaipMonthSchema = Schema.from_dict({"month": fields.String(metadata={"description": "YYYY-MM"}),
                                    **_counts(LAIP_COUNTS, _LAIP_WORDS)}, name="LaipMonth")
LaipTotalsSchema = Schema.from_dict(_counts(LAIP_COUNTS, _LAIP_WORDS), name="LaipTotals")


class LaipReportSchema(Schema):
    year = fields.Integer()
    months = fields.List(fields.Nested(LaipMonthSchema))
    totals = fields.Nested(LaipTotalsSchema)


class MonthlyQuerySchema(Schema):
    month = fields.String(required=True, validate=validate.Regexp(r"^(20\d\d|2100)-(0[1-9]|1[0-2])$"),
                          metadata={"description": "The month (YYYY-MM, office time)."})


_MONTHLY_WORDS = {"filed": "Filed in the month", "resolved": "Completed in the month",
                  "cancelled": "Cancelled in the month", "open_at_end": "Open at the month's end",
                  "overdue_at_end": "Of those, with an office deadline (legal or a task's) passed unmet"}
MonthlyRowSchema = Schema.from_dict({"process_key": fields.String(), "name": fields.String(),
                                     **_counts(MONTHLY_COUNTS, _MONTHLY_WORDS)}, name="MonthlyRow")
MonthlyTotalsSchema = Schema.from_dict(_counts(MONTHLY_COUNTS, _MONTHLY_WORDS), name="MonthlyTotals")


class MonthlyReportSchema(Schema):
    month = fields.String()
    month_name = fields.String()
    rows = fields.List(fields.Nested(MonthlyRowSchema))
    totals = fields.Nested(MonthlyTotalsSchema)
