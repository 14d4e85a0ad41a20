"""The reports' pages (/informes): the index, each report with its chart and tables holding the figures of
tests/report_rows.py, filters, a bad date said in Spanish on the page (400), and the downloads (CSV, XLSX, PDF) read
back to the same numbers."""
from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from engine.accounts.users import add_user
from tests.report_rows import NOW, build_report_office
from tests.web.conftest import PASSWORD, build_app, login

Q = "desde=2026-01-01&hasta=2026-03-31"


@pytest.fixture
def client(sqlite_svc, clock, tmp_path):
    clock.now = NOW
    build_report_office(sqlite_svc)
    add_user(sqlite_svc, "sup", "supervisor", PASSWORD, groups=["ventanilla"], display_name="Supervisora")
    app = build_app(sqlite_svc, tmp_path)
    c = app.test_client()
    assert login(c, "sup").status_code == 302
    return c


def _cells(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_index_lists_the_reports_and_the_nav_links_it(client):
    html = client.get("/informes").get_data(as_text=True)
    assert 'href="/informes"' in html  # the nav link
    for name in ("casos", "tiempos", "plazos", "carga"):
        assert f'href="/informes/{name}"' in html
    assert 'href="/informes/mapa-de-calor"' in html


def test_cases_page_shows_the_chart_and_the_numbers(client):
    answer = client.get("/informes/casos?" + Q)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html and "<desc" in html
    assert _cells(html, "report-table-0") == [["2026-01", "2", "3", "0", "0"], ["2026-02", "2", "1", "1", "0"],
                                              ["2026-03", "2", "0", "0", "2"], ["Total", "6", "4", "1", "2"]]
    beta = client.get("/informes/casos?" + Q + "&tramite=beta").get_data(as_text=True)
    assert _cells(beta, "report-table-0")[-1] == ["Total", "3", "0", "1", "2"]


def test_other_reports_render(client):
    times = client.get("/informes/tiempos?" + Q).get_data(as_text=True)
    assert _cells(times, "report-table-0") == [["alfa", "4", "111.0", "470.4", "3.5", "13.4"]]
    deadlines = client.get("/informes/plazos?" + Q + "&grupo=tramite").get_data(as_text=True)
    assert _cells(deadlines, "report-table-2") == [["tramite", "2", "0", "0", "1", "1", "3", "0", "2", "1"]]
    load = client.get("/informes/carga?" + Q).get_data(as_text=True)
    assert _cells(load, "report-table-0")[:2] == [["Luis Cano", "luis", "2", "1", "2", "1"],
                                                  ["Ana Pérez", "ana", "0", "0", "2", "0"]]


def test_bad_input_is_said_on_the_page(client):
    answer = client.get("/informes/casos?desde=2026-03-01&hasta=2026-01-01")
    assert answer.status_code == 400
    assert "la fecha final es anterior a la inicial" in answer.get_data(as_text=True)
    assert client.get("/informes/casos.csv?desde=ayer").status_code == 400
    assert client.get("/informes/plazos.csv?tabla=7").status_code == 400


def test_downloads_read_back_to_the_same_numbers(client):
    answer = client.get("/informes/casos.csv?" + Q)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="informe-casos-2026-01-01-2026-03-31.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "Mes" and rows[1:] == [["2026-01", "2", "3", "0", "0"], ["2026-02", "2", "1", "1", "0"],
                                                ["2026-03", "2", "0", "0", "2"], ["Total", "6", "4", "1", "2"]]
    groups = list(csv.reader(io.StringIO(client.get("/informes/plazos.csv?tabla=2&" + Q).get_data()
                                         .decode("utf-8-sig"), newline="")))
    assert groups[1:] == [["tramite", "2", "0", "0", "1", "1", "3", "0", "2", "1"],
                          ["ventanilla", "3", "2", "2", "1", "0", "2", "2", "0", "0"]]
    book = client.get("/informes/plazos.xlsx?" + Q)
    with zipfile.ZipFile(io.BytesIO(book.get_data())) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/worksheets/")]) == 3
        assert '<c r="B2"><v>3</v></c>' in z.read("xl/worksheets/sheet1.xml").decode()  # alfa's legal deadlines
    pdf = client.get("/informes/carga.pdf?" + Q)
    assert pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF-")

