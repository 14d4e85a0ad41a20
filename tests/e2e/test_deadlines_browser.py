"""Legal deadlines in Debian's Chromium: a LAIP request's 10 working days shown in the case clerks' queue
("Vence") and on the case page (days left, basis), moved by a closure day the administrator declares."""
from __future__ import annotations

from datetime import date

from engine.usecases import cases, closures
from tests.conftest import SYSTEM, principal_for
from tests.e2e.chromium import SCREENSHOTS, new_page
from tests.processes.driver import local
from tests.processes.test_solicitud_ciudadana import intake


def test_the_laip_deadline_on_the_queue_and_the_case_page_moves_with_a_closure_day(browser, server):
    base, svc = server
    before, added = svc.clock.now, False
    svc.clock.now = local(2026, 12, 2, 10)     # Wed 2 Dec 2026: due Wed 16 Dec (10 working days from Thu 3)
    try:
        case = cases.start_case(svc, SYSTEM, "solicitud_ciudadana", intake())
        page = new_page(browser, base, "tramite1", "/bandeja?vista=queue")
        row = page.locator("tr[data-task]", has_text=case.number)
        assert "16/12/2026 16:30" in row.inner_text()
        svc.clock.now = local(2026, 12, 5, 9)
        closures.add_closure(svc, principal_for("admin"), date(2026, 12, 10), "Emergencia declarada")
        added = True
        page.reload()
        assert "17/12/2026 16:30" in page.locator("tr[data-task]", has_text=case.number).inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "inbox_legal_deadline.png"), full_page=True)
        page.goto(f"{base}/expedientes/{case.id}")
        deadline = page.locator('#legal-deadlines tr[data-key="laip_respuesta"]')
        text = deadline.inner_text()
        assert "17/12/2026 16:30" in text and "Decreto 57-2008" in text
        # Sat 5 Dec → Thu 17 Dec: 7, 8, 9, (10 closed), 11, 14, 15, 16, 17 → 8 working days left.
        assert "Quedan 8 días hábiles" in text
        page.locator("#deadlines-title").screenshot(path=str(SCREENSHOTS / "case_legal_deadlines_title.png"))
        page.screenshot(path=str(SCREENSHOTS / "case_legal_deadlines.png"), full_page=True)
        page.context.close()
    finally:
        if added:  # the office is shared by the module's tests
            closures.remove_closure(svc, principal_for("admin"), date(2026, 12, 10))
        svc.clock.now = before
