"""The LAIP annual report and the monthly summary for the ministry, as JSON (the pages add CSV, XLSX and PDF)."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.annual_reports import LaipQuerySchema, LaipReportSchema, MonthlyQuerySchema, MonthlyReportSchema
from api.security import calls, principal, services
from engine.usecases import laip_report, monthly_report

blp = ApiBlueprint("annual_reports", __name__, url_prefix="/api/reports",
                   description="Informes: LAIP anual y resumen mensual")


@blp.route("/laip")
class LaipReport(MethodView):
    @calls(laip_report.laip_annual)
    @blp.arguments(LaipQuerySchema(), location="query")
    @blp.response(200, LaipReportSchema)
    def get(self, args):
        """The year's access-to-information requests by month of filing in the Human Rights Ombudsman's categories
        (LAIP art. 48), and the year's totals."""
        return laip_report.laip_annual(services(), principal(), args["year"])


@blp.route("/monthly")
class MonthlyReport(MethodView):
    @calls(monthly_report.monthly_summary)
    @blp.arguments(MonthlyQuerySchema(), location="query")
    @blp.response(200, MonthlyReportSchema)
    def get(self, args):
        """Per procedure: cases filed, resolved and cancelled in the month, open at its end and, of those, overdue."""
        return monthly_report.monthly_summary(services(), principal(), monthly_report.parse_month(args["month"]))
