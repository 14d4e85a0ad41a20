"""Restoring a backup: verify it whole, refuse to overwrite without --force, load it, migrate to this version."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from alembic.script import ScriptDirectory

from engine.ops.backup import (ATTACHMENTS, NAME_FORMAT, SECRET_FILE, BackupSettings, copy_file, create_backup,
                           holds_files, verify_backup)
from engine.ops.backup_db import BackupError, check_tools, database_kind, fsync_path, is_empty, restore_snapshot
from engine.config import Settings
from engine.storage.db import make_engine
from engine.storage.migrate import alembic_config, upgrade


def restore_backup(directory: Path, settings: Settings, backups: BackupSettings, *, force: bool = False,
                   now: datetime | None = None) -> dict:
    """Verify a backup, then load it into the configured database and folders and migrate to this version."""
    now = now or datetime.now(timezone.utc)
    directory = Path(directory)
    manifest = verify_backup(directory)
    kind = manifest["database"]["kind"]
    if kind != database_kind(settings.database_url):
        raise BackupError(f"the backup holds a {kind} database but EXPEDIENTE_DATABASE_URL is "
                          f"{database_kind(settings.database_url)}")
    check_tools(kind, "pg_restore", "pg_dump")
    _check_revisions_known(manifest["database"]["alembic_revisions"])
    db_empty = is_empty(settings.database_url)
    if not force and (not db_empty or holds_files(backups.attachments)):
        what = "database" if not db_empty else f"attachments folder {backups.attachments}"
        raise BackupError(f"the target {what} is not empty; use --force to replace it (the old one is kept aside)")
    kept = {}
    if kind == "postgresql" and not db_empty:
        # PostgreSQL has no file to move aside: a verified backup of the old contents takes its place.
        safety = backups.directory / f"before-restore-{now:{NAME_FORMAT}}"
        kept["database"] = str(create_backup(settings, backups, safety, now=now).path)
    aside = restore_snapshot(directory / manifest["database"]["file"], settings.database_url, now)
    if aside:
        kept["database"] = aside
    kept["attachments"] = _restore_attachments(directory, manifest, backups.attachments, now)
    kept["secret"] = _restore_secret(directory, manifest, backups.secret_file, now)
    engine = make_engine(settings)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return {"manifest": manifest, "kept_aside": {k: v for k, v in kept.items() if v}}


def _check_revisions_known(revisions: list[str]) -> None:
    """Refuse, before changing anything, a backup made by a newer Expediente than this one."""
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = [rev for rev in revisions if rev not in known]
    if unknown:
        raise BackupError(f"the backup's schema revision {', '.join(unknown)} is unknown here: it comes from a "
                          "newer Expediente; install that version (or newer) to restore it")


def _restore_attachments(directory: Path, manifest: dict, target: Path, now: datetime) -> str | None:
    """Copy the backup's attachments in; whatever was there moves into a dot folder inside (same disk)."""
    target.mkdir(parents=True, exist_ok=True)
    aside = None
    existing = [p for p in target.iterdir() if not p.name.startswith(".")]
    if existing:
        aside = target / f".before-restore-{now:{NAME_FORMAT}}"
        aside.mkdir()
        for path in existing:
            os.replace(path, aside / path.name)
    prefix = ATTACHMENTS + "/"
    for entry in manifest["files"]:
        if entry["path"].startswith(prefix):
            copy_file(directory / entry["path"], target, entry["path"][len(prefix):])
    fsync_path(target)
    return str(aside) if aside else None


def _restore_secret(directory: Path, manifest: dict, target: Path, now: datetime) -> str | None:
    if SECRET_FILE not in {e["path"] for e in manifest["files"]}:
        return None
    aside = None
    if target.exists() and target.read_bytes() != (directory / SECRET_FILE).read_bytes():
        aside = target.with_name(f"{SECRET_FILE}.before-restore-{now:{NAME_FORMAT}}")
        os.replace(target, aside)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{SECRET_FILE}.restoring")
    tmp.unlink(missing_ok=True)
    copy_file(directory / SECRET_FILE, tmp.parent, tmp.name)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return str(aside) if aside else None
