"""A report's table and its three downloads: CSV, XLSX and PDF.

A `Table` is what a report hands to the page and to the exports: a title, columns (each a label, the key of its
value in a row and a kind), rows (dicts) and an optional note. The caller translates the title, the labels and the
note; this module writes what it is given.

- CSV: UTF-8 with a byte-order mark (so a spreadsheet on the clerks' PCs reads the accents), comma-separated,
  quoted as RFC 4180 says, CRLF line ends. A text cell that a spreadsheet would take for a formula (=, +, -, @)
  is prefixed with an apostrophe.
- XLSX: a minimal Office Open XML workbook written by hand with zipfile (no dependency): one sheet per table,
  strings inline, numbers as numbers, dates as text dd/mm/yyyy.
- PDF: the tables as HTML rendered by WeasyPrint (as engine/documents does; a plain PDF, not PDF/A), fetching
  nothing but data: URIs.
"""
from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Sequence

TEXT, INT, DECIMAL, DATE = "text", "int", "decimal", "date"
KINDS = (TEXT, INT, DECIMAL, DATE)
DECIMALS = 1  # how many decimals a DECIMAL cell shows in CSV and PDF (XLSX keeps the number whole)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold at all (a spreadsheet refuses the file): dropped from cells.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    """One column: its (translated) label, the key of its value in each row, and its kind (KINDS)."""

    label: str
    key: str
    kind: str = TEXT

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Table:
    """A report's table: title, columns, rows (dicts keyed by the columns' keys; extra keys are ignored)."""

    title: str
    columns: Sequence[Column]
    rows: list[dict] = field(default_factory=list)
    note: str = ""

    def cells(self, row: dict) -> list:
        return [row.get(c.key) for c in self.columns]


def cell_text(value, kind: str = TEXT) -> str:
    """A value as the page, the CSV and the PDF write it: '' for none, dates dd/mm/yyyy, DECIMAL with DECIMALS."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if kind == DECIMAL and isinstance(value, (int, float, Decimal)):
        return f"{float(value):.{DECIMALS}f}"
    if isinstance(value, bool):
        return "sí" if value else "no"
    return str(value)


def _csv_cell(value, kind: str) -> str:
    text = cell_text(value, kind)
    if kind == TEXT and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(table: Table) -> bytes:
    """The table as CSV bytes: a header row of labels, then one line per row (UTF-8 with BOM, RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(v, c.kind) for c, v in zip(table.columns, table.cells(row))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- XLSX ------------------------------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
    '<Relationship Id="rIdStyles" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    '</Relationships>')
_SHEET_REL = ('<Relationship Id="rId{n}" '
              'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
              'Target="worksheets/sheet{n}.xml"/>')
# Two cell styles: 0 plain, 1 bold (the header row).
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '</styleSheet>')


def _xml(text: str) -> str:
    return html.escape(_NOT_XML.sub("", text), quote=True)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value, kind: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    if value is None:
        return ""
    if kind in (INT, DECIMAL) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    text = cell_text(value, kind)
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_xml(text)}</t></is></c>'


def _sheet(table: Table) -> str:
    lines = []
    header = [_cell(f"{column_letter(i)}1", c.label, TEXT, 1) for i, c in enumerate(table.columns)]
    lines.append(f'<row r="1">{"".join(header)}</row>')
    for r, row in enumerate(table.rows, start=2):
        cells = [_cell(f"{column_letter(i)}{r}", v, c.kind) for i, (c, v) in
                 enumerate(zip(table.columns, table.cells(row)))]
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')
    if table.note:
        r = len(table.rows) + 3
        lines.append(f'<row r="{r}">{_cell(f"A{r}", table.note, TEXT)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{"".join(lines)}</sheetData></worksheet>')


def sheet_name(title: str, taken: set[str]) -> str:
    """An Excel sheet name from a title: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = _SHEET_NAME_BAD.sub(" ", _NOT_XML.sub("", title)).strip().strip("'")[:31] or "Hoja"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[:31 - len(str(n)) - 1]} {n}"
    taken.add(name.lower())
    return name


def to_xlsx(tables: Table | Iterable[Table]) -> bytes:
    """One table (or several, a sheet each) as an XLSX workbook's bytes."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    taken: set[str] = set()
    names = [sheet_name(t.title, taken) for t in tables]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, len(tables) + 1))))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(sheets="".join(
            f'<sheet name="{_xml(name)}" sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(names, 1))))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(
            rels="".join(_SHEET_REL.format(n=n) for n in range(1, len(tables) + 1))))
        z.writestr("xl/styles.xml", _STYLES)
        for n, table in enumerate(tables, 1):
            z.writestr(f"xl/worksheets/sheet{n}.xml", _sheet(table))
    return out.getvalue()


# --- PDF -------------------------------------------------------------------------------------------------------

_PDF_CSS = """
@page { size: A4 landscape; margin: 15mm 12mm; @bottom-right { content: counter(page) " / " counter(pages);
        font-size: 8pt; } }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9pt; color: #000; }
h1 { font-size: 14pt; margin: 0 0 2mm; } h2 { font-size: 11pt; margin: 6mm 0 2mm; }
p.sub, p.note { font-size: 8pt; color: #333; margin: 1mm 0; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
th, td { border: 0.5pt solid #777; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #e8e8e8; } td.num { text-align: right; }
thead { display: table-header-group; } tr { page-break-inside: avoid; }
"""


def to_html(tables: Sequence[Table], title: str, subtitle: str = "") -> str:
    """The tables as one standalone HTML document (what to_pdf renders)."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang=\"es-GT\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
             f"<style>{_PDF_CSS}</style></head><body><h1>{e(title)}</h1>"]
    if subtitle:
        parts.append(f'<p class="sub">{e(subtitle)}</p>')
    for table in tables:
        parts.append(f"<h2>{e(table.title)}</h2><table><thead><tr>")
        parts += [f"<th scope=\"col\">{e(c.label)}</th>" for c in table.columns]
        parts.append("</tr></thead><tbody>")
        for row in table.rows:
            parts.append("<tr>")
            for c, v in zip(table.columns, table.cells(row)):
                cls = ' class="num"' if c.kind in (INT, DECIMAL) else ""
                parts.append(f"<td{cls}>{e(cell_text(v, c.kind))}</td>")
            parts.append("</tr>")
        parts.append("</tbody></table>")
        if table.note:
            parts.append(f'<p class="note">{e(table.note)}</p>')
    parts.append("</body></html>")
    return "".join(parts)


def to_pdf(tables: Table | Sequence[Table], title: str, subtitle: str = "") -> bytes:
    """The tables as a plain PDF (A4 landscape), a heading each."""
    import weasyprint  # loaded on first use, as engine/documents does

    tables = [tables] if isinstance(tables, Table) else list(tables)
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    return weasyprint.HTML(string=to_html(tables, title, subtitle), url_fetcher=fetcher).write_pdf()
