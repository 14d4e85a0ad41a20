"""Backups an office can trust: a database snapshot, the attachments and the secret, with a manifest of hashes."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path, PurePosixPath

from engine.ops.backup_db import (BackupError, check_tools, database_kind, fsync_path, snapshot,
                              snapshot_file_name)
from engine.config import PROJECT_ROOT, Settings

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
ATTACHMENTS = "attachments"
SECRET_FILE = "secret_key"  # the name api.config.load_secret_key gives it in the var directory
CHUNK_BYTES = 1024 * 1024
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
# New folders are named by their UTC moment, so a listing sorts oldest first.
NAME_FORMAT = "%Y%m%dT%H%M%SZ"


class BackupDamaged(BackupError):
    """A backup whose manifest or files do not verify; restoring it is refused."""

    code = "backup_damaged"


@dataclass(frozen=True)
class BackupSettings:
    """Where backups go, how often the scheduler makes one, how many it keeps, and what they copy."""

    directory: Path = DEFAULT_VAR_DIR / "backups"
    every_hours: float = 24.0  # 0 turns automatic backups off
    keep: int = 14
    var_dir: Path = DEFAULT_VAR_DIR
    attachments_dir: Path | None = None  # default: var_dir/attachments, as the web application has it

    @property
    def attachments(self) -> Path:
        return Path(self.attachments_dir or Path(self.var_dir) / ATTACHMENTS)

    @property
    def secret_file(self) -> Path:
        return Path(self.var_dir) / SECRET_FILE

    @classmethod
    def from_env(cls, environ=None) -> "BackupSettings":
        """Read EXPEDIENTE_BACKUP_DIR/_EVERY_HOURS/_KEEP, EXPEDIENTE_VAR_DIR and EXPEDIENTE_ATTACHMENTS_DIR."""
        env = os.environ if environ is None else environ
        var_dir = Path(env.get("EXPEDIENTE_VAR_DIR") or DEFAULT_VAR_DIR)
        return cls(directory=Path(env.get("EXPEDIENTE_BACKUP_DIR") or var_dir / "backups"),
                   every_hours=float(env.get("EXPEDIENTE_BACKUP_EVERY_HOURS") or 24),
                   keep=int(env.get("EXPEDIENTE_BACKUP_KEEP") or 14), var_dir=var_dir,
                   attachments_dir=Path(env["EXPEDIENTE_ATTACHMENTS_DIR"]) if env.get("EXPEDIENTE_ATTACHMENTS_DIR")
                   else None)


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict


def new_backup_dir(root: Path, now: datetime) -> Path:
    """A not yet used folder under `root` named by the UTC moment."""
    base = Path(root) / now.astimezone(timezone.utc).strftime(NAME_FORMAT)
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def create_backup(settings: Settings, backups: BackupSettings, directory: Path | None = None,
                  now: datetime | None = None) -> Backup:
    """Snapshot the database, then copy attachments and secret, then write the manifest; all or nothing."""
    now = now or datetime.now(timezone.utc)
    kind = database_kind(settings.database_url)
    check_tools(kind, "pg_dump", "pg_restore")
    final = Path(directory) if directory else new_backup_dir(backups.directory, now)
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise BackupError(f"{final} already exists and is not empty; choose a new folder")
    # Everything is written under a temporary name and renamed at the end: a half-written backup (power cut,
    # full disk) never looks complete.
    work = _partial_name(final)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)  # it holds personal data and the session secret
    try:
        db_file = snapshot_file_name(kind)
        revisions = snapshot(settings.database_url, work / db_file)
        files = [_describe(work, db_file)]
        # After the snapshot: a file is stored before its row commits, so every row in the snapshot has its file.
        files += _copy_attachments(backups.attachments, work)
        if backups.secret_file.exists():
            files.append(copy_file(backups.secret_file, work, SECRET_FILE))
        manifest = {
            "format": MANIFEST_FORMAT, "created_at": now.isoformat(), "expediente_version": _version(),
            "database": {"kind": kind, "file": db_file, "alembic_revisions": revisions},
            "files": files,
        }
        _write_manifest(work, manifest)
        if final.exists():
            final.rmdir()  # empty (checked above); a rename cannot replace a folder
        os.replace(work, final)
        fsync_path(final.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Backup(final, manifest)


def verify_backup(directory: Path) -> dict:
    """The backup's manifest if it and every file it lists are intact; else BackupDamaged (one line)."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupDamaged(f"{directory} is not a complete backup: {MANIFEST} is missing")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        claimed = manifest.pop("manifest_sha256")
    except (ValueError, UnicodeDecodeError, KeyError, AttributeError, TypeError):
        raise BackupDamaged(f"{path} is not a backup manifest") from None
    if claimed != _digest(manifest):
        raise BackupDamaged(f"{path} was changed after the backup was written (its checksum does not match)")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupDamaged(f"{path} has format {manifest.get('format')}; this Expediente reads {MANIFEST_FORMAT}")
    try:
        problems = [p for entry in manifest["files"] if (p := _check_entry(directory, entry))]
        if manifest["database"]["file"] not in {e["path"] for e in manifest["files"]}:
            problems.insert(0, "the database file is not listed")
    except (KeyError, TypeError, AttributeError, IndexError):
        raise BackupDamaged(f"{path} is not a backup manifest") from None
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise BackupDamaged(f"backup {directory} is damaged: {problems[0]}{more}")
    return manifest


# --- writing ------------------------------------------------------------------------------------

def _partial_name(final: Path) -> Path:
    """Where a backup is written before it gets its name (per process: two writers never share it)."""
    return final.with_name(f".{final.name}.partial-{os.getpid()}")


def _copy_attachments(source: Path, work: Path) -> list[dict]:
    if not source.is_dir():
        return []
    files = []
    for path in sorted(_attachment_files(source)):
        rel = path.relative_to(source).as_posix()
        try:
            files.append(copy_file(path, work, f"{ATTACHMENTS}/{rel}"))
        except FileNotFoundError:
            continue  # an upload that failed and removed its file after we listed it: it has no row
    # The files are on the disk; their folders' entries must be too, or a power cut could lose them.
    for folder in {(work / f["path"]).parent for f in files} | ({work / ATTACHMENTS} if files else set()):
        fsync_path(folder)
    return files


def _attachment_files(root: Path):
    """Stored files; names starting with a dot are uploads in progress or old contents kept aside."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        yield from (Path(dirpath) / f for f in filenames if not f.startswith("."))


def holds_files(root: Path) -> bool:
    """True if an attachments folder holds any stored file."""
    return root.is_dir() and next(iter(_attachment_files(root)), None) is not None


def copy_file(source: Path, work: Path, rel: str) -> dict:
    """Copy one file into the backup, hashing what was written, and force it to the disk."""
    target = work / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "wb") as out:
        while chunk := src.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    shutil.copymode(source, target)
    return {"path": rel, "size_bytes": size, "sha256": digest.hexdigest()}


def _describe(work: Path, rel: str) -> dict:
    path = work / rel
    return {"path": rel, "size_bytes": path.stat().st_size, "sha256": _sha256(path)}


def _write_manifest(work: Path, manifest: dict) -> None:
    body = json.dumps({**manifest, "manifest_sha256": _digest(manifest)}, indent=2, ensure_ascii=False)
    tmp = work / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(body + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, work / MANIFEST)
    fsync_path(work)


def _digest(manifest: dict) -> str:
    """Checksum of the manifest's own fields, so an edited manifest is noticed too."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _version() -> str:
    try:
        return metadata.version("expediente")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- checking ----------------------------------------------------------------------------------

def _check_entry(directory: Path, entry: dict) -> str | None:
    rel = PurePosixPath(entry["path"])
    if rel.is_absolute() or ".." in rel.parts or not (rel.parts[0] == ATTACHMENTS or len(rel.parts) == 1):
        return f"{rel} is not a path a backup writes"
    path = directory / rel
    if not path.is_file():
        return f"{rel} is missing"
    if path.stat().st_size != entry["size_bytes"]:
        return f"{rel} has {path.stat().st_size} bytes, not {entry['size_bytes']}"
    if _sha256(path) != entry["sha256"]:
        return f"{rel} does not match its SHA-256"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
