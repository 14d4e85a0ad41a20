"""What every report page shares (/informes, the LAIP report, the monthly summary, the heat map): its tables in the
request's language and their downloads as CSV (one table), XLSX (a sheet per table) or PDF (engine/reports/tables.py
writes the files)."""
from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _

from engine.errors import InvalidInput
from engine.reports import tables
from web.i18n import localize

FORMATS = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def localized(table: tables.Table) -> tables.Table:
    """The table with its title, labels, note and text cells in the request's language."""
    return tables.Table(localize(table.title), [tables.Column(localize(c.label), c.key, c.kind) for c in table.columns],
                        [{k: localize(v) for k, v in row.items()} for row in table.rows], localize(table.note))


def requested_format() -> str | None:
    """The download the query asks for (`formato`), or None for the page; InvalidInput naming it if unknown."""
    fmt = request.args.get("formato") or None
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput("unknown format", errors=[{"field": "formato", "message": "csv, xlsx or pdf"}])
    return fmt


def download(shown: list[tables.Table], fmt: str, filename: str, title: str, subtitle: str | None = None) -> Response:
    """The tables as a file to save: CSV holds the first one only, XLSX a sheet each, PDF one after the other."""
    if fmt == "csv":
        body = tables.to_csv(shown[0])
    elif fmt == "xlsx":
        body = tables.to_xlsx(shown)
    else:
        body = tables.to_pdf(shown, title, _("Gobernación Departamental de Chimaltenango") if subtitle is None
                             else subtitle)
    return Response(body, mimetype=FORMATS[fmt].split(";")[0], headers={
        "Content-Type": FORMATS[fmt], "Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})
