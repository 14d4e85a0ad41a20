"""The administration log (engine/usecases/admin_log.py, migration 0019_admin_log) on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from engine.audit.verify import verify
from engine.errors import Forbidden
from engine.integrity import canonical, keys
from engine.storage.migrate import alembic_config, upgrade
from engine.usecases.admin_log import list_admin_log, record
from tests.conftest import make_services, principal_for
from tests.integration.test_audit_verify import tamper

ADMIN = principal_for("admin")


@pytest.fixture
def svc(database_url, clock):
    services = make_services(database_url, clock)
    yield services
    services.db.dispose()


def _write(svc, clock, *entries):
    for actor, action, target, detail in entries:
        clock.advance(minutes=1)
        with svc.uow() as uow:
            record(uow.conn, actor=actor, action=action, target=target, detail=detail, at=svc.clock())
            uow.commit()


def test_rows_are_listed_newest_first_filtered_and_paged(svc, clock):
    _write(svc, clock, ("admin", "user.create", "ana", {"role": "clerk"}), ("admin", "group.create", "caja", None),
           ("jefa", "user.unlock", "ana", None), ("admin", "closure.add", "2026-12-10", {"reason": "Feriado"}))
    page = list_admin_log(svc, ADMIN)
    assert [(e["seq"], e["action"], e["target"]) for e in page["items"]] == [
        (4, "closure.add", "2026-12-10"), (3, "user.unlock", "ana"), (2, "group.create", "caja"),
        (1, "user.create", "ana")]
    assert page["items"][0]["detail"] == {"reason": "Feriado"} and page["items"][2]["detail"] is None
    assert [e["seq"] for e in list_admin_log(svc, ADMIN, action="user")["items"]] == [3, 1]
    assert [e["seq"] for e in list_admin_log(svc, ADMIN, action="user.unlock")["items"]] == [3]
    assert [e["seq"] for e in list_admin_log(svc, ADMIN, actor="jefa")["items"]] == [3]
    first = list_admin_log(svc, ADMIN, per_page=3)
    second = list_admin_log(svc, ADMIN, page=2, per_page=3)
    assert (first["has_next"], [e["seq"] for e in second["items"]], second["has_next"]) == (True, [1], False)
    assert list_admin_log(svc, principal_for("auditor1", "auditor"))["items"]
    with pytest.raises(Forbidden):
        list_admin_log(svc, principal_for("jefe", "supervisor"))


def test_rows_are_chained_from_the_admin_head(svc, clock):
    _write(svc, clock, ("admin", "user.create", "ana", {"role": "clerk"}), (None, "lane.set", "*/Caja", None))
    with svc.db.connect() as conn:
        rows = conn.execute(text("SELECT seq, at, actor, action, target, detail_json, chain FROM admin_log "
                                 "ORDER BY seq")).all()
        head = conn.execute(text("SELECT seq, chain FROM audit_heads WHERE name = 'admin'")).one()
    chain = canonical.GENESIS
    for row in rows:
        chain = canonical.log_link(chain, canonical.leaf_hash(canonical.access_entry(
            row.seq, _aware(row.at), row.actor, row.action, row.target, row.detail_json)))
        assert chain.hex() == row.chain
    assert (head.seq, head.chain) == (2, chain.hex())


def _aware(at):
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=timezone.utc)


def test_the_database_refuses_to_change_or_delete_a_row(svc, clock):
    _write(svc, clock, ("admin", "user.create", "ana", None))
    for statement in ("UPDATE admin_log SET target = 'otro'", "DELETE FROM admin_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with svc.db.begin() as conn:
                conn.execute(text(statement))
    assert [e["target"] for e in list_admin_log(svc, ADMIN)["items"]] == ["ana"]


def test_a_failed_change_leaves_no_row(svc, clock):
    with pytest.raises(RuntimeError):
        with svc.uow() as uow:
            record(uow.conn, actor="admin", action="user.create", target="ana", detail=None, at=svc.clock())
            raise RuntimeError("the change failed")
    assert list_admin_log(svc, ADMIN)["items"] == []


def test_migration_goes_down_and_up_again(svc, clock):
    _write(svc, clock, ("admin", "user.create", "ana", None))
    cfg = alembic_config()
    with svc.db.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0018_task_state_indexes")
    with svc.db.connect() as conn:
        assert "admin_log" not in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT count(*) FROM audit_heads WHERE name = 'admin'")).scalar() == 0
    upgrade(svc.db)
    _write(svc, clock, ("admin", "user.create", "beto", None))
    assert [(e["seq"], e["target"]) for e in list_admin_log(svc, ADMIN)["items"]] == [(1, "beto")]


def test_audit_verify_checks_the_admin_chain_and_names_an_edited_or_deleted_row(svc, clock, tmp_path):
    svc = make_services(svc.settings.database_url, clock, audit_key=str(tmp_path / "audit.pem"))
    _write(svc, clock, ("admin", "user.create", "ana", None), ("admin", "user.unlock", "ana", None),
           ("admin", "group.create", "caja", None))
    public = keys.office_key(svc.settings).public_key()
    assert verify(svc, public).ok
    tamper(svc, "UPDATE admin_log SET actor = 'otro' WHERE seq = 2", table="admin_log")
    report = verify(svc, public)
    assert [p.what for p in report.problems] == ["admin_edited"]
    assert report.problems[0].message.startswith("la fila 2 del registro de administración (otro, user.unlock")
    tamper(svc, "UPDATE admin_log SET actor = 'admin' WHERE seq = 2", "DELETE FROM admin_log WHERE seq = 3",
           table="admin_log")
    assert [p.what for p in verify(svc, public).problems] == ["admin_head"]
    tamper(svc, table="admin_log", put_back=False)
    assert any(p.what == "trigger" and "admin_log" in p.message for p in verify(svc, public).problems)
    svc.db.dispose()
