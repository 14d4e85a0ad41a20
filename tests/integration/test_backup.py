"""Backups and restores on SQLite and PostgreSQL: taken while clients write, checked, refused when damaged."""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from api.config import load_secret_key
from engine.usecases import cases
from engine.storage import models
from engine.usecases import tasks
from engine.usecases.attachments import AttachmentStore, add_attachment, list_attachments
from engine.ops.backup import MANIFEST, BackupDamaged, BackupSettings, create_backup, verify_backup
from engine.ops.backup_db import BackupError, _libpq
from engine.ops.backup_schedule import LOCK_FILE, backup_status, complete_backups, scheduled_backup
from engine.cli.main import main
from engine.config import Settings
from engine.usecases.deploy import deploy_files
from engine.errors import CaseNotFound, Conflict
from engine.storage.migrate import upgrade
from engine.storage.db import make_engine
from engine.ops.restore import restore_backup
from engine.ops.scheduler import build_scheduler
from engine.accounts.users import map_lane
from tests.conftest import POSTGRES_URL, SYSTEM, _require_postgres, bpmn_fixture, make_services, principal_for
from tests.task_rows import task_rows
from tests.waiting import wait_until

CLIENTS = 8
DEADLINE_SECONDS = 300  # generous: the machine is shared; nothing here measures speed
PDF = b"%PDF-1.4\n% expediente de prueba\n" + bytes(range(256)) * 8


@dataclass(frozen=True)
class Install:
    """One installation: its database and its var folder (attachments, secret), backups kept apart."""

    url: str
    backups: BackupSettings

    @property
    def settings(self) -> Settings:
        return Settings(database_url=self.url)


def _install(url: str, root: Path, backup_dir: Path) -> Install:
    return Install(url, BackupSettings(directory=backup_dir, var_dir=root / "var"))


@contextmanager
def _installs(kind: str, sqlite_template: Path, tmp_path: Path):
    """A migrated live install and a fresh one (no database yet) to restore into."""
    backup_dir = tmp_path / "backups"
    if kind == "sqlite":
        live = tmp_path / "live" / "expediente.db"
        live.parent.mkdir()
        live.write_bytes(sqlite_template.read_bytes())
        yield (_install(f"sqlite:///{live}", tmp_path / "live", backup_dir),
               _install(f"sqlite:///{tmp_path / 'fresh' / 'expediente.db'}", tmp_path / "fresh", backup_dir))
        return
    # pg_dump copies a whole database, so each test gets databases of its own (not a schema of `test`).
    _require_postgres()
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    names = [f"bk_{uuid.uuid4().hex[:10]}", f"bk_{uuid.uuid4().hex[:10]}"]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    live_url, fresh_url = (make_url(POSTGRES_URL).set(database=n).render_as_string(hide_password=False)
                           for n in names)
    engine = make_engine(Settings(database_url=live_url))
    upgrade(engine)
    engine.dispose()
    try:
        yield (_install(live_url, tmp_path / "live", backup_dir), _install(fresh_url, tmp_path / "fresh", backup_dir))
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sites(request, sqlite_template, tmp_path):
    with _installs(request.param, sqlite_template, tmp_path) as pair:
        yield pair


@pytest.fixture
def sqlite_sites(sqlite_template, tmp_path):
    """For checks of files and folders, where the backend makes no difference."""
    with _installs("sqlite", sqlite_template, tmp_path) as pair:
        yield pair


def _office(install: Install, clock):
    svc = make_services(install.url, clock)
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    return svc


@pytest.fixture
def live_svc(sites, clock):
    svc = _office(sites[0], clock)
    yield svc
    svc.db.dispose()


@pytest.fixture
def sqlite_live_svc(sqlite_sites, clock):
    svc = _office(sqlite_sites[0], clock)
    yield svc
    svc.db.dispose()


def _retrying(call):
    """A writer that waited out SQLite's busy timeout tries again, as a clerk's browser would."""
    for _ in range(20):
        try:
            return call()
        except Conflict:
            time.sleep(0.05)
    return call()


def _file_a_case(svc, store: AttachmentStore | None = None) -> int:
    started = cases.start_case(svc, principal_for("oficial1"), "five_step", {"amount": 80})
    if store is not None:
        add_attachment(svc, principal_for("oficial1"), store, started.id, "solicitud.pdf", io.BytesIO(PDF))
    return started.id


def _finish(svc, case_id: int) -> None:
    """Complete the case's ready tasks until it ends: a restored case must go on where it stood."""
    for _ in range(3):
        ready = task_rows(svc, case_id)
        if not ready:
            break
        tasks.complete_task(svc, principal_for("oficial2"), ready[0]["id"], {"amount": 80, "ok": True})
    assert cases.get_case(svc, SYSTEM, case_id)["state"] == "completed"


def test_backup_taken_while_eight_clients_write_restores_every_step_acknowledged_before_it(
        sites, live_svc, clock, tmp_path):
    live, fresh = sites
    acked: list[tuple[str, int, str | None]] = []
    lock, stop, failures = threading.Lock(), threading.Event(), []

    def client(n: int) -> None:
        try:
            while not stop.is_set():
                started = _retrying(lambda: cases.start_case(live_svc, principal_for(f"cliente{n}"), "five_step",
                                                             {"amount": 10 + 40 * (n % 3)}))
                with lock:
                    acked.append(("case", started.id, None))
                first = started.ready_tasks[0]["id"]
                _retrying(lambda: tasks.complete_task(live_svc, principal_for(f"cliente{n}"), first,
                                                      {"amount": 10 + 40 * (n % 3)}))
                with lock:
                    acked.append(("task", started.id, first))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(acked) >= 3 * CLIENTS or failures, "the clients' first steps", DEADLINE_SECONDS)
        with lock:
            before = list(acked)  # acknowledged (returned to a client) before the backup starts
        made = create_backup(live.settings, live.backups, tmp_path / "backup")
        count_after = len(acked)
        wait_until(lambda: len(acked) >= count_after + CLIENTS or failures, "the clients to go on writing",
                   DEADLINE_SECONDS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(DEADLINE_SECONDS)
    assert not failures, failures
    assert verify_backup(made.path)["database"]["alembic_revisions"]

    restore_backup(made.path, fresh.settings, fresh.backups)
    restored = make_services(fresh.url, clock)
    try:
        for kind, case_id, task_id in before:
            history = cases.case_history(restored, SYSTEM, case_id)
            if kind == "case":
                assert history[0]["kind"] == "case_started"
            else:
                assert tasks.get_task(restored, SYSTEM, task_id)["state"] == "completed"
                assert any(e["kind"] == "task_completed" and e["task_id"] == task_id for e in history)
        with restored.uow(write=False) as uow:
            case_ids = uow.conn.execute(select(models.cases.c.id).order_by(models.cases.c.id)).scalars().all()
        assert set(case_ids) >= {case_id for _, case_id, _ in before}
        for case_id in case_ids:
            assert "amount" in cases.case_data(restored, SYSTEM, case_id)
            _finish(restored, case_id)
        later = cases.start_case(restored, SYSTEM, "five_step", {"amount": 5})  # numbering goes on, no duplicate
        assert later.id > max(case_ids)
    finally:
        restored.db.dispose()


def test_attachments_and_secret_are_restored(sites, live_svc, clock, tmp_path):
    live, fresh = sites
    secret = load_secret_key(live.backups.var_dir)
    case_id = _file_a_case(live_svc, AttachmentStore(live.backups.attachments))
    made = create_backup(live.settings, live.backups, tmp_path / "backup")
    assert {f["path"] for f in made.manifest["files"]} >= {"secret_key", made.manifest["database"]["file"]}

    restore_backup(made.path, fresh.settings, fresh.backups)
    assert load_secret_key(fresh.backups.var_dir) == secret
    assert fresh.backups.secret_file.stat().st_mode & 0o777 == 0o600
    restored = make_services(fresh.url, clock)
    try:
        [row] = list_attachments(restored, SYSTEM, case_id)
        assert AttachmentStore(fresh.backups.attachments).path(row["stored_name"]).read_bytes() == PDF
        _finish(restored, case_id)
    finally:
        restored.db.dispose()


def test_restore_refuses_a_target_that_is_not_empty_unless_forced_and_keeps_the_old_one(
        sites, live_svc, clock, tmp_path):
    live, fresh = sites
    first_case = _file_a_case(live_svc, AttachmentStore(live.backups.attachments))
    made = create_backup(live.settings, live.backups, tmp_path / "backup")
    with pytest.raises(BackupError, match="not empty; use --force"):
        restore_backup(made.path, live.settings, live.backups)
    restore_backup(made.path, fresh.settings, fresh.backups)
    restored = make_services(fresh.url, clock)
    second_case = _file_a_case(restored)  # only in the restored install
    restored.db.dispose()

    with pytest.raises(BackupError, match="not empty"):
        restore_backup(made.path, fresh.settings, fresh.backups)
    result = restore_backup(made.path, fresh.settings, fresh.backups, force=True)
    restored = make_services(fresh.url, clock)
    try:
        assert cases.get_case(restored, SYSTEM, first_case)
        with pytest.raises(CaseNotFound):
            cases.get_case(restored, SYSTEM, second_case)
    finally:
        restored.db.dispose()
    kept = Path(result["kept_aside"]["database"])
    if live.url.startswith("sqlite"):  # the old file itself, WAL folded in
        old = make_services(f"sqlite:///{kept}", clock)
        assert cases.get_case(old, SYSTEM, second_case)
        old.db.dispose()
    else:  # a verified backup of the old database
        assert verify_backup(kept)["database"]["kind"] == "postgresql"
    assert "attachments" in result["kept_aside"]


@pytest.mark.parametrize("damage", ["database byte", "attachment missing", "manifest edited", "no manifest",
                                    "file and its hash changed"])
def test_a_damaged_backup_is_refused_and_nothing_changes(sqlite_sites, sqlite_live_svc, tmp_path, damage):
    live, fresh = sqlite_sites
    _file_a_case(sqlite_live_svc, AttachmentStore(live.backups.attachments))
    load_secret_key(live.backups.var_dir)
    made = create_backup(live.settings, live.backups, tmp_path / "backup")
    manifest_path = made.path / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    if damage == "database byte":
        db = made.path / manifest["database"]["file"]
        data = bytearray(db.read_bytes())
        data[len(data) // 2] ^= 0x01
        db.write_bytes(bytes(data))
    elif damage == "attachment missing":
        next(f for f in (made.path / "attachments").rglob("*") if f.is_file()).unlink()
    elif damage == "manifest edited":
        manifest["created_at"] = "2020-01-01T00:00:00+00:00"
        manifest_path.write_text(json.dumps(manifest))
    elif damage == "no manifest":
        manifest_path.unlink()
    else:  # a file replaced and its new size and hash written into the manifest (its own checksum not)
        entry = next(f for f in manifest["files"] if f["path"].startswith("attachments/"))
        (made.path / entry["path"]).write_bytes(b"%PDF-otro")
        entry.update(size_bytes=9, sha256=hashlib.sha256(b"%PDF-otro").hexdigest())
        manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(BackupDamaged) as refused:
        restore_backup(made.path, fresh.settings, fresh.backups, force=True)
    assert "\n" not in refused.value.message
    fresh_db = Path(make_url(fresh.url).database)
    assert not fresh_db.exists() and not fresh.backups.var_dir.exists()


def test_a_failed_backup_leaves_no_folder_that_looks_complete(sqlite_sites, sqlite_live_svc, tmp_path, monkeypatch):
    live, _ = sqlite_sites
    _file_a_case(sqlite_live_svc, AttachmentStore(live.backups.attachments))

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("engine.ops.backup.copy_file", full_disk)
    with pytest.raises(OSError):
        create_backup(live.settings, live.backups)
    assert not live.backups.directory.exists() or not any(live.backups.directory.iterdir())
    assert "no backup yet" in backup_status(live.backups)


def test_cli_backup_status_verify_and_restore_round_trip(sqlite_sites, sqlite_live_svc, tmp_path, monkeypatch):
    live, fresh = sqlite_sites
    case_id = _file_a_case(sqlite_live_svc, AttachmentStore(live.backups.attachments))
    runner = CliRunner()

    def env(site: Install):
        monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", site.url)
        monkeypatch.setenv("EXPEDIENTE_VAR_DIR", str(site.backups.var_dir))
        monkeypatch.setenv("EXPEDIENTE_BACKUP_DIR", str(site.backups.directory))
        monkeypatch.delenv("EXPEDIENTE_ATTACHMENTS_DIR", raising=False)

    env(live)
    assert "no backup yet" in runner.invoke(main, ["backup-status"]).output
    result = runner.invoke(main, ["backup"])
    assert result.exit_code == 0, result.output
    [(path, _)] = complete_backups(live.backups.directory)
    assert str(path) in result.output
    assert "last backup" in runner.invoke(main, ["backup-status"]).output
    result = runner.invoke(main, ["backup-verify", str(path)])
    assert result.exit_code == 0 and "backup ok" in result.output

    env(fresh)
    result = runner.invoke(main, ["restore", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["restore", str(path)])
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "--force" in result.stderr
    assert runner.invoke(main, ["restore", "--force", str(path)]).exit_code == 0
    restored = make_services(fresh.url, sqlite_live_svc.clock)
    assert cases.get_case(restored, SYSTEM, case_id)["number"]
    restored.db.dispose()

    (path / "secret_key").unlink(missing_ok=True)
    next(f for f in (path / "attachments").rglob("*") if f.is_file()).write_bytes(b"%PDF-otro")
    for args in (["backup-verify", str(path)], ["restore", "--force", str(path)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1
        assert len(result.stderr.strip().splitlines()) == 1 and "damaged" in result.stderr


def test_scheduled_backups_once_per_period_newest_kept_one_writer_at_a_time(sqlite_sites, sqlite_live_svc):
    live, _ = sqlite_sites
    backups = BackupSettings(directory=live.backups.directory, var_dir=live.backups.var_dir, every_hours=24, keep=2)
    t0 = sqlite_live_svc.clock()
    first = scheduled_backup(live.settings, backups, now=t0)
    assert first is not None and verify_backup(first)
    assert scheduled_backup(live.settings, backups, now=t0 + timedelta(hours=23)) is None
    second = scheduled_backup(live.settings, backups, now=t0 + timedelta(hours=24))
    third = scheduled_backup(live.settings, backups, now=t0 + timedelta(hours=48))
    assert [p for p, _ in complete_backups(backups.directory)] == [third, second]  # the oldest was pruned
    assert "last backup" in backup_status(backups, now=t0 + timedelta(hours=49))
    assert "OVERDUE" in backup_status(backups, now=t0 + timedelta(hours=100))

    with open(backups.directory / LOCK_FILE, "a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert scheduled_backup(live.settings, backups, now=t0 + timedelta(hours=100)) is None
    assert scheduled_backup(live.settings, BackupSettings(directory=backups.directory, every_hours=0),
                            now=t0 + timedelta(hours=100)) is None
    assert len(complete_backups(backups.directory)) == 2


def test_the_scheduler_has_a_backup_job_only_when_backups_are_on(sqlite_sites, sqlite_live_svc):
    live, _ = sqlite_sites
    assert build_scheduler(sqlite_live_svc).get_job("backup") is None
    off = BackupSettings(directory=live.backups.directory, every_hours=0)
    assert build_scheduler(sqlite_live_svc, backups=off).get_job("backup") is None
    assert build_scheduler(sqlite_live_svc, backups=live.backups).get_job("backup") is not None


def test_postgres_backups_say_when_pg_dump_is_missing_and_keep_the_password_off_the_command_line(
        tmp_path, monkeypatch):
    monkeypatch.setattr("engine.ops.backup_db.shutil.which", lambda name: None)
    url = "postgresql+psycopg://expediente:s3creta@db.example:5432/expediente"
    with pytest.raises(BackupError, match="pg_dump is not installed"):
        create_backup(Settings(database_url=url), BackupSettings(directory=tmp_path, var_dir=tmp_path))
    conninfo, env = _libpq(url)
    assert "s3creta" not in conninfo and env["PGPASSWORD"] == "s3creta"
