"""Migrating running cases in Debian's Chromium: a supervisor opens "Migrar casos" from the modeler's list of
procedures, chooses licence v1 → v2 (tests/fixtures/licencia_v2.bpmn), maps the renamed step by hand, simulates and
sees the dry run per case, applies (the batches posted by web/static/js/migration.js, the progress bar filling), and
finds a migrated case on v2 with the migration in its history. The pages pass axe-core."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases, tasks
from tests.conftest import principal_for
from tests.e2e.chromium import new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: a fixture)
from tests.migration_cases import deploy_v2
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD

FILER = principal_for("ventanilla2", "clerk", ("ventanilla",))


@pytest.fixture(scope="module")
def running(server) -> list[int]:
    """Three licences on v1: two waiting at the receipt, one at the completeness review (a call activity); then v2
    is published."""
    svc = server[1]
    add_user(svc, "supervisor1", "supervisor", PASSWORD, display_name="Sonia Pérez", groups=["ventanilla"])
    ids = [cases.start_case(svc, FILER, "licencia", intake()).id for _ in range(3)]
    receipt = task_rows(svc, ids[2])[0]["id"]
    tasks.claim_task(svc, FILER, receipt)
    tasks.complete_task(svc, FILER, receipt, {"constancia_entrega": "ventanilla", "constancia_folios": 12})
    deploy_v2(svc)
    return ids


def version_of(svc, case_id: int) -> int:
    c, v = models.cases, models.process_versions
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(v.c.version).join(c, c.c.process_version_id == v.c.id)
                                .where(c.c.id == case_id)).scalar_one()


def test_supervisor_simulates_applies_and_sees_a_migrated_case(browser, server, running, axe_source):  # noqa: F811
    base, svc = server
    page = new_page(browser, base, "supervisor1", "/modelador")
    page.locator("#procesos tr", has_text="licencia").get_by_role("link", name="Migrar casos").click()
    page.wait_for_selector("#versiones")
    assert violations(page, axe_source) == []
    page.click("text=Continuar")  # from the first version to the newest, as pre-selected
    page.wait_for_selector("#correspondencia")
    assert violations(page, axe_source) == []
    # Steps of the same id are mapped already; the renamed one waits for a hand.
    assert page.input_value("#paso-emitir_constancia") == "emitir_constancia"
    assert page.input_value("#paso-elaborar_dictamen") == ""
    page.select_option("#paso-elaborar_dictamen", "redactar_dictamen")
    page.fill("#expedientes", ", ".join(str(i) for i in running))
    page.click("#boton-simular")
    page.wait_for_selector("#simulacion")
    assert violations(page, axe_source) == []
    rows = page.locator("#simulacion tbody tr")
    assert rows.count() == 3
    first = page.locator(f'#simulacion tr[data-case="{running[0]}"]')
    assert first.get_attribute("data-state") == "planned"
    assert "Emitir constancia de recepción (tarea)" in first.inner_text()
    review = page.locator(f'#simulacion tr[data-case="{running[2]}"]').inner_text()
    assert "revision_completitud" in review and "Revisar completitud" in review
    assert "3 por aplicar" in page.inner_text("#resumen")
    assert version_of(svc, running[0]) == 1  # the dry run changed nothing

    page.click("#boton-aplicar")
    page.wait_for_selector(f'#simulacion tr[data-case="{running[0]}"][data-state="migrated"]')
    assert "3 migrados" in page.inner_text("#resumen")
    assert page.get_attribute("#progreso", "value") == "3"
    assert [version_of(svc, i) for i in running] == [2, 2, 2]

    page.click(f'#simulacion tr[data-case="{running[2]}"] a')
    page.wait_for_url(re.compile(rf"/expedientes/{running[2]}$"))
    assert "Expediente migrado a otra versión del procedimiento" in page.inner_text("#timeline")
    assert violations(page, axe_source) == []
