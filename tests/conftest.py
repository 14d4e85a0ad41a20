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
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

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


class _Schemas:
    """Migrated schemas made one ahead, and dropped, by a thread of their own: PostgreSQL builds the next one on the
    other core while a test runs (about 0.2 s of DDL per PostgreSQL test, some 800 of them, no longer waited for)."""

    def __init__(self):
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-schemas")
        self._next = None
        atexit.register(self.close)

    def take(self) -> str:
        upcoming = self._next or self._worker.submit(_create_schema)
        self._next = self._worker.submit(_create_schema)
        return upcoming.result()

    def drop(self, schema: str) -> None:
        self._worker.submit(_drop_schema, schema)

    def close(self) -> None:
        """The schema made ahead for a test that never came is dropped here, in this thread (at exit the worker
        takes no more work)."""
        upcoming, self._next = self._next, None
        self._worker.shutdown(wait=True)
        if upcoming is not None:
            try:
                _drop_schema(upcoming.result())
            except Exception:  # noqa: BLE001 - PostgreSQL went away: nothing was left to drop
                pass


_SCHEMAS: list[_Schemas] = []


def _postgres_url():
    """A fresh schema in the test database, migrated (a replay of the migrations); dropped by the caller."""
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
