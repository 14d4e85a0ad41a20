"""Database engines: SQLite tuned for durability (WAL, synchronous=FULL) or PostgreSQL by URL."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from engine.config import Settings
from engine.storage import chain

_SYNCHRONOUS_LEVELS = {"OFF", "NORMAL", "FULL", "EXTRA"}


def make_engine(settings: Settings) -> Engine:
    """Create the SQLAlchemy engine for the configured database."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url, settings)
    else:
        engine = create_engine(url, pool_pre_ping=True, future=True)
    chain.listen(engine)  # the audit head a transaction moved is written as it commits
    return engine


def _sqlite_engine(url, settings: Settings) -> Engine:
    in_memory = not url.database or url.database == ":memory:"
    if not in_memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    if settings.sqlite_synchronous not in _SYNCHRONOUS_LEVELS:
        raise ValueError(f"EXPEDIENTE_SQLITE_SYNCHRONOUS must be one of {sorted(_SYNCHRONOUS_LEVELS)}")
    # A database in memory lives in its connection: one connection for every checkout (tests, one thread at a time).
    pool = {"poolclass": StaticPool} if in_memory else {}
    engine = create_engine(url, connect_args={"check_same_thread": False}, future=True, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's `begin` below emit BEGIN itself (pysqlite's implicit BEGIN is deferred
        # and lazy, which lets two writers both read and then fail to upgrade their lock).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cur.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers (UnitOfWork(write=True)) take the write lock up front so concurrent steps queue on
        # busy_timeout instead of failing with SQLITE_BUSY on lock upgrade; everything else is a
        # deferred reader that never blocks.
        if conn.get_execution_options().get("write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def count_up(table, values: dict, key: list, counter, also: dict | None = None) -> dict:
    """One statement per dialect (both speak ON CONFLICT ... RETURNING), by dialect name: INSERT `values` with
    `counter` at 1, or add 1 to `counter` (and set `also`) in the row with the same `key` columns, and return the
    counter's new value. Two callers at the same moment both count."""
    return {name: dialect.insert(table).values(**values, **{counter.name: 1})
            .on_conflict_do_update(index_elements=key, set_={counter.name: counter + 1, **(also or {})})
            .returning(counter)
            for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}
