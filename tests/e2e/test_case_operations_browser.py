"""A supervisor's operations on a case page in Debian's Chromium: reassign a task, release it, suspend and resume
with a reason, preview and perform a move to another step, and cancel after confirming; the page's history shows
each, and the panel and the preview pass axe-core."""
from __future__ import annotations

import re

import pytest

from engine.accounts.users import add_user
from engine.usecases import cases
from tests.conftest import SYSTEM, principal_for
from tests.e2e.chromium import new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: the fixture)
from tests.processes.licencia_walk import intake
from tests.web.conftest import PASSWORD


@pytest.fixture(scope="module")
def supervisor(web_office):
    add_user(web_office[0], "supervisor1", "supervisor", PASSWORD, display_name="Sara Supervisora",
             groups=["ventanilla"])
    return "supervisor1"


def history(page) -> str:
    return page.inner_text("#timeline")


def submit(page, form: str) -> None:
    """Press the submit button of the form `form` (a CSS selector) and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").first.click()


def test_supervisor_works_a_case_from_its_page(browser, server, supervisor, axe_source):  # noqa: F811
    base, svc = server
    clerk = principal_for("ventanilla2", role="clerk", groups=("ventanilla",))
    case_id = cases.start_case(svc, clerk, "licencia", intake()).id
    page = new_page(browser, base, supervisor, f"/expedientes/{case_id}")
    assert page.inner_text("#operations-title") == "Operaciones"
    assert violations(page, axe_source) == []

    # Reassign the open task to a clerk of its group, then give it back to the group's queue.
    page.select_option("#op-user-1", "ventanilla1")
    submit(page, "#op-tasks form[action$='/reasignar']")
    assert "quedó a cargo de ventanilla1" in page.inner_text("body")
    assert "Tarea asignada" in history(page)
    submit(page, "#op-tasks form[action$='/liberar']")
    assert "volvió a la cola de su grupo" in page.inner_text("body")
    assert "Tarea liberada" in history(page)

    # Suspend and resume, each with its reason.
    page.fill("#op-state-reason", "Falta el plan de seguridad firmado")
    submit(page, "#op-suspend")
    assert page.inner_text("#case-state") == "Suspendido" and "Expediente suspendido" in history(page)
    page.fill("#op-state-reason", "Se recibió el plan firmado")
    submit(page, "#op-resume")
    assert page.inner_text("#case-state") == "En trámite" and "Expediente reanudado" in history(page)

    # Move forward past the review: the preview says what closes and what opens, then the move with its reason.
    page.select_option("#op-move-step", "elaborar_dictamen")
    submit(page, "#op-move")
    assert re.search(rf"/expedientes/{case_id}/mover\?paso=elaborar_dictamen$", page.url)
    assert "Emitir constancia de recepción" in page.inner_text("#move-close")
    assert "Elaborar dictamen" in page.inner_text("#move-open")
    assert violations(page, axe_source) == []
    page.fill("#move-reason", "Expediente revisado en papel por la jefatura")
    submit(page, "#move-form")
    assert "Elaborar dictamen" in page.inner_text("#active-tasks")
    assert "Expediente movido a otro paso" in history(page)

    # Cancel: the reason, then the confirmation page.
    page.fill("#op-cancel-reason", "Solicitud duplicada")
    submit(page, "#op-cancel")
    assert page.input_value("#cancel-reason") == "Solicitud duplicada"
    with page.expect_navigation():
        page.click("#confirm-cancel")
    assert page.inner_text("#case-state") == "Anulado" and "Expediente anulado" in history(page)
    kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, case_id)]
    assert [k for k in kinds if k in ("task_assigned", "task_released", "case_suspended", "case_resumed",
                                      "case_moved", "case_cancelled")] == [
        "task_assigned", "task_released", "case_suspended", "case_resumed", "case_moved", "case_cancelled"]
    page.context.close()


def test_supervisor_retries_an_errored_case_seeing_its_error(browser, server, supervisor):
    """An errored case's panel names the failed step and its message; «Reintentar» runs it again (here it fails
    again: the case still lacks what the script needs) and the history shows the retry."""
    from engine.usecases.deploy import deploy_files
    from tests.api import probes
    from tests.conftest import bpmn_fixture
    base, svc = server
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    case_id = probes.errored_case(svc)  # its script needs "amount", which the case lacks
    error = cases.get_case(svc, SYSTEM, case_id)
    page = new_page(browser, base, supervisor, f"/expedientes/{case_id}")
    shown = page.inner_text("#op-error")
    assert error["error_element"] in shown and "amount" in shown
    submit(page, "#op-retry")
    assert "Reintento" in history(page)
    assert [e["kind"] for e in cases.case_history(svc, SYSTEM, case_id)][-2:] == ["retried", "error"]
    page.context.close()
