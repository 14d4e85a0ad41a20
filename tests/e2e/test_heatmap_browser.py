"""The heat map in Debian's Chromium: two licences filed at 09:00 and received one and three hours later; the
supervisor opens /informes/mapa-de-calor, bpmn-js draws the licence's diagram and the page paints it: the receipt
step (the slowest) in the scale's darkest colour, the start event in its palest, the flows taken thicker, the legend's
swatches coloured; the accessible tables hold the same figures. The page passes axe-core; no inline script (the CSP
check of conftest)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.accounts.users import add_user
from engine.usecases import heatmap
from tests.e2e.chromium import new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: a fixture)
from tests.processes.licencia_walk import receive, start
from tests.web.conftest import PASSWORD, START

CHIEF = "jefe_mapa"
PATH = "/informes/mapa-de-calor?procedimiento=licencia&desde=2026-03-01&hasta=2026-03-31"


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def walked(server):
    svc = server[1]
    add_user(svc, CHIEF, "supervisor", PASSWORD, display_name="Jefe de Informes", groups=["ventanilla"])
    first, second = start(svc, at=START), start(svc, at=START)
    svc.clock.now = START + timedelta(hours=1)
    receive(second)
    svc.clock.now = START + timedelta(hours=3)
    receive(first)
    return first, second


def fill_of(page, element_id: str) -> str:
    return page.evaluate("""(id) => {
        const shape = document.querySelector(`[data-element-id="${id}"] .djs-visual > *`);
        return shape ? getComputedStyle(shape).fill : null; }""", element_id)


def test_the_diagram_is_painted_by_time_spent_and_the_table_holds_the_figures(browser, server, walked,
                                                                              axe_source):  # noqa: F811
    base, _svc = server
    page = new_page(browser, base, CHIEF, PATH)
    page.wait_for_selector('#heatmap[data-ready="true"]')
    assert fill_of(page, "emitir_constancia") == rgb(heatmap.SCALE[-1])  # 1 h and 3 h: the slowest
    assert fill_of(page, "solicitud_presentada") == rgb(heatmap.SCALE[0])  # passed at once: no time spent
    painted = page.evaluate("""() => [...document.querySelectorAll('[data-heat-fill]')]
        .map(s => s.closest('[data-element-id]').getAttribute('data-element-id'))""")
    assert "emitir_constancia" in painted and "revisar_completitud" not in painted  # still waiting: no visit ended
    widths = page.evaluate("""() => [...document.querySelectorAll('[data-heat-width]')]
        .map(p => getComputedStyle(p).strokeWidth)""")
    assert widths and all(w == "8px" for w in widths)  # every flow taken was taken by both cases
    swatch = page.locator(".legend .swatch").last.evaluate("s => getComputedStyle(s).backgroundColor")
    assert swatch == rgb(heatmap.SCALE[-1])

    row = page.locator('#heat-elements tr[data-element="emitir_constancia"]')
    assert row.locator(".cases").inner_text() == "2" and row.locator(".visits").inner_text() == "2"
    assert row.locator(".median").inner_text() == "1.0 h" and row.locator(".p90").inner_text() == "3.0 h"
    assert row.locator(".total").inner_text() == "4.0 h"
    assert violations(page, axe_source) == []

    page.check('input[name="modo"][value="casos"]')
    page.click('form.filters button[type="submit"]')
    page.wait_for_selector('#heatmap[data-ready="true"]')
    assert "modo=casos" in page.url
    assert page.locator("#legend-title").inner_text() == "Leyenda: expedientes que pasaron"
    assert fill_of(page, "emitir_constancia") == fill_of(page, "solicitud_presentada") == rgb(heatmap.SCALE[-1])
