"""A closure day declared by one worker counts in every other at its next step (no polling interval), on SQLite and
PostgreSQL; a closure that moves nothing says so; a day already closed is refused and moves nothing twice."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.storage import models
from engine.accounts.users import map_lane
from engine.usecases import cases, closures, tasks
from engine.usecases.deploy import deploy_files
from tests.conftest import FakeClock, SYSTEM, bpmn_fixture, make_services, principal_for
from tests.processes.driver import closing, local, office
from tests.processes.test_solicitud_ciudadana import intake

ADMIN = principal_for("admin")


def laip_due(svc, case_id: int):
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(models.legal_deadlines.c.due_at).where(
            models.legal_deadlines.c.case_id == case_id)).scalar_one()


def test_a_closure_declared_by_one_worker_counts_in_another_at_its_next_step(database_url):
    clock = FakeClock(local(2026, 12, 2, 10))
    admin_side = office(database_url, clock)
    clerk_side = make_services(database_url, FakeClock(local(2026, 12, 2, 10)))   # another process's services
    try:
        # The clerk's worker read the calendar at its start; the administrator's worker then closes Thu 10 Dec.
        moved = closures.add_closure(admin_side, ADMIN, date(2026, 12, 10), "Emergencia declarada")["moved"]
        assert moved == {"deadlines": 0, "timers": 0, "cases": [], "skipped": []}   # nothing was running yet
        case = cases.start_case(clerk_side, SYSTEM, "solicitud_ciudadana", intake())
        assert laip_due(clerk_side, case.id) == closing(2026, 12, 17)   # not 16 Dec: the closure counted
        with pytest.raises(Conflict):
            closures.add_closure(clerk_side, ADMIN, date(2026, 12, 10), "Otra vez")
        assert laip_due(clerk_side, case.id) == closing(2026, 12, 17)   # the refused one moved nothing
        # Reopened by the clerk side's services: the other side's next step counts without it.
        assert closures.remove_closure(clerk_side, ADMIN, date(2026, 12, 10))["moved"]["deadlines"] == 1
        second = cases.start_case(admin_side, SYSTEM, "solicitud_ciudadana", intake())
        assert laip_due(admin_side, second.id) == closing(2026, 12, 16)
        assert laip_due(admin_side, case.id) == closing(2026, 12, 16)
        with admin_side.uow(write=False) as uow:   # both changes in the administration log, with what they moved
            logged = uow.conn.execute(select(models.admin_log.c.action, models.admin_log.c.target)
                                      .where(models.admin_log.c.action.like("closure.%"))
                                      .order_by(models.admin_log.c.seq)).all()
        assert [tuple(r) for r in logged] == [("closure.add", "2026-12-10"), ("closure.remove", "2026-12-10")]
    finally:
        clerk_side.db.dispose()
        admin_side.db.dispose()


def test_a_closure_declared_by_one_worker_counts_in_another_at_its_next_task(database_url):
    """Completing a task reads the closure days' fingerprint with the task and its case: a closure the other worker
    declared in between is in this worker's calendar when the step runs, and gone again after it was reopened."""
    admin_side = office(database_url, FakeClock(local(2026, 12, 2, 10)))
    clerk_side = make_services(database_url, FakeClock(local(2026, 12, 2, 10)), forms=None)  # five_step has none
    try:
        map_lane(admin_side, "Ventanilla", "ventanilla")
        map_lane(admin_side, "Trámite", "tramite")
        deploy_files(admin_side, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")})
        started = cases.start_case(clerk_side, SYSTEM, "five_step")
        closures.add_closure(admin_side, ADMIN, date(2026, 12, 10), "Emergencia declarada")
        assert date(2026, 12, 10) not in clerk_side.calendar.closures   # the clerk's worker has not stepped since
        result = tasks.complete_task(clerk_side, ADMIN, started.ready_tasks[0]["id"], {"amount": 80})
        assert date(2026, 12, 10) in clerk_side.calendar.closures
        closures.remove_closure(admin_side, ADMIN, date(2026, 12, 10))
        tasks.complete_task(clerk_side, ADMIN, result["ready_tasks"][0]["id"], {"ok": True})
        assert date(2026, 12, 10) not in clerk_side.calendar.closures
    finally:
        clerk_side.db.dispose()
        admin_side.db.dispose()
