"""engine.accounts.permissions: the SQL filters and their row-level twins decide alike; the app's own secret."""
from __future__ import annotations

import stat

from sqlalchemy import select

from api.app import create_app
from engine.usecases import cases
from engine.storage import models
from engine.accounts import permissions
from engine.usecases import tasks
from engine.accounts.auth import principal_by_username
from tests.api import probes
from tests.api.conftest import ACCOUNTS
from tests.conftest import principal_for
from tests.task_rows import task_rows


def test_case_filter_in_sql_and_can_see_case_in_python_agree(seeded):
    probes.new_case(seeded)
    probes.claimed_task(seeded, "oficial2")
    started_by_lawyer = cases.start_case(seeded, principal_for("juridico1"), "five_step", {"amount": 1}).id
    [task] = task_rows(seeded, started_by_lawyer)
    tasks.complete_task(seeded, principal_for("oficial1"), task["id"], {"amount": 500})  # now waits in tramite
    seen = {}
    with seeded.uow(write=False) as uow:
        all_cases = [dict(r) for r in uow.conn.execute(select(models.cases)).mappings()]
        all_tasks = [dict(r) for r in uow.conn.execute(select(models.tasks)).mappings()]
        for username in ACCOUNTS:
            who = principal_by_username(seeded, username)
            condition = permissions.case_filter(who)
            query = select(models.cases.c.id)
            in_sql = set(uow.conn.execute(query if condition is None else query.where(condition)).scalars())
            in_python = {c["id"] for c in all_cases
                         if permissions.can_see_case(who, c, [t for t in all_tasks if t["case_id"] == c["id"]])}
            assert in_sql == in_python, username
            seen[username] = in_sql
    assert seen["juridico1"] == {started_by_lawyer}        # he started it, though it never reached his group
    assert started_by_lawyer in seen["oficial2"]           # its first (now done) task was ventanilla's
    assert seen["auditor1"] == {c["id"] for c in all_cases}


def test_every_role_in_the_rules_exists_and_the_auditor_only_reads():
    roles = set().union(*permissions.RULES.values())
    assert roles == {"clerk", "supervisor", "auditor", "admin"}
    auditor_actions = {action for action, allowed in permissions.RULES.items() if "auditor" in allowed}
    # Besides reading: his own tokens, and the audit desk's export and signed checkpoint, which write nothing but the
    # access log and the checkpoints (tests/api/test_auditor_changes_nothing.py holds him to that over every route).
    beyond_reading = {"token.own", "audit.export", "audit.checkpoint"}
    assert all(a.endswith(".read") or a in beyond_reading for a in auditor_actions), auditor_actions


def test_without_a_configured_secret_the_app_makes_one_per_install_and_keeps_it(sqlite_svc, tmp_path):
    first = create_app({"VAR_DIR": str(tmp_path)}, services=sqlite_svc).config["SECRET_KEY"]
    again = create_app({"VAR_DIR": str(tmp_path)}, services=sqlite_svc).config["SECRET_KEY"]
    secret = tmp_path / "secret_key"
    assert first == again == secret.read_text().strip() and len(first) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
