"""`expediente backup`, `backup-verify`, `backup-status` and `restore`: for administrators (English)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.ops.backup import BackupSettings, create_backup, verify_backup
from engine.ops.backup_db import BackupError
from engine.ops.backup_schedule import backup_status
from engine.config import Settings

_DIRECTORY = click.Path(file_okay=False, path_type=Path)


def _fail(exc: BackupError):
    click.echo(f"error: {exc.message}", err=True)
    sys.exit(1)


def _size(files: list[dict]) -> str:
    total = sum(f["size_bytes"] for f in files)
    return f"{total / 1024 / 1024:.1f} MiB" if total >= 1024 * 1024 else f"{total / 1024:.0f} KiB"


@click.command()
@click.argument("directory", required=False, type=_DIRECTORY)
def backup(directory):
    """Write a checked backup (database, attachments, secret, manifest) to DIRECTORY.

    DIRECTORY must be new or empty; without it, a new folder named by the time in EXPEDIENTE_BACKUP_DIR.
    The server may keep running: the copy is one consistent moment.
    """
    try:
        made = create_backup(Settings.from_env(), BackupSettings.from_env(), directory)
    except BackupError as exc:
        _fail(exc)
    files = made.manifest["files"]
    click.echo(f"backup written: {made.path} ({len(files)} files, {_size(files)})")


@click.command("backup-verify")
@click.argument("directory", type=_DIRECTORY)
def backup_verify(directory):
    """Check every file of a backup against its manifest; exit 1 if anything is missing or changed."""
    try:
        manifest = verify_backup(directory)
    except BackupError as exc:
        _fail(exc)
    click.echo(f"backup ok: {directory} ({manifest['database']['kind']}, made {manifest['created_at']}, "
               f"{len(manifest['files'])} files verified)")


@click.command("backup-status")
def backup_status_command():
    """Print the newest complete backup in EXPEDIENTE_BACKUP_DIR and its age (or "no backup yet")."""
    click.echo(backup_status(BackupSettings.from_env()))


@click.command()
@click.argument("directory", type=_DIRECTORY)
@click.option("--force", is_flag=True,
              help="Replace a database or attachments that are not empty (the old ones are kept aside).")
def restore(directory, force):
    """Restore a verified backup into EXPEDIENTE_DATABASE_URL and the attachments folder, then migrate.

    Stop the server and the scheduler first. A damaged or incomplete backup is refused and nothing changes.
    """
    from engine.ops.restore import restore_backup
    try:
        result = restore_backup(directory, Settings.from_env(), BackupSettings.from_env(), force=force)
    except BackupError as exc:
        _fail(exc)
    manifest = result["manifest"]
    click.echo(f"restored {directory} (made {manifest['created_at']}, {len(manifest['files'])} files)")
    for what, where in result["kept_aside"].items():
        click.echo(f"  the previous {what} is kept at {where}")


COMMANDS = (backup, backup_verify, backup_status_command, restore)
