"""Shapes of the general reports (engine/usecases/reports.py): the period and filters asked, and each report's rows."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text


class ReportQuerySchema(Schema):
    """Dates as yyyy-mm-dd, office days, both included; checked by the use case, which answers 400 naming the field
    (from after to, a period over ten years, an unknown procedure or group)."""

    start = Text(data_key="from", validate=validate.Length(max=40),
                 metadata={"description": "First day (yyyy-mm-dd); default: the first day of the month 11 months ago"})
    end = Text(data_key="to", validate=validate.Length(max=40),
               metadata={"description": "Last day (yyyy-mm-dd); default: today"})
    process_key = Text(validate=validate.Length(max=200), metadata={"description": "Only this procedure"})
    municipality = Text(validate=validate.Length(max=200), metadata={"description": "Only cases of this municipality"})
    group = Text(validate=validate.Length(max=200),
                 metadata={"description": "Only this group: cases with a task of it; tasks and deadlines it works"})


class PeriodSchema(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    process_key = fields.String(allow_none=True)
    municipality = fields.String(allow_none=True)
    group = fields.String(allow_none=True)


class MonthRowSchema(Schema):
    month = fields.String(required=True, metadata={"description": "yyyy-mm, office time"})
    filed = fields.Integer(required=True)
    resolved = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    open_at_end = fields.Integer(required=True, metadata={"description": "Open at the end of the month (or period)"})


class MonthTotalsSchema(Schema):
    filed = fields.Integer(required=True)
    resolved = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    open_at_end = fields.Integer(required=True)


class CasesReportSchema(Schema):
    query = fields.Nested(PeriodSchema, required=True)
    rows = fields.List(fields.Nested(MonthRowSchema), required=True)
    totals = fields.Nested(MonthTotalsSchema, required=True)


class DurationsSchema(Schema):
    process_key = fields.String(required=True)
    count = fields.Integer(required=True)
    hours_median = fields.Float(allow_none=True, metadata={"description": "Elapsed clock hours"})
    hours_p90 = fields.Float(allow_none=True)
    days_median = fields.Float(allow_none=True, metadata={"description": "Office working days"})
    days_p90 = fields.Float(allow_none=True)


class StepDurationsSchema(DurationsSchema):
    element_id = fields.String(required=True)
    title = fields.String(required=True)


class CycleTimesReportSchema(Schema):
    query = fields.Nested(PeriodSchema, required=True)
    procedures = fields.List(fields.Nested(DurationsSchema), required=True,
                             metadata={"description": "Cases resolved in the period: filing to resolution"})
    steps = fields.List(fields.Nested(StepDurationsSchema), required=True,
                        metadata={"description": "Tasks completed in the period: arrival to completion"})


class DeadlineCountsSchema(Schema):
    legal_total = fields.Integer(required=True)
    legal_met = fields.Integer(required=True)
    legal_extended = fields.Integer(required=True)
    legal_breached = fields.Integer(required=True)
    legal_pending = fields.Integer(required=True)
    task_total = fields.Integer(required=True)
    task_met = fields.Integer(required=True)
    task_breached = fields.Integer(required=True)
    task_pending = fields.Integer(required=True)


class DeadlineProcedureSchema(DeadlineCountsSchema):
    process_key = fields.String(required=True)


class DeadlineStepSchema(DeadlineCountsSchema):
    process_key = fields.String(required=True)
    element_id = fields.String(allow_none=True)
    title = fields.String(allow_none=True)


class DeadlineGroupSchema(DeadlineCountsSchema):
    group = fields.String(allow_none=True)


class DeadlinesReportSchema(Schema):
    query = fields.Nested(PeriodSchema, required=True)
    procedures = fields.List(fields.Nested(DeadlineProcedureSchema), required=True)
    steps = fields.List(fields.Nested(DeadlineStepSchema), required=True)
    groups = fields.List(fields.Nested(DeadlineGroupSchema), required=True)
    totals = fields.Nested(DeadlineCountsSchema, required=True)


class ClerkLoadSchema(Schema):
    username = fields.String(required=True)
    name = fields.String(required=True)
    open = fields.Integer(required=True, metadata={"description": "Open tasks he holds now"})
    overdue = fields.Integer(required=True, metadata={"description": "Of those, past their due moment"})
    completed = fields.Integer(required=True, metadata={"description": "Tasks he completed in the period"})
    completed_late = fields.Integer(required=True)


class WorkloadTotalsSchema(Schema):
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    completed_late = fields.Integer(required=True)


class WorkloadReportSchema(Schema):
    query = fields.Nested(PeriodSchema, required=True)
    now = fields.DateTime(required=True)
    rows = fields.List(fields.Nested(ClerkLoadSchema), required=True)
    totals = fields.Nested(WorkloadTotalsSchema, required=True)
