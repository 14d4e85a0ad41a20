"""The diagram as a heat map (/informes/mapa-de-calor): a procedure version's diagram drawn by bpmn-js with each
element filled by time spent or cases passing and each flow drawn by how often it was taken, the legend with its
numbers, and the same figures in tables (engine/usecases/heatmap.py counts them)."""
from __future__ import annotations

from datetime import date

from flask import g, render_template, request
from flask_babel import gettext as _

from engine.errors import InvalidInput
from engine.reports import tables
from engine.usecases import heatmap, processes
from web.report_downloads import download, requested_format
from web.pages import bp, login_required, services


def spent(seconds: float | None) -> str:
    """A time spent in words short enough for a table cell: minutes, hours or days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n)s min", n=round(seconds / 60))
    if seconds < 48 * 3600:
        return _("%(n)s h", n=f"{seconds / 3600:.1f}")
    return _("%(n)s días", n=f"{seconds / 86400:.1f}")


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} is not a date", errors=[{"field": name, "message": "YYYY-MM-DD"}]) from None


def _problem(exc: InvalidInput) -> str:
    fields = {e.get("field") for e in exc.errors}
    if "formato" in fields:
        return _("Elija un formato: CSV, XLSX o PDF.")
    if fields & {"desde", "hasta"}:
        return _("Escriba las fechas como AAAA-MM-DD.")
    if any("a date from" in e.get("message", "") for e in exc.errors):
        return _("Las fechas deben caer entre los años %(first)s y %(last)s.", first=heatmap.FIRST_YEAR,
                 last=heatmap.LAST_YEAR)
    if fields & {"from", "to"}:
        return _("El período no es válido: la fecha inicial debe ser anterior a la final y el período no puede "
                 "pasar de tres años.")
    return _("El modo debe ser «tiempo» o «casos».")


@bp.get("/informes/mapa-de-calor")
@login_required
def heatmap_page():
    svc = services()
    listed = [p for p in processes.list_processes(svc, g.user)]
    key = request.args.get("procedimiento") or (listed[0]["process_key"] if listed else None)
    raw_version = request.args.get("version", "").strip()
    all_versions = raw_version == "todas"
    version = int(raw_version) if raw_version.isdigit() else None
    mode = request.args.get("modo") or "tiempo"
    seen, problem, fmt = None, None, None
    if key:
        try:
            fmt = requested_format()
            seen = heatmap.heatmap(svc, g.user, key, version=version, all_versions=all_versions,
                                   date_from=_day("desde"), date_to=_day("hasta"), mode=mode)
        except InvalidInput as exc:
            problem = _problem(exc)
    if seen and fmt:
        elements, flows = heat_tables(seen)
        name = f"mapa-de-calor-{seen['process_key']}-v{seen['version']}"
        if fmt == "csv":  # one table per file: the flows with ?tabla=flujos
            return download([flows if request.args.get("tabla") == "flujos" else elements], fmt, name, "")
        return download([elements, flows], fmt, name, _("El diagrama como mapa de calor"))
    paint = None
    if seen:
        paint = {"elements": {e["element_id"]: e["fill"] for e in seen["elements"] if e["fill"] and e["in_diagram"]},
                 "flows": {f["flow_id"]: {"width": f["width"], "stroke": f["stroke"]}
                           for f in seen["flows"] if f["count"]}}
    legend = []
    if seen and any(bin_["high"] for bin_ in seen["legend"]):  # nothing counted: a scale of zeros says nothing
        for bin_ in seen["legend"]:
            low, high = (spent(bin_["low"]), spent(bin_["high"])) if seen["mode"] == "tiempo" else \
                (round(bin_["low"]), round(bin_["high"]))
            legend.append({"fill": bin_["fill"], "text": _("%(low)s a %(high)s", low=low, high=high)})
    return render_template("pages/heatmap.html", processes=listed, key=key, seen=seen, paint=paint, legend=legend,
                           problem=problem, spent=spent, raw_version=raw_version), 400 if problem else 200


def heat_tables(seen: dict) -> tuple[tables.Table, tables.Table]:
    """The heat map's two tables (elements, flows) as report tables for the downloads; times in hours."""
    def hours(seconds):
        return None if seconds is None else round(seconds / 3600, 2)
    period = _("Del %(from)s al %(to)s.", **{"from": seen["from"].strftime("%d/%m/%Y"),
                                            "to": seen["to"].strftime("%d/%m/%Y")})
    title = f"{seen['name']} · " + _("versión %(n)s", n=seen["version"])
    elements = tables.Table(
        _("Elementos") + f": {title}",
        [tables.Column(_("Elemento"), "name"), tables.Column(_("Identificador"), "element_id"),
         tables.Column(_("Expedientes"), "cases", tables.INT), tables.Column(_("Pasos"), "visits", tables.INT),
         tables.Column(_("Mediana (horas)"), "median", tables.DECIMAL),
         tables.Column(_("Percentil 90 (horas)"), "p90", tables.DECIMAL),
         tables.Column(_("Tiempo total (horas)"), "total", tables.DECIMAL),
         tables.Column(_("En espera ahora"), "waiting_now", tables.INT)],
        [{**e, "median": hours(e["median_seconds"]), "p90": hours(e["p90_seconds"]),
          "total": hours(e["total_seconds"])} for e in seen["elements"]], period)
    flows = tables.Table(
        _("Flujos") + f": {title}",
        [tables.Column(_("Flujo"), "label"), tables.Column(_("De"), "source"), tables.Column(_("A"), "target"),
         tables.Column(_("Veces tomado"), "count", tables.INT)],
        [{**f, "label": f["name"] or f["flow_id"]} for f in seen["flows"]], period)
    return elements, flows
