"""The reports in Debian's Chromium: a supervisor goes from the navigation to /informes, opens the cases per month,
sets the period, sees the SVG chart (an image with its title) and the table with the same numbers beside it, and
downloads the table as CSV; the page passes axe-core and breaks no Content-Security-Policy."""
from __future__ import annotations

import csv

import pytest

from engine.accounts.users import add_user
from tests.e2e.chromium import new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: a fixture)
from tests.report_rows import build_report_office
from tests.web.conftest import PASSWORD

CHIEF = "jefa_informes"


@pytest.fixture(scope="module")
def office_rows(server):
    svc = server[1]
    build_report_office(svc)
    add_user(svc, CHIEF, "supervisor", PASSWORD, display_name="Jefa de Informes", groups=["ventanilla"])


def test_supervisor_reads_the_cases_report_and_downloads_it(browser, server, office_rows, axe_source):  # noqa: F811
    base, _svc = server
    page = new_page(browser, base, CHIEF)
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Informes").click()
    page.wait_for_selector("#report-links")
    page.get_by_role("link", name="Casos presentados, resueltos y abiertos por mes").click()
    page.wait_for_selector("form.filters")
    page.fill("#desde", "2026-01-01")
    page.fill("#hasta", "2026-03-31")
    page.select_option("#tramite", "alfa")
    page.get_by_role("button", name="Ver").click()
    page.wait_for_url("**tramite=alfa**")
    chart = page.get_by_role("img", name="Expedientes por mes")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    assert page.locator("svg.chart rect title").count() == 9  # three months × filed, resolved, open
    rows = [[c.strip() for c in r.locator("th, td").all_inner_texts()]
            for r in page.locator("#report-table-0 tbody tr").all()]
    # alfa: A2, A3 filed and A1-A3 resolved in January; A4 filed and resolved in February.
    assert rows == [["2026-01", "2", "3", "0", "0"], ["2026-02", "1", "1", "0", "0"], ["2026-03", "0", "0", "0", "0"],
                    ["Total", "3", "4", "0", "0"]]
    assert violations(page, axe_source) == []

    with page.expect_download() as download:
        page.locator('a[data-format="csv"]').first.click()
    got = download.value
    assert got.suggested_filename == "informe-casos-2026-01-01-2026-03-31-0.csv"
    with open(got.path(), encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["Mes", "Presentados", "Resueltos", "Cancelados", "Abiertos al final del mes"]
    assert lines[1:] == rows
