"""Shared fixtures: real databases (SQLite file, PostgreSQL schema), a fake clock, deployed diagrams."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

import engine.accounts.users
from engine.accounts.permissions import Principal
from engine.config import Settings
from engine.storage.db import make_engine
from engine.storage.migrate import upgrade
from engine.services import Services, build_services

FIXTURES = Path(__file__).parent / "fixtures"
# The workplace's shared folder sits beside the repository (../shared); tests that read it skip without it.
SHARED = Path(os.environ.get("EXPEDIENTE_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
POSTGRES_URL = os.environ.get("EXPEDIENTE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class FakeClock:
    """A settable clock: deadline and timer tests run instantly and exactly."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def principal_for(username: str, role: str = "admin", groups: tuple = ()) -> Principal:
    """A principal for calling use cases directly (an admin sees every case and task)."""
    return Principal(user_id=0, username=username, role=role, groups=tuple(groups))


# For the calls that named no actor: sees every case and task, and is recorded as no one (actor None).
SYSTEM = principal_for(None)


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def _require_postgres():
    if not postgres_reachable():
        if os.environ.get("EXPEDIENTE_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required here (EXPEDIENTE_REQUIRE_POSTGRES) but 127.0.0.1:5432 is closed")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432; CI runs these tests")


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """argon2 at production cost takes about 0.13 s a hash; the tests make and check thousands of passwords.

    Verification reads the cost from the hash, so an account hashed this way signs in like any other; the servers
    the e2e tests start as processes keep the production cost.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine.accounts.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the main file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "expediente.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# The statements the migrations sent to PostgreSQL, recorded once per session (see _postgres_url).
_MIGRATION_SQL: list[tuple[str, object]] = []


def _migration_sql() -> list[tuple[str, object]]:
    """Migrate one schema with Alembic, recording every statement it sends; later schemas replay the record.

    Alembic takes about a second per schema (hundreds of tests use one); replaying its statements in one
    transaction takes a fraction of that and builds the same schema: the migrations name no schema (they work
    through the search path) and start from the same empty one, so what they read and write is the same.
    """
    if not _MIGRATION_SQL:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(Settings(database_url=f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"))
        recorded = []

        def record(conn, cursor, statement, parameters, context, executemany):
            recorded.append((statement, parameters))
        event.listen(engine, "before_cursor_execute", record)
        upgrade(engine)
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        # Consecutive statements without parameters travel together (one round trip instead of one each).
        for statement, parameters in recorded:
            if not parameters and _MIGRATION_SQL and not _MIGRATION_SQL[-1][1]:
                _MIGRATION_SQL[-1] = (f"{_MIGRATION_SQL[-1][0]};\n{statement}", parameters)
            else:
                _MIGRATION_SQL.append((statement, parameters))
    return _MIGRATION_SQL


def _create_schema() -> str:
    """A new schema in the test database with the migrations replayed in it; its name."""
    statements = _migration_sql()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        for statement, parameters in statements:
            conn.exec_driver_sql(statement, parameters)
    admin.dispose()
    return schema


def _drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


# What a schema holds besides its tables' rows: its relations, columns, defaults, constraints, indexes, triggers (and
# whether each is enabled) and functions, and the migration it is at, without the schema's own name. A test that
# changed any of it (dropped a trigger, downgraded) leaves a schema that is dropped instead of used again.
_SHAPE_SQL = """
SELECT md5(string_agg(replace(item, current_schema() || '.', ''), E'\\n' ORDER BY item)) FROM (
  SELECT 'rel ' || relname || ' ' || relkind::text AS item FROM pg_class
   WHERE relnamespace = current_schema()::regnamespace
  UNION ALL SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
         || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
   WHERE connamespace = current_schema()::regnamespace
  UNION ALL SELECT 'idx ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
   WHERE c.relnamespace = current_schema()::regnamespace
  UNION ALL SELECT 'trg ' || tgname || ' ' || tgenabled::text || ' ' || pg_get_triggerdef(t.oid) FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
  UNION ALL SELECT 'fn ' || proname || ' ' || md5(prosrc) FROM pg_proc
   WHERE pronamespace = current_schema()::regnamespace
  UNION ALL SELECT 'at ' || version_num FROM alembic_version
) shape
"""
_TABLES_SQL = ("SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' "
               "AND relname <> 'alembic_version' ORDER BY relname")
_SEQUENCES_SQL = ("SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'S' "
                  "ORDER BY relname")


class _Fresh:
    """A new migrated schema's shape and what its rows and sequences were (the migrations seed a few rows), and the
    one statement that puts a used schema of that shape back to it."""

    def __init__(self, schema: str):
        admin = create_engine(POSTGRES_URL, poolclass=NullPool)
        with admin.begin() as conn:
            conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
            self.shape = conn.exec_driver_sql(_SHAPE_SQL).scalar_one()
            tables = conn.exec_driver_sql(_TABLES_SQL).scalars().all()
            seeds = {t: conn.exec_driver_sql(f'SELECT json_agg(t)::text FROM "{t}" t').scalar() for t in tables}
            sequences = {q: conn.exec_driver_sql(f'SELECT last_value, is_called FROM "{q}"').one()
                         for q in conn.exec_driver_sql(_SEQUENCES_SQL).scalars()}
        admin.dispose()
        self.reset = ";\n".join(
            [f'DELETE FROM "{t}"' for t in tables]
            + [f'INSERT INTO "{t}" SELECT * FROM json_populate_recordset(NULL::"{t}", {_literal(rows)})'
               for t, rows in seeds.items() if rows]
            + [f"SELECT setval('\"{q}\"', {last}, {'true' if called else 'false'})"
               for q, (last, called) in sequences.items()])


def _literal(value: str) -> str:
    doubled = value.replace("'", "''")
    return f"'{doubled}'"


_FRESH: list[_Fresh] = []


def _recycle(schema: str) -> str | None:
    """Put a schema a test has finished with back to a new one's state, with triggers off while its rows go (the
    history tables refuse deletes); None, and the schema dropped, when the test changed its shape or it is still
    held (a lock not granted within seconds)."""
    fresh = _FRESH[0]
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '3s'")
            conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            if conn.exec_driver_sql(_SHAPE_SQL).scalar_one() != fresh.shape:
                raise LookupError(f"{schema} was changed by its test")
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql(fresh.reset)
        return schema
    except Exception:  # noqa: BLE001 - whatever stops the reset, the schema is not used again
        _drop_schema(schema)
        return None
    finally:
        admin.dispose()


class _Schemas:
    """Migrated schemas for the PostgreSQL tests (some 800 of them). Building one is about 0.3 s of DDL on the
    server and dropping it more; so a schema a test has finished with is emptied back to a new one's rows and
    sequences, in a thread of its own, and given to the next test. A schema whose shape its test changed is dropped,
    and a new one is built when no emptied one is ready."""

    def __init__(self):
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-schemas")
        self._returned = []  # futures: a schema emptied for use again, or None
        atexit.register(self.close)

    def take(self) -> str:
        while self._returned:
            schema = self._returned.pop(0).result()
            if schema is not None:
                return schema
        schema = _create_schema()  # the worker is idle: every schema it was given back has been taken
        if not _FRESH:
            try:
                _FRESH.append(_Fresh(schema))
            except Exception:
                _drop_schema(schema)
                raise
        return schema

    def drop(self, schema: str) -> None:
        """The test is done with the schema: emptied for the next test, or dropped."""
        self._returned.append(self._worker.submit(_recycle, schema))

    def close(self) -> None:
        """Every schema kept for use again is dropped here, in this thread (at exit the worker takes no more work)."""
        self._worker.shutdown(wait=True)
        for returned in self._returned:
            try:
                if (schema := returned.result()) is not None:
                    _drop_schema(schema)
            except Exception:  # noqa: BLE001 - PostgreSQL went away: nothing was left to drop
                pass
        self._returned = []


_SCHEMAS: list[_Schemas] = []


def _postgres_url():
    """A migrated schema of the test database with a new one's rows, and the call that gives it back (it is
    emptied for the next test, or dropped)."""
    _require_postgres()
    _migration_sql()  # recorded in this thread, before the worker replays it
    if not _SCHEMAS:
        _SCHEMAS.append(_Schemas())
    schemas = _SCHEMAS[0]
    schema = schemas.take()
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

    def drop():
        schemas.drop(schema)
    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, sqlite_template, tmp_path):
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        yield _sqlite_url(sqlite_template, tmp_path)
        return
    url, drop = _postgres_url()
    yield url
    drop()


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    return _sqlite_url(sqlite_template, tmp_path)


@pytest.fixture
def clock():
    return FakeClock()


# Tests run legitimate scripts on loaded machines (the suite runs beside others, and twice at once): their
# scripts get a limit they never meet. Tests about the time limit set a tight one and assert only that it hits.
TEST_SCRIPT_TIME_LIMIT_SECONDS = 60.0


# One audit signing key for every test that does not choose its own (make_services), outside the repository.
TEST_AUDIT_KEY = Path(tempfile.mkdtemp(prefix="expediente-audit-key-")) / "ed25519.pem"
atexit.register(shutil.rmtree, TEST_AUDIT_KEY.parent, ignore_errors=True)  # gone when the run ends

APP_FORMS = object()  # make_services' default: the forms in forms/, as the app has them
# SQLite in memory, one connection shared by every checkout (engine.storage.db): a fresh migrated database per call
# to make_services, for use-case tests run in one thread (see tests/unit/test_usecases_in_memory.py).
IN_MEMORY_URL = "sqlite+pysqlite:///:memory:"


def make_services(url: str, clock, *, db=None, forms=APP_FORMS, mailer=None, **settings) -> Services:
    """Services from the app's factory (build_services, form validation on) on this database, clock and settings.

    Nothing comes from the developer's environment: mail stays in the outbox unless the test passes a `mailer`,
    deadline alerts keep their defaults. `forms=None` turns form validation off (say why at the call).
    """
    settings.setdefault("script_time_limit_seconds", TEST_SCRIPT_TIME_LIMIT_SECONDS)
    # The office's audit key, created on first use: in the session's own folder, never under the repository's var/.
    settings.setdefault("audit_key", str(TEST_AUDIT_KEY))
    overrides = {"clock": clock, "mailer": mailer, "alert_policy": None}
    if forms is not APP_FORMS:
        overrides["forms"] = forms
    s = Settings(database_url=url, **settings)
    if db is None and url == IN_MEMORY_URL:  # born empty: migrate it (a few hundredths of a second)
        db = make_engine(s)
        upgrade(db)
    return build_services(s, db=db, **overrides)


@pytest.fixture
def svc(database_url, clock):
    services = make_services(database_url, clock)
    yield services
    services.db.dispose()


@pytest.fixture
def sqlite_svc(sqlite_url, clock):
    services = make_services(sqlite_url, clock)
    yield services
    services.db.dispose()


def bpmn_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
