"""`audit verify` against every way of tampering with the history, on SQLite and PostgreSQL.

Each tampering test does what an attacker with the database's password would: drop the append-only trigger, change
rows with raw SQL, and (unless the test is about the trigger) put the trigger back so nothing looks touched.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from engine.accounts.users import map_lane
from engine.audit.access import log_access
from engine.audit.checkpoints import all_checkpoints, create_checkpoint, sign_note
from engine.audit.status import integrity_status
from engine.audit.verify import stamp_of, verify, verify_checkpoint_text
from engine.cli.main import main
from engine.integrity import canonical, keys
from engine.ops.scheduler import audit_checkpoint
from engine.storage import models
from engine.storage.migrate import alembic_config, upgrade
from engine.usecases import cases, tasks
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM, bpmn_fixture, make_services, principal_for
from tests.task_rows import task_rows


@pytest.fixture
def svc(database_url, clock, tmp_path):
    services = make_services(database_url, clock, audit_key=str(tmp_path / "audit.pem"))
    yield services
    services.db.dispose()


def public(svc):
    return keys.office_key(svc.settings).public_key()


def _step_all(svc, clock, case_ids):
    for case_id in case_ids:
        clock.advance(minutes=7)
        for task in task_rows(svc, case_id):
            data = {"amount": 80} if task["element_id"] == "register" else {"ok": True}
            tasks.complete_task(svc, principal_for("oficial1"), task["id"], data)


@pytest.fixture
def history(svc, clock):
    """Four interleaved cases: checkpoint #1 after 8 events, #2 after 16, then a fifth case (17 events)."""
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    ids = []
    for amount in (80, 90, 100, 110):
        clock.advance(minutes=3)
        ids.append(cases.start_case(svc, SYSTEM, "five_step", {"amount": amount}).id)
    _step_all(svc, clock, ids)
    assert create_checkpoint(svc, "auditor1")["tree_size"] == 8
    _step_all(svc, clock, ids)
    clock.advance(days=1)
    assert create_checkpoint(svc, None)["tree_size"] == 16
    cases.start_case(svc, SYSTEM, "five_step", {"amount": 5})
    return svc


def events(svc) -> list[dict]:
    with svc.db.connect() as conn:
        return [dict(r) for r in conn.execute(select(models.events).order_by(models.events.c.seq)).mappings()]


def notes(svc) -> list[str]:
    with svc.db.connect() as conn:
        return [row["note"] for row in all_checkpoints(conn)]


def case_number(svc, case_id) -> str:
    with svc.db.connect() as conn:
        return conn.execute(select(models.cases.c.number).where(models.cases.c.id == case_id)).scalar_one()


def _guards(conn, table: str, install: bool) -> None:
    if conn.dialect.name == "sqlite":
        for action in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER {table}_no_{action}") if not install else text(
                f"CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"))
    elif install:
        conn.execute(text(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                          f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"))
    else:
        conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))


def tamper(svc, *statements, table: str = "events", put_back: bool = True, **params) -> None:
    """Drop the table's append-only trigger, run the statements, and put the trigger back (or not)."""
    with svc.db.begin() as conn:
        _guards(conn, table, install=False)
        for statement in statements:
            conn.execute(text(statement), params)
        if put_back:
            _guards(conn, table, install=True)


def rehash(svc, rows: list[dict]) -> None:
    """Recompute every event's leaf and both chains from `rows` (in seq order) and store them, with the head:
    the history rewritten consistently, as a careful attacker would."""
    chain, case_chains, updates = canonical.GENESIS, {}, []
    for row in rows:
        leaf = canonical.leaf_hash(canonical.entry_of(row))
        case_chain = canonical.case_link(case_chains.get(row["case_id"], canonical.GENESIS), leaf)
        chain = canonical.log_link(chain, leaf)
        case_chains[row["case_id"]] = case_chain
        updates.append({"id": row["id"], "data": row["data_json"], "leaf": leaf.hex(), "cc": case_chain.hex(),
                        "chain": chain.hex()})
    with svc.db.begin() as conn:
        _guards(conn, "events", install=False)
        conn.execute(text("UPDATE events SET data_json = :data, leaf_hash = :leaf, case_chain = :cc, chain = :chain "
                          "WHERE id = :id"), updates)
        conn.execute(text("UPDATE audit_heads SET chain = :chain WHERE name = 'events'"), {"chain": chain.hex()})
        _guards(conn, "events", install=True)


def failed(svc):
    report = verify(svc, public(svc))
    assert not report.ok and report.problems and report.problem_count >= len(report.problems)
    return report


def assert_names(problem, event: dict, svc, what: str) -> None:
    assert problem.what == what, problem.message
    assert (problem.event_id, problem.seq, problem.case_id) == (event["id"], event["seq"], event["case_id"])
    assert problem.case_number == case_number(svc, event["case_id"])
    assert problem.kind == event["kind"]
    assert f"Evento {event['id']} " in problem.message and problem.case_number in problem.message


def test_untouched_history_verifies_with_every_checkpoint(history):
    report = verify(history, public(history))
    assert report.ok, report.problems
    assert (report.events, report.cases, report.checkpoints) == (17, 5, 2)
    assert report.summary().startswith("OK: 17 eventos en 5 expedientes, 2 puntos de control; último #2 de 16")
    assert all(e["seq"] == i for i, e in enumerate(events(history), start=1))


def test_raw_timestamps_read_as_the_canonical_text(history):
    with history.db.connect() as conn:
        raw = conn.exec_driver_sql("SELECT at FROM events ORDER BY seq").scalars().all()
    assert [stamp_of(at) for at in raw] == [canonical.timestamp(e["at"]) for e in events(history)]


def test_an_edited_row_is_named_with_its_case(history):
    target = events(history)[5]
    tamper(history, "UPDATE events SET data_json = :data WHERE id = :id", data='{"amount": 1}', id=target["id"])
    report = failed(history)
    assert_names(report.problems[0], target, history, "edited")
    assert "ya no coincide con su hash de hoja (editado)" in report.problems[0].message
    # both checkpoints signed it, so neither holds any more
    roots = [p.message for p in report.problems if p.what == "checkpoint_root"]
    assert [m.split(" (")[0] for m in roots] == ["el punto de control #1", "el punto de control #2"]


def test_an_edit_after_the_last_checkpoint_is_still_named(history):
    target = events(history)[-1]
    tamper(history, "UPDATE events SET actor = 'intruso' WHERE id = :id", id=target["id"])
    report = failed(history)
    assert_names(report.problems[0], target, history, "edited")
    assert report.problem_count == 1


def test_a_deleted_row_leaves_a_gap_in_the_sequence_and_its_case(history):
    rows = events(history)
    at = next(i for i in range(8, 16) if any(e["case_id"] == rows[i]["case_id"] for e in rows[i + 1:]))
    gone, after = rows[at], rows[at + 1]
    tamper(history, "DELETE FROM events WHERE id = :id", id=gone["id"])
    report = failed(history)
    assert_names(report.problems[0], after, history, "deleted")
    assert f"falta el n.º {gone['seq']} del registro (borrado)" in report.problems[0].message
    case_gap = next(p for p in report.problems if p.what == "case_deleted")
    assert case_gap.case_id == gone["case_id"] and f"falta el n.º {gone['case_seq']}" in case_gap.message


def test_deleting_the_last_events_disagrees_with_the_head(history):
    last = events(history)[-1]
    tamper(history, "DELETE FROM events WHERE id = :id", id=last["id"])
    report = failed(history)
    assert report.problems[0].what == "deleted"
    assert "dice 17 eventos, pero el registro termina en el n.º 16" in report.problems[0].message


def test_two_rows_reordered_are_named_as_moved(history):
    rows = events(history)
    first, second = rows[3], rows[6]
    tamper(history, "UPDATE events SET seq = -1 WHERE id = :a", "UPDATE events SET seq = :sa WHERE id = :b",
           "UPDATE events SET seq = :sb WHERE id = :a", a=first["id"], b=second["id"], sa=first["seq"],
           sb=second["seq"])
    report = failed(history)
    moved = dict(second, seq=first["seq"])
    assert_names(report.problems[0], moved, history, "moved")
    assert f"se selló en el n.º {second['seq']} del registro (reordenado)" in report.problems[0].message


def test_swapped_contents_are_named_as_edited(history):
    rows = events(history)
    a, b = rows[1], rows[2]
    tamper(history, "UPDATE events SET data_json = :db WHERE id = :a",
           "UPDATE events SET data_json = :da WHERE id = :b", a=a["id"], b=b["id"], da=a["data_json"],
           db=b["data_json"])
    report = failed(history)
    assert_names(report.problems[0], a, history, "edited")
    assert_names(report.problems[1], b, history, "edited")


def _insert(svc, **values) -> None:
    row = {"case_id": events(svc)[0]["case_id"], "at": datetime(2026, 3, 2, 16, tzinfo=timezone.utc),
           "kind": "task_completed", "element_id": "review", "task_id": None, "actor": "intruso",
           "data_json": '{"ok": true}', "seq": None, "case_seq": None, "leaf_hash": None, "case_chain": None,
           "chain": None, "changes_json": None, **values}
    with svc.db.begin() as conn:
        conn.execute(models.events.insert(), row)


def test_a_row_inserted_without_hashes_is_named(history):
    _insert(history)
    report = failed(history)
    problem = report.problems[0]
    assert problem.what == "inserted" and problem.seq is None and problem.kind == "task_completed"
    assert "fue insertado fuera de la aplicación" in problem.message


def test_a_row_inserted_with_made_up_hashes_is_named(history):
    case_seq = sum(e["case_id"] == events(history)[0]["case_id"] for e in events(history)) + 1
    _insert(history, seq=18, case_seq=case_seq, leaf_hash="ab" * 32, case_chain="cd" * 32, chain="ef" * 32)
    report = failed(history)
    inserted = max(events(history), key=lambda e: e["seq"])
    assert_names(report.problems[0], inserted, history, "inserted")
    assert "más allá de la cabeza de la cadena (17 eventos)" in report.problems[0].message
    assert {p.what for p in report.problems} == {"inserted", "edited", "case_chain", "chain"}


def test_a_row_inserted_with_correct_hashes_but_the_head_untouched_is_named(history):
    rows = events(history)
    last_of_case = max((e for e in rows if e["case_id"] == rows[-1]["case_id"]), key=lambda e: e["case_seq"])
    row = {"seq": 18, "case_id": rows[-1]["case_id"], "case_seq": last_of_case["case_seq"] + 1,
           "at": datetime(2026, 3, 9, tzinfo=timezone.utc), "kind": "case_completed", "element_id": None,
           "task_id": None, "actor": None, "data_json": None, "changes_json": None}
    leaf = canonical.leaf_hash(canonical.entry_of(row))
    _insert(history, **row, leaf_hash=leaf.hex(),
            case_chain=canonical.case_link(bytes.fromhex(last_of_case["case_chain"]), leaf).hex(),
            chain=canonical.log_link(bytes.fromhex(rows[-1]["chain"]), leaf).hex())
    report = failed(history)
    assert report.problem_count == 1 and report.problems[0].what == "inserted" and report.problems[0].seq == 18


def test_a_dropped_trigger_and_the_edit_behind_it_are_both_reported(history):
    target = events(history)[2]
    tamper(history, "UPDATE events SET kind = 'case_cancelled' WHERE id = :id", id=target["id"], put_back=False)
    report = failed(history)
    triggers = [p for p in report.problems if p.what == "trigger"]
    assert report.problems[0].what == "trigger"
    assert all("events" in p.message for p in triggers) and "protección de solo-anexar" in triggers[0].message
    edited = next(p for p in report.problems if p.what == "edited")
    assert_names(edited, dict(target, kind="case_cancelled"), history, "edited")


def test_a_chain_rewritten_and_rehashed_is_caught_by_the_checkpoint_that_signed_it(history):
    rows = events(history)
    rows[11]["data_json"] = '{"ok": false}'
    rehash(history, rows)
    report = failed(history)
    assert report.problem_count == 1, [p.message for p in report.problems]
    problem = report.problems[0]
    assert problem.what == "checkpoint_root"
    assert problem.message.startswith("el punto de control #2 (firmado 2026-03-03")
    assert "no coincide con los eventos 1..16: la historia fue reescrita después de su firma" in problem.message
    assert "el cambio está entre los eventos 9 y 16 (el punto de control #1 (firmado" in problem.message


def test_a_kept_checkpoint_catches_a_rewrite_whose_checkpoints_were_deleted(history):
    kept = notes(history)[0]
    rows = events(history)
    rows[2]["data_json"] = '{"amount": 1}'
    rehash(history, rows)
    tamper(history, "DELETE FROM audit_checkpoints", table="audit_checkpoints")
    assert verify(history, public(history)).ok  # nothing in the database disagrees any more...
    with history.db.connect() as conn:
        report = verify_checkpoint_text(conn, public(history), kept)
    assert not report.ok and [p.what for p in report.problems] == ["external_root"]  # ...but the printed note does
    assert "el cambio está entre los eventos 1 y 8" in report.problems[0].message


def test_a_kept_checkpoint_of_an_untouched_history_holds(history):
    with history.db.connect() as conn:
        kept = all_checkpoints(conn)[1]["note"]
        assert verify_checkpoint_text(conn, public(history), kept).ok
        forged = sign_note(Ed25519PrivateKey.generate(), 16, b"\x01" * 32, datetime.now(timezone.utc)).note
        report = verify_checkpoint_text(conn, public(history), forged)
    assert [p.what for p in report.problems] == ["external_signature"]


def test_a_checkpoint_forged_with_another_key_is_named(history):
    forged = sign_note(Ed25519PrivateKey.generate(), 16, b"\x02" * 32, datetime(2026, 3, 3, tzinfo=timezone.utc))
    tamper(history, "UPDATE audit_checkpoints SET note = :note, root_hash = :root WHERE id = 2",
           table="audit_checkpoints", note=forged.note, root=forged.root.hex())
    report = failed(history)
    assert [p.what for p in report.problems] == ["checkpoint_signature"]
    assert report.problems[0].message.startswith("el punto de control #2")
    assert "no vale con la clave pública dada" in report.problems[0].message


def test_a_checkpoint_note_edited_is_named(history):
    note = notes(history)[0]
    tamper(history, "UPDATE audit_checkpoints SET note = :note, tree_size = 7 WHERE id = 1", table="audit_checkpoints",
           note=note.replace("\n8\n", "\n7\n", 1))
    report = failed(history)
    assert report.problems[0].what == "checkpoint_signature" and "#1" in report.problems[0].message


def test_a_checkpoint_row_that_disagrees_with_its_note_is_named(history):
    tamper(history, "UPDATE audit_checkpoints SET tree_size = 9 WHERE id = 1", table="audit_checkpoints")
    report = failed(history)
    assert report.problems[0].what == "checkpoint_row" and "tree_size" in report.problems[0].message


def test_a_deleted_checkpoint_is_named(history):
    tamper(history, "DELETE FROM audit_checkpoints WHERE id = 1", table="audit_checkpoints")
    report = failed(history)
    assert [p.what for p in report.problems] == ["checkpoint_missing"]


def test_verifying_with_another_public_key_fails_every_checkpoint(history):
    report = verify(history, Ed25519PrivateKey.generate().public_key())
    assert [p.what for p in report.problems] == ["checkpoint_signature", "checkpoint_signature"]


def test_an_edited_access_log_row_is_named(history):
    log_access(history, "auditor1", "audit.case", "EXP-1")
    log_access(history, "auditor1", "audit.export", "EXP-1")
    log_access(history, "auditor1", "audit.search", None, {"actor": "oficial1"})
    assert verify(history, public(history)).ok
    tamper(history, "UPDATE access_log SET action = 'audit.search' WHERE seq = 2", table="access_log")
    report = failed(history)
    assert [p.what for p in report.problems] == ["access_edited"]
    assert report.problems[0].message.startswith("la fila 2 del registro de accesos (auditor1, audit.search")


def test_a_deleted_access_log_row_is_named(history):
    for action in ("audit.case", "audit.export"):
        log_access(history, "auditor1", action, "EXP-1")
    tamper(history, "DELETE FROM access_log WHERE seq = 2", table="access_log")
    report = failed(history)
    assert [p.what for p in report.problems] == ["access_head"]


def test_history_sealed_by_the_migration_verifies(history):
    """Events written before the audit migration (0013) are sealed by it in id order and verify."""
    before = [(e["id"], e["kind"]) for e in events(history)]
    cfg = alembic_config()
    with history.db.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012_public")
    upgrade(history.db)
    report = verify(history, public(history))
    assert report.ok, report.problems
    assert [(e["id"], e["kind"]) for e in events(history)] == before and report.events == 17
    tamper(history, "UPDATE events SET actor = 'x' WHERE seq = 4")
    assert failed(history).problems[0].seq == 4


def _cli(svc, monkeypatch, *args):
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", svc.settings.database_url)
    monkeypatch.setenv("EXPEDIENTE_AUDIT_KEY", svc.settings.audit_key)
    monkeypatch.setenv("USER", "auditor1")
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=False)


def test_cli_verify_exits_0_on_a_sound_history_and_1_naming_the_problem(history, monkeypatch, tmp_path):
    result = _cli(history, monkeypatch, "verify")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 17 eventos en 5 expedientes, 2 puntos de control")
    target = events(history)[4]
    tamper(history, "UPDATE events SET data_json = '{}' WHERE id = :id", id=target["id"])
    result = _cli(history, monkeypatch, "verify")
    assert result.exit_code == 1
    assert result.output.startswith(f"FALLA: Evento {target['id']} (n.º {target['seq']} del registro, expediente "
                                    f"{case_number(history, target['case_id'])}")
    with history.db.connect() as conn:
        status = integrity_status(conn)["last_verification"]
    assert (status["ok"], status["run_by"], status["events"]) == (False, "auditor1", 17)
    assert status["problem"].startswith(f"Evento {target['id']} ")


def test_cli_verify_json_public_key_and_kept_checkpoints(history, monkeypatch, tmp_path):
    key_file = tmp_path / "office.pub"
    key_file.write_text(_cli(history, monkeypatch, "public-key", "--pem").output)
    line = _cli(history, monkeypatch, "public-key").output.strip()
    assert line.startswith("ed25519 ") and keys.load_public(line) == keys.load_public(key_file.read_text())
    note = tmp_path / "checkpoint.txt"
    note.write_text(_cli(history, monkeypatch, "checkpoint").output)
    assert note.read_text().split("\n")[1] == "17"
    result = _cli(history, monkeypatch, "verify", "--public-key", str(key_file), "--checkpoint", str(note), "--json")
    assert result.exit_code == 0, result.output
    assert '"checkpoints": 3' in result.output and '"ok": true' in result.output
    other = keys.public_text(Ed25519PrivateKey.generate().public_key())
    result = _cli(history, monkeypatch, "verify", "--public-key", other)
    assert result.exit_code == 1 and "no vale con la clave pública dada" in result.output
    result = _cli(history, monkeypatch, "verify", "--public-key", "not a key")
    assert result.exit_code == 2 and "--public-key" in result.output


def test_scheduler_job_signs_a_checkpoint_only_over_a_sound_history(history, clock):
    clock.advance(days=1)
    checkpoint = audit_checkpoint(history)
    assert checkpoint["tree_size"] == 17 and checkpoint["created_by"] is None
    with history.db.connect() as conn:
        status = integrity_status(conn)
    assert status["last_verification"]["ok"] and status["last_checkpoint"]["id"] == checkpoint["id"]
    tamper(history, "UPDATE events SET actor = 'intruso' WHERE seq = 3")
    assert audit_checkpoint(history) is None
    with history.db.connect() as conn:
        status = integrity_status(conn)
    assert status["last_verification"]["ok"] is False and "Evento" in status["last_verification"]["problem"]
    assert status["last_checkpoint"]["id"] == checkpoint["id"]


def test_the_nightly_job_runs_at_the_configured_hour_of_the_office(svc):
    from engine.ops.scheduler import SchedulerSettings, build_scheduler
    settings = SchedulerSettings.from_env({"EXPEDIENTE_SCHEDULER_AUDIT_CHECKPOINT_HOUR": "22"})
    job = build_scheduler(svc, settings).get_job("audit")
    assert job.func is audit_checkpoint and job.args == (svc,)
    assert str(job.trigger.timezone) == "America/Guatemala"
    assert str(job.trigger.fields[job.trigger.FIELD_NAMES.index("hour")]) == "22"
