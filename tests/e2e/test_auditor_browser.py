"""The auditor in Debian's Chromium: he logs in and lands on the search of the history, finds a case by its number,
opens its full record, downloads its verifiable ZIP, which verifies offline (engine.audit.verify_export) with the
public key the integrity page shows; exports a search as CSV through the progress bar (100 %, every row); and his
pages pass axe-core and fit a phone's width."""
from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from engine.audit import bundle
from engine.audit.checkpoints import create_checkpoint
from engine.audit.verify_export import verify_export
from engine.storage import models
from engine.usecases import cases, tasks
from sqlalchemy import func, select
from tests.conftest import principal_for
from tests.e2e.chromium import CSP_VIOLATIONS, TIMEOUT_MS
from tests.e2e.test_phone_and_accessibility import VIEWPORTS, axe_source, overflow, violations  # noqa: F401
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD

AUDITOR = "auditor1"  # tests/web/conftest.py's office
CLERK = principal_for("ventanilla1", "clerk", ("ventanilla",))
# The auditor's pages; `{case}` is the case filed for the test. /verificar shows the latest checkpoint once one is
# signed.
AUDITOR_PAGES = ("/auditoria", "/auditoria?expediente={number}", "/auditoria/expedientes/{case}",
                 "/auditoria/integridad", "/auditoria/accesos", "/verificar")


@pytest.fixture(scope="module")
def filed(server) -> dict:
    """A licence filed at the desk and its first step (the receipt) completed by ventanilla1."""
    svc = server[1]
    started = cases.start_case(svc, CLERK, "licencia", intake())
    [task] = task_rows(svc, started.id)
    tasks.complete_task(svc, CLERK, task["id"], {"constancia_entrega": "ventanilla", "constancia_folios": 12})
    return {"case": started.id, "number": started.number}


def auditor_page(browser, base: str, viewport: str = "desktop"):
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="es-GT", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None)
    page = context.new_page()
    page.goto(f"{base}/entrar")
    page.fill("#username", AUDITOR)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/auditoria$"))  # his landing page, not the inbox
    return page


def _events_of(svc, case_id: int | None = None) -> int:
    q = select(func.count()).select_from(models.events)
    if case_id is not None:
        q = q.where(models.events.c.case_id == case_id)
    with svc.uow(write=False) as uow:
        return uow.conn.execute(q).scalar_one()


def test_an_auditor_goes_from_search_to_a_record_to_a_verified_export(browser, server, filed, tmp_path):
    base, svc = server
    page = auditor_page(browser, base)
    assert page.locator("#integrity-status").is_visible()
    page.fill("#f-expediente", filed["number"])
    page.click("#audit-search button[type=submit]")
    page.wait_for_selector("#audit-events")
    links = page.locator(f'#audit-events a[href="/auditoria/expedientes/{filed["case"]}"]')
    assert links.count() == _events_of(svc, filed["case"])
    links.first.click()
    page.wait_for_url(re.compile(rf"/auditoria/expedientes/{filed['case']}$"))
    assert page.locator("#steps tbody tr").count() == _events_of(svc, filed["case"])
    assert "Íntegra" in page.inner_text("#case-chain")

    with page.expect_download() as downloading:
        page.click("#export-zip")
    zipped = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(zipped)

    # The key as the office publishes it, read from the auditor's integrity page.
    page.goto(f"{base}/auditoria/integridad")
    public_key = page.inner_text("#public-key").strip()
    assert public_key.startswith("ed25519 ")
    report = verify_export(zipped, public_key)
    assert report.ok, report.problem
    # One changed byte of the history (who completed the step) and it fails.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(zipped) as original, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as copy:
        for member in original.infolist():
            content = original.read(member)
            if member.filename == bundle.EVENTS:
                assert b'"ventanilla1"' in content
                content = content.replace(b'"ventanilla1"', b'"ventanilla2"', 1)
            copy.writestr(member, content)
    assert not verify_export(tampered, public_key).ok
    page.context.close()


def test_a_search_exports_as_csv_with_its_progress_bar_reaching_the_end(browser, server, filed, tmp_path):
    base, svc = server
    page = auditor_page(browser, base)
    total = _events_of(svc)
    assert f"{total} eventos encontrados" in page.inner_text("#results-total")
    assert page.locator("#export-progress").is_hidden()
    with page.expect_download() as downloading:
        page.click("#export-csv")
    saved = tmp_path / "eventos.csv"
    downloading.value.save_as(saved)
    assert downloading.value.suggested_filename.endswith(".csv")
    page.wait_for_function("() => document.getElementById('export-progress').value === 100")
    assert page.locator("#export-progress").is_visible()
    assert page.inner_text("#export-status").startswith(f"{total} de {total} filas")
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert len(rows) == total
    assert sorted(int(r["secuencia"]) for r in rows) == list(range(1, total + 1))
    page.context.close()


def test_the_auditor_pages_pass_axe_and_fit_a_phone(browser, server, filed, axe_source):  # noqa: F811
    base, svc = server
    create_checkpoint(svc, AUDITOR)
    problems = []
    for viewport in VIEWPORTS:
        page = auditor_page(browser, base, viewport)
        for template in AUDITOR_PAGES:
            path = template.format(**filed)
            page.goto(f"{base}{path}")
            if path == "/verificar":
                assert page.locator("#published-checkpoint").count() == 1
            problems += [f"{viewport} {path}: {v}" for v in violations(page, axe_source)]
            if viewport == "phone" and (wide := overflow(page, template)):
                problems.append(f"{path}: {wide}")
        page.context.close()
    assert not problems, "\n".join(problems)
