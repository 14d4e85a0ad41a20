"""Where trial runs of drafts live (engine/usecases/trial.py): one throwaway SQLite file per trial, migrated from
nothing, with a small JSON file beside it (who runs it, the choices, the steps taken, the trial clock's offset).

Nothing here touches the office's database except to read what a trial copies (institutions, closure days, the lane
table). Files are under the system's temporary folder, named by an unguessable token, and deleted when the trial
ends or TRIAL_TTL after its last step.
"""
from __future__ import annotations

import copy
import hashlib
import os
import re
import secrets
import sqlite3
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import insert, select

from engine.errors import NotFound
from engine.messages import msg
from engine.storage import models
from engine.storage.db import make_engine
from engine.storage.migrate import code_heads, upgrade

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

TRIAL_TTL_SECONDS = 2 * 3600
TRIALS_PER_OWNER = 5  # a supervisor's live trials; starting another deletes his oldest
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
# What a trial copies from the office: the institutions its service tasks ask, the closure days its deadlines skip,
# and which group works each lane.
COPIED = (models.institutions, models.closure_days, models.groups, models.lane_groups)


class TrialNotFound(NotFound):
    code = "trial_not_found"


def root() -> Path:
    folder = Path(os.environ.get("EXPEDIENTE_TRIAL_DIR") or Path(tempfile.gettempdir()) / "expediente-trials")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _paths(token: str) -> tuple[Path, Path]:
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise TrialNotFound(msg("La prueba no existe o ya terminó."), token=str(token)[:64])
    folder = root()
    return folder / f"{token}.db", folder / f"{token}.json"


def sweep(now: float | None = None) -> int:
    """Delete the trials nobody touched for TRIAL_TTL_SECONDS; how many went."""
    now = now or time.time()
    gone = 0
    for meta in root().glob("*.json"):
        try:
            if now - meta.stat().st_mtime > TRIAL_TTL_SECONDS:
                remove(meta.stem)
                gone += 1
        except (OSError, NotFound):
            continue
    return gone


def keep_few(owner: str, keep: int = TRIALS_PER_OWNER - 1) -> int:
    """Delete `owner`'s oldest trials beyond `keep` (before he starts another); how many went."""
    mine = []
    for meta in root().glob("*.json"):
        try:
            if orjson.loads(meta.read_bytes()).get("owner") == owner:
                mine.append((meta.stat().st_mtime, meta.stem))
        except (OSError, ValueError):
            continue
    old = sorted(mine, reverse=True)[keep:]
    for _moment, token in old:
        remove(token)
    return len(old)


def create(svc: Services, owner: str) -> tuple[str, Services]:
    """A new trial's token and its services on a new, migrated SQLite file with the office's copied tables."""
    sweep()
    keep_few(owner)
    token = secrets.token_urlsafe(24)
    db_path, _meta = _paths(token)
    _copy_of(_migrated_template(svc), db_path)
    tsvc = services_for(svc, db_path, 0.0)
    with svc.uow(write=False) as real:
        copied = {t.name: [dict(r) for r in real.conn.execute(select(t)).mappings()] for t in COPIED}
    with tsvc.uow() as uow:
        for table in COPIED:
            if copied[table.name]:
                uow.conn.execute(insert(table), copied[table.name])
        uow.commit()
    return token, tsvc


def _migrated_template(svc: Services) -> Path:
    """An empty SQLite file migrated to this code's heads, which every trial starts as a copy of (migrating from
    nothing took about half a second per trial); made once per set of heads and shared by the processes (migrated
    under a name of its own, then renamed into place), and the finished templates of older heads removed."""
    heads = ",".join(sorted(code_heads()))
    path = root() / f"template-{hashlib.sha256(heads.encode()).hexdigest()[:16]}.sqlite"
    if path.exists():
        return path
    partial = root() / f"template-{secrets.token_hex(8)}.part"
    engine = make_engine(replace(svc.settings, database_url=f"sqlite+pysqlite:///{partial}"))
    try:
        upgrade(engine)
        raw = engine.raw_connection()  # outside a transaction (ours would BEGIN): one file, no WAL, safe to rename
        try:
            raw.driver_connection.execute("PRAGMA journal_mode=DELETE")
        finally:
            raw.close()
    finally:
        engine.dispose()
    os.replace(partial, path)
    for stale in root().glob("template-*.sqlite"):  # another process's unfinished .part is left alone
        if stale != path:
            stale.unlink(missing_ok=True)
    return path


def _copy_of(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite file (SQLite's online backup)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def services_for(svc: Services, db_path: Path, offset_seconds: float) -> Services:
    """The office's services on the trial's file, with a clock `offset_seconds` ahead (timers fired at once): no
    mail sent, no signature, specs cached apart (the trial's version ids are its own)."""
    base_clock = svc.clock

    def clock():
        return base_clock() + timedelta(seconds=offset_seconds)

    settings = replace(svc.settings, database_url=f"sqlite+pysqlite:///{db_path}")
    runtime = copy.copy(svc.runtime)  # the same script workers; SpiffWorkflow's timers read the trial's clock
    runtime.clock = clock
    runtime.max_engine_steps = min(runtime.max_engine_steps, 2000)  # a loop of automatic steps stops early
    return replace(svc, settings=settings, db=make_engine(settings), clock=clock, runtime=runtime,
                   specs=type(svc.specs)(), calendar=copy.copy(svc.calendar), mailer=None, signer=None)


def open_trial(svc: Services, token: str) -> tuple[dict, Services]:
    """The trial's record and its services; TrialNotFound for an unknown or expired token."""
    db_path, meta_path = _paths(token)
    try:
        meta = orjson.loads(meta_path.read_bytes())
    except (OSError, ValueError):
        raise TrialNotFound(msg("La prueba no existe o ya terminó."), token=token) from None
    if not db_path.exists():
        raise TrialNotFound(msg("La prueba no existe o ya terminó."), token=token)
    return meta, services_for(svc, db_path, meta.get("offset_seconds", 0.0))


def save(token: str, meta: dict) -> None:
    _db, meta_path = _paths(token)
    partial = meta_path.with_suffix(".part")
    partial.write_bytes(orjson.dumps(meta, default=str))
    os.replace(partial, meta_path)


def remove(token: str) -> None:
    db_path, meta_path = _paths(token)
    for path in (db_path, meta_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm"),
                 db_path.with_name(db_path.name + "-journal")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def dispose(tsvc: Services) -> None:
    """Close the trial's connections (its file is not deleted)."""
    tsvc.db.dispose()

