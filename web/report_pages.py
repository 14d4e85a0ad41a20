"""The reports (/informes): an index of every report, and the four general ones (engine/usecases/reports.py) with a
filter form (period, procedure, municipality, group), SVG charts drawn here on the server (engine/reports/svg.py)
with the same numbers in tables beside them, and each table downloadable as CSV, XLSX or PDF
(/informes/<report>.csv|xlsx|pdf with the same query; `tabla` picks one table of a report with several, the whole
report otherwise for XLSX and PDF)."""
from __future__ import annotations

from flask import g, render_template, request, url_for
from flask_babel import gettext as _

from engine.accounts import permissions
from engine.errors import InvalidInput
from engine.reports import svg
from engine.reports.tables import DECIMAL, INT, cell_text
from engine.usecases import reports, reports_tables
from web.i18n import localize
from web.report_downloads import download, localized
from web.pages import bp, login_required, services

NAMES = "any(casos, tiempos, plazos, carga)"
# Query parameter -> the use cases' filter.
PARAMS = {"desde": "start", "hasta": "end", "tramite": "process_key", "municipio": "municipality", "grupo": "group"}
FIELDS = {v: k for k, v in PARAMS.items()}

def report_links() -> list[tuple[str, str, str]]:
    """(address, title, description) of the general reports the index lists (the template lists the others)."""
    return [(url_for("pages.report_page", name=name), localize(reports_tables.TITLES[name]), _description(name))
            for name in reports.REPORTS]


def _description(name: str) -> str:
    return {"casos": _("Cuántos expedientes entraron, cuántos se resolvieron y cuántos quedaban abiertos, mes a mes."),
            "tiempos": _("Mediana y percentil 90 del tiempo por trámite y por paso, en horas y en días hábiles."),
            "plazos": _("Plazos legales y de tareas cumplidos, prorrogados y vencidos, por trámite, paso y grupo."),
            "carga": _("Tareas abiertas, vencidas y completadas de cada persona.")}[name]


def _filters() -> dict:
    return {key: request.args.get(param, "").strip() or None for param, key in PARAMS.items()}


def _charts(name: str, result: dict) -> list[str]:
    """The report's charts as SVG text, titles in the reader's language."""
    if name == "casos":
        rows = result["rows"]
        return [svg.bar_chart(_("Expedientes por mes"), _("Presentados, resueltos y abiertos al final de cada mes; "
                                                          "las cifras están en la tabla."),
                              [r["month"] for r in rows],
                              [(_("Presentados"), [r["filed"] for r in rows]),
                               (_("Resueltos"), [r["resolved"] for r in rows]),
                               (_("Abiertos"), [r["open_at_end"] for r in rows])], ident="chart-casos")]
    if name == "tiempos":
        rows = result["procedures"]
        return [svg.hbar_chart(_("Mediana de días hábiles por trámite"),
                               _("Casos resueltos en el periodo; las cifras están en la tabla."),
                               [r["process_key"] for r in rows], [r["days_median"] for r in rows],
                               unit=_("días"), ident="chart-tiempos")]
    if name == "plazos":
        rows = result["procedures"]
        return [svg.bar_chart(_("Plazos legales por trámite"), _("Cumplidos, vencidos y pendientes; las cifras "
                                                                 "están en la tabla."),
                              [r["process_key"] for r in rows],
                              [(_("Cumplidos"), [r["legal_met"] for r in rows]),
                               (_("Vencidos"), [r["legal_breached"] for r in rows]),
                               (_("Pendientes"), [r["legal_pending"] for r in rows])], ident="chart-plazos")]
    rows = result["rows"]
    return [svg.hbar_chart(_("Tareas abiertas por persona"), _("Tareas asignadas ahora; las cifras están en la tabla."),
                           [r["name"] for r in rows], [r["open"] for r in rows], ident="chart-carga")]


def _run(name: str) -> tuple[dict | None, str | None]:
    try:
        return reports.USE_CASES[name](services(), g.user, **_filters()), None
    except InvalidInput as exc:
        field = (exc.errors or [{}])[0].get("field", "")
        detail = (exc.errors or [{}])[0].get("message", exc.message)
        return None, _("Revise «%(field)s»: %(detail)s", field=FIELDS.get(field, field), detail=localize(detail))


@bp.get("/informes")
@login_required
def reports_index():
    permissions.require(g.user, "report.read")
    return render_template("pages/reports.html", links=report_links())


@bp.get(f"/informes/<{NAMES}:name>")
@login_required
def report_page(name: str):
    choices = reports.filter_choices(services(), g.user)
    result, problem = _run(name)
    tables = [localized(t) for t in reports_tables.tables(name, result)] if result else []
    query = {param: request.args.get(param, "") for param in PARAMS}
    if result:
        q = result["query"]
        query.update(desde=q.start.isoformat(), hasta=q.end.isoformat())
    given = {k: v for k, v in query.items() if v}

    def downloads(fmt: str, table: int | None = None) -> str:
        return url_for("pages.report_download", name=name, fmt=fmt, **given,
                       **({} if table is None else {"tabla": table}))

    return render_template("pages/reports_view.html", name=name, title=localize(reports_tables.TITLES[name]),
                           result=result, tables=tables, charts=_charts(name, result) if result else [],
                           problem=problem, choices=choices, query=query, downloads=downloads, cell=cell_text,
                           numeric=(INT, DECIMAL)), 400 if problem else 200


@bp.get(f"/informes/<{NAMES}:name>.<any(csv, xlsx, pdf):fmt>")
@login_required
def report_download(name: str, fmt: str):
    result, problem = _run(name)
    if problem:
        return render_template("pages/error.html", code=400, message=problem), 400
    tables = [localized(t) for t in reports_tables.tables(name, result)]
    raw = request.args.get("tabla", "")
    if raw or fmt == "csv":
        index = int(raw) if raw.isdigit() else 0
        if index >= len(tables):
            return render_template("pages/error.html", code=400, message=_("No hay esa tabla en el informe.")), 400
        tables = [tables[index]]
    q = result["query"]
    period = _("Del %(from)s al %(to)s", **{"from": q.start.strftime("%d/%m/%Y"), "to": q.end.strftime("%d/%m/%Y")})
    suffix = f"-{raw}" if raw.isdigit() else ""
    return download(tables, fmt, f"informe-{name}-{q.start.isoformat()}-{q.end.isoformat()}{suffix}",
                    localize(reports_tables.TITLES[name]), _filters_text(q, period))


def _filters_text(q, period: str) -> str:
    parts = [period]
    for label, value in ((_("Trámite"), q.process_key), (_("Municipio"), q.municipality), (_("Grupo"), q.group)):
        if value:
            parts.append(f"{label}: {value}")
    return " · ".join(parts)
