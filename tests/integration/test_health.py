"""/health tells a monitor whether the database answers, its schema is current and a scheduler is alive."""
from __future__ import annotations

from sqlalchemy import text

from api.app import create_app
from engine.config import Settings
from engine.ops import health
from engine.storage.db import make_engine
from engine.ops.scheduler import SchedulerSettings, build_scheduler, stop_cleanly
from tests.conftest import make_services


def _health(svc, tmp_path, **config):
    app = create_app(test_config={"SECRET_KEY": "s", "TESTING": True, "VAR_DIR": str(tmp_path), **config},
                     services=svc)
    response = app.test_client().get("/health")
    return response.status_code, response.get_json()


def test_health_is_503_until_a_scheduler_stamps_its_heartbeat(svc, tmp_path):
    status, body = _health(svc, tmp_path)
    assert status == 503
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert body["checks"]["scheduler"] == {"ok": False, "required": True, "last_heartbeat": None,
                                           "age_seconds": None, "stale_after_seconds": 120.0}
    health.beat(svc, "host:1", svc.clock())
    status, body = _health(svc, tmp_path)
    assert status == 200 and body["status"] == "ok"


def test_a_heartbeat_older_than_the_limit_is_stale(svc, clock, tmp_path):
    health.beat(svc, "host:1", clock())
    clock.advance(seconds=121)
    status, body = _health(svc, tmp_path)
    assert status == 503
    assert body["checks"]["scheduler"]["age_seconds"] == 121.0
    assert _health(svc, tmp_path, HEALTH_SCHEDULER_STALE_SECONDS=300)[0] == 200


def test_a_server_without_a_scheduler_on_purpose_can_say_so(svc, tmp_path):
    assert _health(svc, tmp_path, HEALTH_REQUIRE_SCHEDULER=False)[0] == 200


def test_health_names_migrations_the_database_lacks(svc, tmp_path):
    health.beat(svc, "host:1", svc.clock())
    with svc.uow() as uow:
        uow.conn.execute(text("DELETE FROM alembic_version"))
        uow.conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
        uow.commit()
    status, body = _health(svc, tmp_path)
    assert status == 503
    assert body["checks"]["migrations"]["current"] == ["0001"]
    assert body["checks"]["migrations"]["expected"] == sorted(health.expected_revisions())


def test_health_is_503_when_the_database_cannot_be_reached(sqlite_url, tmp_path, clock):
    svc = make_services(sqlite_url, clock)  # the factory reads the closure days: the database answers at start...
    svc.db.dispose()
    svc.db = make_engine(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=5"))
    try:  # ...and then goes away (a closed port)
        status, body = _health(svc, tmp_path)
    finally:
        svc.db.dispose()
    assert status == 503
    assert body["checks"]["database"]["ok"] is False


def test_a_scheduler_pass_stamps_the_heartbeat_and_a_clean_stop_removes_it(svc):
    jobs = build_scheduler(svc, SchedulerSettings(interval_seconds=3600))
    jobs.expediente_pass()  # one pass, as the interval job runs it
    ok, checks = health.report(svc, 120)
    assert ok and checks["scheduler"]["last_heartbeat"] is not None
    stop_cleanly(jobs)
    ok, checks = health.report(svc, 120)
    assert not ok and checks["scheduler"]["last_heartbeat"] is None
