"""Automatic backups: one every N hours into the backup folder, the newest K kept, one writer at a time."""
from __future__ import annotations

import fcntl
import json
import logging
import re
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from engine.ops.backup import MANIFEST, BackupSettings, create_backup, new_backup_dir
from engine.config import Settings

log = logging.getLogger(__name__)

# How often a scheduler looks whether a backup is due: a restarted process catches up within this.
CHECK_SECONDS = 15 * 60
# The first look waits: the server finishes starting, and short runs (a quick restart, tests) never back up.
FIRST_CHECK_DELAY_SECONDS = 5 * 60
# A half-written backup this old belongs to a process that died (power cut); it is removed.
STALE_PARTIAL_SECONDS = 24 * 3600
LOCK_FILE = ".lock"
# Only folders named like new_backup_dir's count (not "before-restore-…" nor an administrator's own).
_BACKUP_NAME = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
_PARTIAL_NAME = re.compile(r"^\.\d{8}T\d{6}Z(-\d+)?\.partial-\d+$")


def complete_backups(root: Path) -> list[tuple[Path, datetime]]:
    """Complete backups under `root` with their creation moment, newest first."""
    found = []
    for path in Path(root).iterdir() if Path(root).is_dir() else ():
        if not _BACKUP_NAME.match(path.name) or not (path / MANIFEST).is_file():
            continue
        try:
            created = datetime.fromisoformat(json.loads((path / MANIFEST).read_text("utf-8"))["created_at"])
        except (ValueError, KeyError, TypeError):
            continue  # damaged: it counts as no backup (backup-verify says what is wrong with it)
        found.append((path, created))
    return sorted(found, key=lambda item: item[1], reverse=True)


def backup_status(backups: BackupSettings, now: datetime | None = None) -> str:
    """One line for an administrator: the newest complete backup and its age, or that there is none."""
    now = now or datetime.now(timezone.utc)
    newest = complete_backups(backups.directory)
    if not newest:
        return f"backups: no backup yet in {backups.directory}"
    path, created = newest[0]
    age_hours = (now - created).total_seconds() / 3600
    line = f"backups: last backup {path} ({_age(age_hours)} ago, {len(newest)} kept)"
    if backups.every_hours > 0 and age_hours > 2 * backups.every_hours:
        line += f"; OVERDUE (expected every {backups.every_hours:g} h: is the scheduler running?)"
    return line


def scheduled_backup(settings: Settings, backups: BackupSettings, now: datetime | None = None) -> Path | None:
    """Make a backup if the newest is older than the period and no other process is writing one."""
    if backups.every_hours <= 0:
        return None
    now = now or datetime.now(timezone.utc)
    root = Path(backups.directory)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(root / LOCK_FILE, "a") as lock:
        try:
            # Several schedulers (processes, or machines sharing the folder) may look at once: one writes.
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is writing a backup; this one skips")
            return None
        try:
            newest = complete_backups(root)
            if newest and now - newest[0][1] < timedelta(hours=backups.every_hours):
                return None
            made = create_backup(settings, backups, new_backup_dir(root, now), now=now)
            log.info("backup written: %s", made.path)
            prune(root, backups.keep)
            return made.path
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prune(root: Path, keep: int) -> list[Path]:
    """Remove complete backups beyond the newest `keep`, and half-written ones left by dead processes."""
    removed = [path for path, _ in complete_backups(root)[max(keep, 1):]]
    for path in Path(root).iterdir():
        try:
            if _PARTIAL_NAME.match(path.name) and time.time() - path.stat().st_mtime > STALE_PARTIAL_SECONDS:
                removed.append(path)
        except FileNotFoundError:
            continue  # a backup that just got its final name
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def add_backup_job(scheduler, svc, backups: BackupSettings | None) -> None:
    """Register the automatic backup with an APScheduler (nothing if `backups` is None or turned off)."""
    if backups is None or backups.every_hours <= 0:
        return
    first = datetime.now(timezone.utc) + timedelta(seconds=FIRST_CHECK_DELAY_SECONDS)
    scheduler.add_job(_job, IntervalTrigger(seconds=CHECK_SECONDS, timezone=timezone.utc),
                      args=(svc.settings, backups), id="backup", next_run_time=first, max_instances=1,
                      coalesce=True, misfire_grace_time=None)


def _job(settings: Settings, backups: BackupSettings) -> None:
    try:
        scheduled_backup(settings, backups)
    except Exception:  # noqa: BLE001 - logged; the next check tries again
        log.exception("automatic backup failed")


def _age(hours: float) -> str:
    if hours < 1:
        return f"{max(hours * 60, 0):.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
