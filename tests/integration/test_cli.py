"""The `expediente` command line, run as a newcomer would."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from engine.cli.main import main
from engine.config import Settings
from engine.storage.db import make_engine
from tests.bpmn import linear, script, user
from tests.conftest import SHARED, bpmn_fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", url)
    monkeypatch.setenv("EXPEDIENTE_DEMO_PASSWORD", "clave-demo-123")
    return url


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_accepts_good_documents(tmp_path):
    good = tmp_path / "good.bpmn"
    good.write_bytes(bpmn_fixture("five_step.bpmn"))
    result = invoke("validate", str(good))
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_lists_one_line_per_problem_with_file_and_element(tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(linear(script("x = = 1"), user("Revisar")))
    garbage = tmp_path / "garbage.bpmn"
    garbage.write_bytes(b"\x00\xffnot xml at all")
    result = invoke("validate", str(bad), str(garbage))
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert any("bad.bpmn" in ln and "[e0]" in ln for ln in lines)
    assert any("garbage.bpmn" in ln for ln in lines)
    assert "Traceback" not in result.output


@pytest.mark.skipif(not (SHARED / "bpmn-reference").is_dir(), reason="../shared/bpmn-reference is absent")
def test_validate_reference_files_never_prints_a_traceback():
    result = invoke("validate", str(SHARED / "bpmn-reference"))
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.output


def test_migrate_deploy_demo_users_then_redeploy_is_unchanged(cli_env, tmp_path):
    assert invoke("migrate").exit_code == 0
    procs = tmp_path / "procs"
    procs.mkdir()
    (procs / "five_step.bpmn").write_bytes(bpmn_fixture("five_step.bpmn"))
    (procs / "lanes.json").write_text('{"*": {"Ventanilla": "ventanilla"}}', encoding="utf-8")
    first = invoke("deploy", str(procs))
    assert first.exit_code == 0 and "five_step: version 1 (new)" in first.output
    assert "lane 'Ventanilla' -> group 'ventanilla'" in first.output
    assert "five_step: version 1 (unchanged)" in invoke("deploy", str(procs)).output
    users = invoke("demo-users")
    assert "clave-demo-123" in users.output and "oficial1" in users.output
    assert invoke("demo-users").exit_code == 0  # idempotent: resets, never duplicates
    added = invoke("user", "add", "notificador1", "--role", "clerk", "--group", "notificador")
    assert "password:" in added.output


def test_deploy_of_an_invalid_file_exits_1_and_stores_nothing(cli_env, tmp_path):
    invoke("migrate")
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(linear(script("import os")))
    result = CliRunner().invoke(main, ["deploy", str(bad)])
    assert result.exit_code == 1
    engine = make_engine(Settings(database_url=cli_env))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM process_versions").scalar() == 0
    engine.dispose()


def test_migrations_create_every_table_and_run_through_the_installed_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    env = {**os.environ, "EXPEDIENTE_DATABASE_URL": url}
    exe = Path(sys.executable).with_name("expediente")
    done = subprocess.run([str(exe), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    engine = make_engine(Settings(database_url=url))
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"users", "groups", "user_groups", "lane_groups", "process_versions", "case_counters",
            "cases", "tasks", "events", "alembic_version"} <= tables


def test_sqlite_runs_in_wal_with_full_synchronous_by_default(sqlite_svc):
    with sqlite_svc.uow(write=False) as uow:
        assert uow.conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert uow.conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_case_start_files_a_case_or_names_the_wrong_fields(cli_env, tmp_path):
    invoke("migrate")
    procs = tmp_path / "procs"
    procs.mkdir()
    (procs / "five_step.bpmn").write_bytes(bpmn_fixture("five_step.bpmn"))
    invoke("deploy", str(procs))
    started = invoke("case", "start", "five_step", "--data", '{"amount": 3}', "--actor", "oficial1")
    assert started.exit_code == 0 and "EXP-GDCH-" in started.output and "Registrar solicitud" in started.output
    bad = CliRunner().invoke(main, ["case", "start", "five_step", "--data", "{not json"])
    assert bad.exit_code == 2
    missing = CliRunner().invoke(main, ["case", "start", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output
