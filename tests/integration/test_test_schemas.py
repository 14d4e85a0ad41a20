"""The PostgreSQL tests' schemas (tests/conftest.py): a schema a test has finished with is emptied back to a new one's
rows and sequences and used again, and one whose shape its test changed is dropped instead."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from engine.usecases import cases
from engine.usecases.deploy import deploy_files
from tests.conftest import (_SEQUENCES_SQL, _SHAPE_SQL, _TABLES_SQL, POSTGRES_URL, _create_schema, _drop_schema,
                            _postgres_url, _recycle, bpmn_fixture, make_services, principal_for)

ADMIN = principal_for("admin")


def _read(schema: str, sql: str):
    engine = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            return conn.exec_driver_sql(sql).all()
    finally:
        engine.dispose()


def _schema_of(url: str) -> str:
    return url.rsplit("search_path%3D", 1)[1]


def _contents(schema: str) -> dict:
    """Every table's rows (sorted) and every sequence's state, read on one connection."""
    engine = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            found = {t: sorted(map(repr, conn.exec_driver_sql(f'SELECT * FROM "{t}"').all()))
                     for t in [*conn.exec_driver_sql(_TABLES_SQL).scalars(), "alembic_version"]}
            found.update({q: conn.exec_driver_sql(f'SELECT last_value, is_called FROM "{q}"').all()
                          for q in conn.exec_driver_sql(_SEQUENCES_SQL).scalars().all()})
            return found
    finally:
        engine.dispose()


def test_a_used_schema_comes_back_as_a_new_one(clock):
    url, release = _postgres_url()
    schema = _schema_of(url)
    new = _create_schema()
    try:
        assert _contents(schema) == _contents(new)
        svc = make_services(url, clock)
        deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="tests")
        for _ in range(3):
            cases.start_case(svc, ADMIN, "five_step")
        svc.db.dispose()
        assert _contents(schema) != _contents(new)

        assert _recycle(schema) == schema
        assert _contents(schema) == _contents(new)
        assert _read(schema, _SHAPE_SQL) == _read(new, _SHAPE_SQL)
        # The history's guards are back on: a delete is refused as in any new schema.
        svc = make_services(url, clock)
        deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="tests")
        started = cases.start_case(svc, ADMIN, "five_step")
        assert started.id == 1  # the sequences start again
        svc.db.dispose()
        engine = create_engine(POSTGRES_URL, poolclass=NullPool)
        with pytest.raises(Exception, match="append-only|append only|solo se agrega|not allowed|no se permite"):
            with engine.begin() as conn:
                conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
                conn.exec_driver_sql("DELETE FROM events")
        engine.dispose()
    finally:
        _drop_schema(new)
        release()


def test_a_schema_whose_shape_its_test_changed_is_dropped():
    url, release = _postgres_url()
    schema = _schema_of(url)
    engine = create_engine(POSTGRES_URL, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
        conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER events_append_only")
    try:
        assert _recycle(schema) is None
        with engine.connect() as conn:
            gone = conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar()
        assert gone == 0
    finally:
        engine.dispose()
