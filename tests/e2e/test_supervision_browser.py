"""The supervisor in Debian's Chromium: from the navigation to /supervision, the counts of his group (open, unassigned,
overdue, due soon) and of its clerks; into the group's list, two tasks ticked and reassigned at once, each reported
done, and the counts follow. Both pages pass axe-core."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases, tasks
from tests.conftest import principal_for
from tests.e2e.chromium import new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: a fixture)
from tests.processes.licencia_walk import GT, intake
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD

FILER = principal_for("ventanilla2", "clerk", ("ventanilla",))
HOLDER = principal_for("ventanilla1", "clerk", ("ventanilla",))
CHIEF = "jefa_ventanilla"
# The office's clock stands at Monday 30 March 2026, 09:00 (tests/web/conftest.py START).
DUE = {"overdue": datetime(2026, 3, 27, 12, tzinfo=GT), "soon": datetime(2026, 3, 31, 12, tzinfo=GT), "none": None}


@pytest.fixture(scope="module")
def filed(server) -> dict[str, str]:
    """Three licences waiting at ventanilla: one overdue and claimed by ventanilla1, one due tomorrow, one without
    a deadline (set here: the diagram's own deadlines are tested elsewhere)."""
    svc = server[1]
    add_user(svc, CHIEF, "supervisor", PASSWORD, display_name="Jefa de Ventanilla", groups=["ventanilla"])
    ids = {}
    for name, due in DUE.items():
        task_id = task_rows(svc, cases.start_case(svc, FILER, "licencia", intake()).id)[0]["id"]
        with svc.uow() as uow:
            uow.conn.execute(update(models.tasks).where(models.tasks.c.id == task_id).values(due_at=due))
            uow.commit()
        ids[name] = task_id
    tasks.claim_task(svc, HOLDER, ids["overdue"])
    return ids


def cells(page, selector: str) -> list[str]:
    return [c.strip() for c in page.locator(f"{selector} > *").all_inner_texts()]


def test_supervisor_sees_the_counts_and_reassigns_two_tasks_at_once(browser, server, filed, axe_source):  # noqa: F811
    base, svc = server
    page = new_page(browser, base, CHIEF)
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Supervisión").click()
    page.wait_for_selector("#groups")
    assert cells(page, 'tr[data-group="ventanilla"]') == ["ventanilla", "3", "2", "1", "1"]
    assert cells(page, 'tr[data-clerk="ventanilla1"]') == ["Marta Ixcoy (ventanilla1)", "1", "1", "0"]
    assert page.locator('tr[data-group="tramite"]').count() == 0  # not a group she supervises
    assert violations(page, axe_source) == []

    page.click('tr[data-group="ventanilla"] a')
    page.wait_for_selector("#open-tasks")
    assert page.locator("#open-tasks tbody tr").count() == 3
    assert violations(page, axe_source) == []
    page.check(f'input[value="{filed["soon"]}"]')
    page.check(f'input[value="{filed["none"]}"]')
    page.select_option("#asignar_a", "ventanilla2")
    page.click("button[value=reasignar]")
    page.wait_for_selector("#results")
    for name in ("soon", "none"):
        row = page.locator(f'#results tr[data-task="{filed[name]}"]')
        assert row.get_attribute("class") == "outcome-done"
        assert "Reasignada a ventanilla2." in row.inner_text()
        assert "Pedro Sicajau (ventanilla2)" in page.inner_text(f'#open-tasks tr[data-task="{filed[name]}"] .holder')
    with svc.uow(write=False) as uow:
        holders = dict(uow.conn.execute(select(models.tasks.c.id, models.tasks.c.assignee)
                                        .where(models.tasks.c.id.in_(list(filed.values())))).all())
    assert {name: holders[task_id] for name, task_id in filed.items()} == \
        {"overdue": "ventanilla1", "soon": "ventanilla2", "none": "ventanilla2"}

    page.click("text=← Supervisión")
    page.wait_for_selector("#groups")
    assert cells(page, 'tr[data-group="ventanilla"]') == ["ventanilla", "3", "0", "1", "1"]
    assert cells(page, 'tr[data-clerk="ventanilla2"]') == ["Pedro Sicajau (ventanilla2)", "2", "0", "1"]
