"""The general reports (engine/usecases/reports.py) as JSON rows: cases per month, cycle times, deadlines, workload."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.reports import (CasesReportSchema, CycleTimesReportSchema, DeadlinesReportSchema, ReportQuerySchema,
                                 WorkloadReportSchema)
from api.security import calls, principal, services
from engine.usecases import reports

blp = ApiBlueprint("reports", __name__, url_prefix="/api/reports", description="Informes generales")


@blp.route("/cases")
class CasesReport(MethodView):
    @calls(reports.cases_by_month)
    @blp.arguments(ReportQuerySchema(), location="query")
    @blp.response(200, CasesReportSchema)
    def get(self, args):
        """Per month of the period: cases filed, resolved, cancelled, and open at the month's end."""
        return reports.cases_by_month(services(), principal(), **args)


@blp.route("/cycle-times")
class CycleTimesReport(MethodView):
    @calls(reports.cycle_times)
    @blp.arguments(ReportQuerySchema(), location="query")
    @blp.response(200, CycleTimesReportSchema)
    def get(self, args):
        """Median and p90 time, in clock hours and in working days, per procedure (cases resolved in the period) and
        per step (tasks completed in the period)."""
        return reports.cycle_times(services(), principal(), **args)


@blp.route("/deadlines")
class DeadlinesReport(MethodView):
    @calls(reports.deadlines)
    @blp.arguments(ReportQuerySchema(), location="query")
    @blp.response(200, DeadlinesReportSchema)
    def get(self, args):
        """Deadlines falling due in the period (the office's legal deadlines and the tasks' due moments): met,
        extended, breached and pending, by procedure, step and group."""
        return reports.deadlines(services(), principal(), **args)


@blp.route("/workload")
class WorkloadReport(MethodView):
    @calls(reports.workload)
    @blp.arguments(ReportQuerySchema(), location="query")
    @blp.response(200, WorkloadReportSchema)
    def get(self, args):
        """Per clerk: open tasks held now and overdue; tasks completed in the period and late."""
        return reports.workload(services(), principal(), **args)
