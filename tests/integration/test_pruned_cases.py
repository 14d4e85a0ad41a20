"""Long cases cost what short ones do: a saved case keeps only what can still run (engine/runtime/pruning.py), and
migration 0017 prunes the cases stored before (SQLite and PostgreSQL)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from engine.runtime import serializer
from engine.usecases import cases, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import LOOP
from tests.conftest import SYSTEM, principal_for
from tests.task_rows import task_rows

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0017_prune_task_trees.py"


def _stored(svc, case_id) -> str:
    with svc.uow(write=False) as uow:
        return uow.conn.exec_driver_sql(f"SELECT workflow_json FROM cases WHERE id = {int(case_id)}").scalar()


def _work(svc, case_id, rounds: int) -> None:
    clerk = principal_for("oficial1")
    for n in range(rounds):
        [row] = [t for t in task_rows(svc, case_id) if t["state"] == "ready"]
        tasks.complete_task(svc, clerk, row["id"], {"nota": f"sesión {n}"})


def _migrate_0017(svc) -> None:
    spec = importlib.util.spec_from_file_location("m0017", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with svc.db.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            module.upgrade()


def test_a_long_case_is_stored_the_size_of_a_short_one_and_shows_its_whole_history(svc):
    deploy_files(svc, {"loop.bpmn": LOOP})
    case = cases.start_case(svc, SYSTEM, "loop", {"limit": 10**6})
    _work(svc, case.id, 5)
    short = len(_stored(svc, case.id))
    _work(svc, case.id, 120)
    assert len(_stored(svc, case.id)) <= short * 1.1
    assert cases.case_data(svc, SYSTEM, case.id)["i"] == 125
    page = cases.case_page(svc, SYSTEM, case.id)
    assert page["marks"]["active"] == ["work"] and {"start", "init", "inc", "gw"} <= set(page["marks"]["done"])
    history = cases.case_history(svc, SYSTEM, case.id)
    assert sum(e["kind"] == "task_completed" for e in history) == 125


def test_the_migration_prunes_cases_stored_whole_and_they_go_on_to_their_end(svc, monkeypatch):
    deploy_files(svc, {"loop.bpmn": LOOP})
    monkeypatch.setattr(serializer, "prune_document", lambda dct: set())  # as saved before this version
    long = cases.start_case(svc, SYSTEM, "loop", {"limit": 60})
    _work(svc, long.id, 58)
    finished = cases.start_case(svc, SYSTEM, "loop", {"limit": 3})
    _work(svc, finished.id, 3)
    monkeypatch.undo()
    whole = {c: len(_stored(svc, c)) for c in (long.id, finished.id)}
    marks = cases.case_page(svc, SYSTEM, long.id)["marks"]
    version = cases.get_case(svc, SYSTEM, long.id)["version"]

    _migrate_0017(svc)

    assert len(_stored(svc, long.id)) < whole[long.id] / 5
    assert len(_stored(svc, finished.id)) < whole[finished.id]
    # Nothing a reader sees changes, and a form opened before the upgrade can still be sent (same version).
    assert cases.case_page(svc, SYSTEM, long.id)["marks"] == marks
    assert cases.get_case(svc, SYSTEM, long.id)["version"] == version
    assert cases.case_data(svc, SYSTEM, finished.id)["i"] == 3
    assert cases.case_data(svc, SYSTEM, long.id)["i"] == 58
    _work(svc, long.id, 2)
    assert cases.get_case(svc, SYSTEM, long.id)["state"] == "completed"
    assert cases.case_data(svc, SYSTEM, long.id)["i"] == 60
    _migrate_0017(svc)  # again: nothing left to prune, nothing breaks
