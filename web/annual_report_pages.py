"""The LAIP annual report (/informes/laip?anio=2026) and the monthly summary for the ministry
(/informes/mensual?mes=2026-11), each a table on the page and, with `formato=csv|xlsx|pdf`, its download
(engine/usecases/laip_report.py and monthly_report.py count; engine/reports/tables.py writes the files)."""
from __future__ import annotations

from datetime import timedelta

from flask import g, render_template, request
from flask_babel import gettext as _

from engine.errors import InvalidInput
from engine.reports import tables
from engine.usecases import laip_report, monthly_report
from web.report_downloads import download, localized, requested_format
from web.pages import bp, login_required, services

def _page(table, fmt, filename, form: dict, problem: str | None):
    if table is not None and fmt and not problem:
        return download([table], fmt, filename, table.title)
    return render_template("pages/report_table.html", table=table, form=form, problem=problem,
                           kinds={"int": tables.INT, "decimal": tables.DECIMAL}, cell_text=tables.cell_text), \
        400 if problem else 200


@bp.get("/informes/laip")
@login_required
def laip_report_page():
    today = services().calendar.local_date(services().clock())
    raw = request.args.get("anio", "").strip() or str(today.year)
    table, problem, fmt = None, None, None
    try:
        fmt = requested_format()
        year = int(raw) if raw.isdigit() else -1
        table = localized(laip_report.laip_table(laip_report.laip_annual(services(), g.user, year)))
    except InvalidInput as exc:
        fields = {e.get("field") for e in exc.errors}
        problem = _("Elija un formato: CSV, XLSX o PDF.") if "formato" in fields else \
            _("Escriba un año de %(first)s a %(last)s.", first=laip_report.FIRST_YEAR, last=laip_report.LAST_YEAR)
    form = {"endpoint": "pages.laip_report_page", "name": "anio", "value": raw, "type": "number",
            "label": _("Año"), "title": _("Informe anual de acceso a la información pública (LAIP, art. 48)"),
            "help": _("Solicitudes de información pública del año en las categorías del Procurador de los Derechos "
                      "Humanos: recibidas, respondidas en plazo y tarde, prorrogadas, negadas y por qué, y "
                      "recurridas.")}
    return _page(table, fmt, f"informe-laip-{raw}", form, problem)


@bp.get("/informes/mensual")
@login_required
def monthly_report_page():
    today = services().calendar.local_date(services().clock())
    last = today.replace(day=1) - timedelta(days=1)
    raw = request.args.get("mes", "").strip() or f"{last.year:04d}-{last.month:02d}"
    table, problem, fmt = None, None, None
    try:
        fmt = requested_format()
        month = monthly_report.parse_month(raw)
        table = localized(monthly_report.monthly_table(monthly_report.monthly_summary(services(), g.user, month)))
    except InvalidInput as exc:
        fields = {e.get("field") for e in exc.errors}
        problem = _("Elija un formato: CSV, XLSX o PDF.") if "formato" in fields else \
            _("Escriba el mes como AAAA-MM (por ejemplo 2026-11).")
    form = {"endpoint": "pages.monthly_report_page", "name": "mes", "value": raw, "type": "month",
            "label": _("Mes"), "title": _("Resumen mensual para el ministerio"),
            "help": _("Expedientes presentados, resueltos, abiertos y vencidos por trámite en el mes. El primer día "
                      "hábil de cada mes se envía por correo el del mes anterior al despacho del Gobernador.")}
    return _page(table, fmt, f"resumen-mensual-{raw}", form, problem)
