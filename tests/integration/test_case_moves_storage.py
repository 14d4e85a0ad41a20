"""A move to another step on SQLite and PostgreSQL: the task rows, the inbox and the case's version follow in the
move's transaction, a stale version loses, and the moved case completes (engine/usecases/case_moves.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.storage import models
from engine.usecases import case_moves, cases, tasks
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM, bpmn_fixture, principal_for
from tests.task_rows import task_rows

CLERK = principal_for("oficial1", role="clerk", groups=("ventanilla",))
SUPERVISOR = principal_for("supervisor1", role="supervisor")


def inbox(svc, case_id: int) -> list[str]:
    i = models.inbox_items
    with svc.uow(write=False) as uow:
        return sorted(uow.conn.execute(select(i.c.element_id).where(i.c.case_id == case_id)).scalars())


def test_a_move_rewrites_the_rows_in_one_transaction_and_the_case_completes(svc):
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    case = cases.start_case(svc, CLERK, "five_step", {"amount": 10})
    assert inbox(svc, case.id) == ["register"]
    version = cases.get_case(svc, SYSTEM, case.id)["version"]

    moved = case_moves.move_case(svc, SUPERVISOR, case.id, "approve", "Registrado en papel", version)

    assert moved["version"] == version + 1
    assert inbox(svc, case.id) == ["approve"]
    with svc.uow(write=False) as uow:
        t = models.tasks
        states = dict(uow.conn.execute(select(t.c.element_id, t.c.state).where(t.c.case_id == case.id)).all())
    assert states == {"register": "cancelled", "approve": "ready"}
    with pytest.raises(Conflict):
        case_moves.move_case(svc, SUPERVISOR, case.id, "register", "Con la versión vieja", version)
    assert inbox(svc, case.id) == ["approve"]
    [approve] = task_rows(svc, case.id)
    done = tasks.complete_task(svc, SUPERVISOR, approve["id"], {})
    assert done["case_state"] == "completed", done
    kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, case.id)]
    assert kinds[-3:] == ["case_moved", "task_completed", "case_completed"]
