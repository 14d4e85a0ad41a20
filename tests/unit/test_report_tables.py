"""engine/reports/tables.py: a report's table written as CSV, XLSX (by hand) and PDF, read back to the same values."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from xml.etree import ElementTree

from engine.reports.tables import (DATE, DECIMAL, INT, Column, Table, cell_text, column_letter, sheet_name,
                                   to_csv, to_html, to_pdf, to_xlsx)

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def sample() -> Table:
    return Table("Casos por mes: [enero]", [Column("Mes", "month"), Column("Presentados", "filed", INT),
                                            Column("Mediana (días)", "median", DECIMAL), Column("Desde", "since", DATE)],
                 [{"month": "2026-01", "filed": 3, "median": 2.5, "since": date(2026, 1, 5)},
                  {"month": "=HYPERLINK(\"x\")", "filed": 0, "median": None, "since": None},
                  {"month": "Ñuñoa, \"comillas\"\nlínea", "filed": 12345, "median": 0.25, "since": date(2026, 12, 31)}],
                 note="Días hábiles.")


def test_csv_is_utf8_with_bom_rfc4180_and_reads_back():
    data = to_csv(sample())
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Mes", "Presentados", "Mediana (días)", "Desde"]
    assert rows[1] == ["2026-01", "3", "2.5", "05/01/2026"]
    assert rows[2] == ["'=HYPERLINK(\"x\")", "0", "", ""]  # a formula is not left for the spreadsheet to run
    assert rows[3] == ["Ñuñoa, \"comillas\"\nlínea", "12345", "0.2", "31/12/2026"]


def _sheet_values(data: bytes, n: int = 1) -> list[list]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", f"xl/worksheets/sheet{n}.xml"} <= names
        for name in names:  # every part is well-formed XML
            ElementTree.fromstring(z.read(name))
        sheet = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{n}.xml"))
    rows = []
    for row in sheet.iterfind(".//m:row", NS):
        values = {}
        for c in row.iterfind("m:c", NS):
            col = "".join(ch for ch in c.get("r") if ch.isalpha())
            if c.get("t") == "inlineStr":
                values[col] = c.find("m:is/m:t", NS).text or ""
            else:
                text = c.find("m:v", NS).text
                values[col] = float(text) if "." in text else int(text)
        rows.append(values)
    return rows


def test_xlsx_unzips_and_its_sheet_holds_the_values_numbers_as_numbers():
    rows = _sheet_values(to_xlsx(sample()))
    assert rows[0] == {"A": "Mes", "B": "Presentados", "C": "Mediana (días)", "D": "Desde"}
    assert rows[1] == {"A": "2026-01", "B": 3, "C": 2.5, "D": "05/01/2026"}
    assert rows[2] == {"A": "=HYPERLINK(\"x\")", "B": 0}  # inline text is never a formula in XLSX
    assert rows[3] == {"A": "Ñuñoa, \"comillas\"\nlínea", "B": 12345, "C": 0.25, "D": "31/12/2026"}
    assert rows[4] == {"A": "Días hábiles."}


def test_xlsx_several_tables_a_sheet_each_with_valid_names():
    a, b = sample(), Table("Casos por mes: [enero]", [Column("X", "x", INT)], [{"x": 1}])
    data = to_xlsx([a, b])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    names = [s.get("name") for s in book.iterfind(".//m:sheet", NS)]
    assert len(names) == 2 and len(set(n.lower() for n in names)) == 2
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert _sheet_values(data, 2)[1] == {"A": 1}


def test_small_helpers():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert sheet_name("", set()) == "Hoja"
    assert cell_text(None) == "" and cell_text(3.0, DECIMAL) == "3.0" and cell_text(date(2026, 2, 1)) == "01/02/2026"


def test_pdf_renders_the_tables():
    html = to_html([sample()], "Informe <de> prueba", "Periodo")
    assert "Informe &lt;de&gt; prueba" in html and "<td class=\"num\">12345</td>" in html
    data = to_pdf(sample(), "Informe", "Periodo del 01/01/2026 al 31/01/2026")
    assert data.startswith(b"%PDF-") and len(data) > 1000
