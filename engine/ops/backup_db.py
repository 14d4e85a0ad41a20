"""Database snapshots for backups: SQLite's online backup API, or pg_dump/pg_restore for PostgreSQL."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from engine.errors import ExpedienteError

SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
# A busy live database may hold its write lock for a while; the snapshot's read waits this long at most.
SQLITE_OPEN_TIMEOUT_SECONDS = 60
_SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"


class BackupError(ExpedienteError):
    """A backup could not be written or restored; the message is one line for an administrator."""

    code = "backup_error"


def database_kind(database_url: str) -> str:
    """'sqlite' or 'postgresql'."""
    backend = make_url(database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def snapshot_file_name(kind: str) -> str:
    return SQLITE_FILE if kind == "sqlite" else POSTGRES_FILE


def snapshot(database_url: str, destination: Path) -> list[str]:
    """Write a consistent copy of the live database to `destination`; return its alembic revisions."""
    if database_kind(database_url) == "sqlite":
        return _sqlite_snapshot(_sqlite_path(database_url), destination)
    return _pg_snapshot(database_url, destination)


def is_empty(database_url: str) -> bool:
    """True if the database holds no tables (or, for SQLite, does not exist yet)."""
    if database_kind(database_url) == "sqlite":
        path = _sqlite_path(database_url)
        if not path.exists():
            return True
        with _closing(sqlite3.connect(path, timeout=SQLITE_OPEN_TIMEOUT_SECONDS)) as conn:
            return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return not conn.execute(text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE {_SYSTEM_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")).scalar()
    finally:
        engine.dispose()


def restore_snapshot(source: Path, database_url: str, moment: datetime) -> str | None:
    """Load a snapshot into the target database; return where the old SQLite file went, if any."""
    if database_kind(database_url) == "sqlite":
        return _sqlite_restore(source, _sqlite_path(database_url), moment)
    _pg_restore(source, database_url)
    return None


def check_tools(kind: str, *names: str) -> None:
    """Fail with one line if a PostgreSQL client program is not installed."""
    if kind != "postgresql":
        return
    for name in names:
        if shutil.which(name) is None:
            raise BackupError(f"{name} is not installed (Debian/Ubuntu: apt install postgresql-client); "
                              "PostgreSQL backups need it")


# --- SQLite -------------------------------------------------------------------------------------

def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


class _closing:
    """sqlite3 connections' `with` commits but does not close; this closes."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


def _sqlite_snapshot(source: Path, destination: Path) -> list[str]:
    if not source.exists():
        raise BackupError(f"the database {source} does not exist")
    with _closing(sqlite3.connect(source, timeout=SQLITE_OPEN_TIMEOUT_SECONDS)) as src, \
            _closing(sqlite3.connect(destination)) as dst:
        # One step (pages=-1): a single read transaction, so the copy is one consistent moment; in WAL
        # mode writers go on meanwhile. Stepping in chunks would restart whenever someone commits.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file, no -wal beside it
        _sqlite_check(dst, destination)
        revisions = _sqlite_revisions(dst)
    fsync_path(destination)
    return revisions


def _sqlite_check(conn, path: Path) -> None:
    result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if result != ["ok"]:
        raise BackupError(f"{path} fails SQLite's integrity check: {'; '.join(result[:3])}")


def _sqlite_revisions(conn) -> list[str]:
    try:
        return sorted(row[0] for row in conn.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.OperationalError:
        return []


def _sqlite_restore(source: Path, target: Path, moment: datetime) -> str | None:
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    try:
        shutil.copyfile(source, incoming)
        fsync_path(incoming)
        with _closing(sqlite3.connect(incoming)) as conn:
            _sqlite_check(conn, source)
        aside = _move_sqlite_aside(target, moment)
        os.replace(incoming, target)
        fsync_path(target.parent)
    finally:
        incoming.unlink(missing_ok=True)
    return aside


def _move_sqlite_aside(target: Path, moment: datetime) -> str | None:
    """Fold the old database's WAL into its file and rename it, so nothing of it is lost."""
    if not target.exists():
        return None
    with _closing(sqlite3.connect(target, timeout=SQLITE_OPEN_TIMEOUT_SECONDS)) as conn:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    if busy:
        raise BackupError(f"{target} is in use; stop the server and the scheduler before restoring")
    aside = target.with_name(f"{target.name}.before-restore-{moment:%Y%m%dT%H%M%SZ}")
    os.replace(target, aside)
    for suffix in ("-wal", "-shm"):  # a stale WAL next to the restored file would be replayed into it
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    return str(aside)


# --- PostgreSQL ---------------------------------------------------------------------------------

def _libpq(database_url: str) -> tuple[str, dict]:
    """A libpq URL for the client programs (no password on their command line) and their environment."""
    url: URL = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # argv is visible to every user of the machine; env is not
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                       query=url.query)  # URL.set cannot remove the password
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict, what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{what} failed: {detail}")
    return done.stdout


def _pg_snapshot(database_url: str, destination: Path) -> list[str]:
    check_tools("postgresql", "pg_dump", "pg_restore")
    conninfo, env = _libpq(database_url)
    # pg_dump reads one repeatable-read snapshot of the whole database while writers go on.
    _run(["pg_dump", "--format=custom", f"--file={destination}", f"--dbname={conninfo}"], env, "pg_dump")
    fsync_path(destination)
    _run(["pg_restore", "--list", str(destination)], env, "reading the dump back")  # checks the archive
    script = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(destination)],
                  env, "reading the schema revision from the dump")
    return _copy_rows(script, "alembic_version")


def _copy_rows(script: str, table: str) -> list[str]:
    """The first column of a table's COPY block in a plain SQL dump."""
    rows, inside = [], False
    for line in script.splitlines():
        if line.startswith("COPY ") and f".{table} " in line:
            inside = True
        elif inside and line == "\\.":
            break
        elif inside:
            rows.append(line.split("\t")[0])
    return sorted(rows)


def _pg_restore(source: Path, database_url: str) -> None:
    check_tools("postgresql", "pg_restore")
    _drop_schemas(database_url)
    conninfo, env = _libpq(database_url)
    # One transaction: a failing restore leaves the target empty, never half-filled. Owners and grants of
    # the old server are not replayed: the restoring account owns everything (its roles may not exist here).
    _run(["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
          f"--dbname={conninfo}", str(source)], env, "pg_restore")


def _drop_schemas(database_url: str) -> None:
    """Empty the target (the caller made a safety backup of it first if it held anything)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            schemas = conn.execute(text(f"SELECT n.nspname FROM pg_namespace n WHERE {_SYSTEM_SCHEMAS}")).scalars()
            for schema in list(schemas):
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            # A dump does not create `public` (every database has one); put it back as a new database has it.
            conn.execute(text("CREATE SCHEMA public"))
            if int(conn.execute(text("SHOW server_version_num")).scalar_one()) >= 140000:
                conn.execute(text("ALTER SCHEMA public OWNER TO pg_database_owner"))
            conn.execute(text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
    finally:
        engine.dispose()


# --- files --------------------------------------------------------------------------------------

def fsync_path(path: Path) -> None:
    """Force a file (or a folder's entries) to the disk: a power cut after "done" must not lose it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
