"""/informes/laip, /informes/mensual and /informes/mapa-de-calor through Flask's client: the table on the page, its
CSV, XLSX and PDF downloads, bad input refused in Spanish with a 400 and never a 500."""
from __future__ import annotations

import zipfile
from io import BytesIO

import pytest

from engine.accounts.users import add_user
from engine.usecases import cases
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.web.conftest import PASSWORD, login

FILER = principal_for("ventanilla2", "clerk", ("ventanilla",))


@pytest.fixture(scope="module")
def reader(web_office):
    svc, app = web_office
    add_user(svc, "jefe_informes", "supervisor", PASSWORD, display_name="Jefe de Informes", groups=["ventanilla"])
    cases.start_case(svc, FILER, "licencia", intake())  # filed Monday 30 March 2026
    client = app.test_client()
    assert login(client, "jefe_informes").status_code == 302
    return client


def test_monthly_summary_page_and_its_downloads(reader):
    page = reader.get("/informes/mensual?mes=2026-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Resumen mensual por trámite: marzo de 2026" in html
    assert 'data-key="filed" class="num">1<' in html
    csv = reader.get("/informes/mensual?mes=2026-03&formato=csv")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert "resumen-mensual-2026-03.csv" in csv.headers["Content-Disposition"]
    lines = csv.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == "Trámite,Presentados,Resueltos,Cancelados,Abiertos al final del mes,\"De ellos, vencidos\""
    assert lines[-1].startswith("Total,1,0,0,1")
    xlsx = reader.get("/informes/mensual?mes=2026-03&formato=xlsx")
    with zipfile.ZipFile(BytesIO(xlsx.get_data())) as book:
        assert "Presentados" in book.read("xl/worksheets/sheet1.xml").decode()
    assert reader.get("/informes/mensual?mes=2026-03&formato=pdf").get_data()[:5] == b"%PDF-"


def test_laip_page_and_its_downloads(reader):
    page = reader.get("/informes/laip?anio=2026")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Solicitudes de acceso a la información pública 2026" in html
    assert "Negadas: reservada" in html and "Total 2026" in html
    csv = reader.get("/informes/laip?anio=2026&formato=csv").get_data().decode("utf-8-sig").splitlines()
    assert len(csv) == 14 and csv[-1].startswith("Total 2026,0")


@pytest.mark.parametrize("path, says", [
    ("/informes/laip?anio=dos-mil", "Escriba un año de 2000 a 2100."),
    ("/informes/laip?anio=2026&formato=doc", "Elija un formato: CSV, XLSX o PDF."),
    ("/informes/mensual?mes=2026-13", "Escriba el mes como AAAA-MM (por ejemplo 2026-11)."),
    ("/informes/mapa-de-calor?procedimiento=licencia&desde=ayer", "Escriba las fechas como AAAA-MM-DD."),
    ("/informes/mapa-de-calor?procedimiento=licencia&desde=2026-03-31&hasta=2026-03-01", "El período no es válido"),
    ("/informes/mapa-de-calor?procedimiento=licencia&modo=colores", "El modo debe ser «tiempo» o «casos»."),
    ("/informes/mapa-de-calor?procedimiento=licencia&hasta=1999-12-31", "Las fechas deben caer entre los años 2000"),
    ("/informes/mapa-de-calor?procedimiento=licencia&formato=odt", "Elija un formato: CSV, XLSX o PDF."),
])
def test_bad_input_is_refused_in_spanish(reader, path, says):
    page = reader.get(path)
    assert page.status_code == 400 and says in page.get_data(as_text=True)


def test_heat_map_page_shows_the_tables_and_the_diagrams_paint(reader):
    page = reader.get("/informes/mapa-de-calor?procedimiento=licencia&desde=2026-03-01&hasta=2026-03-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-source="/api/processes/licencia/versions/' in html and 'id="heatmap-paint"' in html
    assert '<tr data-element="' in html and '<tr data-flow="' in html
    assert reader.get("/informes/mapa-de-calor?procedimiento=no_existe").status_code == 404


def test_heat_map_tables_download_as_csv_xlsx_and_pdf(reader):
    period = "/informes/mapa-de-calor?procedimiento=licencia&desde=2026-03-01&hasta=2026-03-31"
    page = reader.get(period).get_data(as_text=True)
    assert "formato=csv" in page and "tabla=flujos" in page and "formato=xlsx" in page and "formato=pdf" in page
    elements = reader.get(period + "&formato=csv")
    assert elements.status_code == 200 and elements.headers["Content-Type"].startswith("text/csv")
    lines = elements.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Elemento,Identificador,Expedientes,Pasos,Mediana (horas)")
    # The case filed on 30 March passed the start event once: its row counts one case.
    start = [line for line in lines[1:] if line.split(",")[2] == "1"]
    assert start, lines
    flows = reader.get(period + "&formato=csv&tabla=flujos").get_data().decode("utf-8-sig").splitlines()
    assert flows[0] == "Flujo,De,A,Veces tomado" and len(flows) > 1
    with zipfile.ZipFile(BytesIO(reader.get(period + "&formato=xlsx").get_data())) as book:
        names = book.namelist()
        assert "xl/worksheets/sheet1.xml" in names and "xl/worksheets/sheet2.xml" in names
        assert "Veces tomado" in book.read("xl/worksheets/sheet2.xml").decode()
    assert reader.get(period + "&formato=pdf").get_data()[:5] == b"%PDF-"
