"""The auditor's API on SQLite and PostgreSQL: who may call it, the search's pages against its CSV and JSON
streams, signed checkpoints that verify with the published key, the case record and its verifiable export, bad
filters named, and the access log of every look."""
from __future__ import annotations

import csv
import io
import threading

import orjson
import pytest
from sqlalchemy import func, select

from engine.audit.checkpoints import NoteError, verify_note
from engine.audit.verify_export import verify_export
from engine.integrity import keys
from engine.storage import models
from engine.usecases import tasks
from tests.api import probes as p
from tests.api.conftest import ROLE_USERS, Client, make_app, seed, token_for
from tests.conftest import make_services, principal_for
from tests.task_rows import task_rows
from tests.waiting import wait_until
from web import audit_streams

GETS = ("/api/audit/status", "/api/audit/public-key", "/api/audit/checkpoints", "/api/audit/events",
        "/api/audit/access-log", "/api/audit/cases/{case}/record", "/api/audit/cases/{case}/export")


@pytest.fixture
def office(database_url, clock, tmp_path):
    svc = make_services(database_url, clock, audit_key=str(tmp_path / "audit.pem"))
    seed(svc)
    yield svc
    svc.db.dispose()


@pytest.fixture
def callers(office, tmp_path):
    """role -> a Client with that role's token, on one app."""
    app = make_app(office, tmp_path)
    return {role: Client(app, token_for(office, user), cookies=False) for role, user in ROLE_USERS.items()}


@pytest.fixture
def auditor(callers):
    return callers["auditor"]


def _history(svc) -> list[int]:
    """Three cases: one with a completed step (a change in its data), one errored, one with an attachment."""
    worked = p.new_case(svc)
    [task] = task_rows(svc, worked)
    tasks.complete_task(svc, principal_for(p.OWNER), task["id"], {"amount": 25})
    return [worked, p.errored_case(svc), p.new_case(svc, {"amount": 7})]


def test_every_audit_read_answers_auditors_and_admins_and_refuses_clerks_and_supervisors(office, callers):
    case_id = p.new_case(office)
    for path in GETS:
        path = path.format(case=case_id)
        got = {role: client.get(path).status_code for role, client in callers.items()}
        assert got == {"clerk": 403, "supervisor": 403, "auditor": 200, "admin": 200}, path
    p.new_case(office)  # an event no checkpoint covers yet (the export signed one): the auditor's is new
    got = {role: client.post("/api/audit/checkpoints").status_code for role, client in callers.items()}
    assert got["clerk"] == got["supervisor"] == 403 and got["auditor"] == 201 and got["admin"] == 200


def test_the_search_pages_and_its_csv_and_json_streams_hold_the_same_events(office, auditor):
    _history(office)
    pages, before = [], None
    while True:
        page = auditor.get("/api/audit/events", query_string={"limit": 2, **({"before": before} if before else {})})
        assert page.status_code == 200
        body = page.get_json()
        pages += body["events"]
        before = body["next_before"]
        if before is None:
            break
    assert len(pages) == body["total"] >= 6
    assert [e["seq"] for e in pages] == sorted((e["seq"] for e in pages), reverse=True)

    streamed = auditor.get("/api/audit/events?format=json")
    assert streamed.mimetype == "application/json" and streamed.headers["X-Total-Count"] == str(len(pages))
    whole = orjson.loads(streamed.data)
    assert whole["total"] == len(pages) and whole["next_before"] is None
    assert whole["events"] == pages[::-1]  # oldest first; the same fields and values as the pages

    as_csv = auditor.get("/api/audit/events", headers={"Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv" and "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert [int(r["seq"]) for r in rows] == [e["seq"] for e in whole["events"]]
    for row, event in zip(rows, whole["events"]):
        assert row["case_number"] == event["case_number"] and row["kind"] == event["kind"]
        assert row["at"] == event["at"] and row["leaf_hash"] == event["leaf_hash"]
        assert (orjson.loads(row["data"]) if row["data"] else None) == event["data"]
        assert (orjson.loads(row["changes"]) if row["changes"] else None) == event["changes"]
    assert any(e["changes"] for e in pages)  # the completed step recorded what it changed


def test_filters_narrow_the_page_and_the_stream_alike(office, auditor):
    worked, _errored, _other = _history(office)
    number = auditor.get(f"/api/audit/cases/{worked}/record").get_json()["case"]["number"]
    query = {"case_number": number, "kind": "task_completed"}
    page = auditor.get("/api/audit/events", query_string=query).get_json()
    assert page["total"] == 1 and page["events"][0]["case_id"] == worked
    assert page["events"][0]["changes"]["amount"] == [10, 25]
    streamed = auditor.get("/api/audit/events", query_string={**query, "format": "csv"})
    assert streamed.headers["X-Total-Count"] == "1"
    assert [r["seq"] for r in csv.DictReader(io.StringIO(streamed.get_data(as_text=True)))] == \
        [str(page["events"][0]["seq"])]
    assert auditor.get("/api/audit/events", query_string={"actor": "nadie"}).get_json()["total"] == 0


def test_a_checkpoint_signed_through_the_api_verifies_with_the_published_key(office, auditor):
    assert auditor.get("/api/audit/checkpoints/latest").status_code == 404
    p.new_case(office)
    signed = auditor.post("/api/audit/checkpoints")
    assert signed.status_code == 201
    row = signed.get_json()
    published = auditor.get("/api/audit/public-key").get_json()
    public = keys.load_public(published["public_key"])
    assert keys.key_id(keys.load_public(published["pem"])) == published["key_id"] == row["key_id"]
    checkpoint = verify_note(row["note"], public)
    assert checkpoint.tree_size == row["tree_size"] == auditor.get("/api/audit/status").get_json()["events"]
    assert checkpoint.root.hex() == row["root_hash"] and row["created_by"] == "auditor1"

    again = auditor.post("/api/audit/checkpoints")  # nothing happened since: the same checkpoint
    assert again.status_code == 200 and again.get_json()["id"] == row["id"]
    p.new_case(office)
    newer = auditor.post("/api/audit/checkpoints")
    assert newer.status_code == 201 and newer.get_json()["tree_size"] > row["tree_size"]

    note = auditor.get("/api/audit/checkpoints/latest?format=text")
    assert note.mimetype == "text/plain" and note.get_data(as_text=True) == newer.get_json()["note"]
    assert auditor.get("/api/audit/checkpoints/latest", headers={"Accept": "text/plain"}).data == note.data
    assert auditor.get("/api/audit/checkpoints/latest").get_json() == newer.get_json()
    assert [c["id"] for c in auditor.get("/api/audit/checkpoints").get_json()] == [row["id"], newer.get_json()["id"]]
    assert auditor.get("/api/audit/status").get_json()["last_checkpoint"] == newer.get_json()
    size = newer.get_json()["tree_size"]
    forged = note.get_data(as_text=True).replace(f"\n{size}\n", f"\n{size + 1}\n")
    assert forged != note.get_data(as_text=True)
    with pytest.raises(NoteError):
        verify_note(forged, public)


def test_a_case_record_and_its_export_verify_and_unknown_cases_are_not_found(office, auditor, tmp_path):
    worked, _errored, _other = _history(office)
    record = auditor.get(f"/api/audit/cases/{worked}/record").get_json()
    assert record["chain"] == {"ok": True, "events": len(record["steps"]), "broken_at": None, "problem": None}
    assert [s["kind"] for s in record["steps"]][:2] == ["case_started", "task_completed"]
    assert record["steps"][1]["changes"]["amount"] == [10, 25] and record["steps"][1]["actor"] == p.OWNER

    export = auditor.get(f"/api/audit/cases/{worked}/export")
    assert export.status_code == 200 and export.mimetype == "application/zip"
    assert export.headers["Content-Disposition"] == \
        f'attachment; filename="auditoria-{record["case"]["number"]}.zip"'
    public = auditor.get("/api/audit/public-key").get_json()["public_key"]
    report = verify_export(io.BytesIO(export.data), public)
    assert report.ok, report.problem
    assert report.case_number == record["case"]["number"] and report.events == len(record["steps"])

    for path in ("/api/audit/cases/999999/record", "/api/audit/cases/999999/export"):
        missing = auditor.get(path)
        assert missing.status_code == 404 and missing.get_json()["code"] == "case_not_found"


@pytest.mark.parametrize("path, field", [
    ("/api/audit/events?kind=borrado", "kind"),
    ("/api/audit/events?date_from=2026-02-30", "date_from"),
    ("/api/audit/events?date_from=2026-03-05&date_to=2026-03-01", "date_to"),
    ("/api/audit/events?limit=0", "limit"),
    ("/api/audit/events?limit=501&format=csv", "limit"),
    ("/api/audit/events?before=-3", "before"),
    ("/api/audit/events?format=xml", "format"),
    ("/api/audit/access-log?date_to=ayer", "date_to"),
    ("/api/audit/access-log?action=" + "x" * 41, "action"),
    ("/api/audit/checkpoints/latest?format=pdf", "format"),
])
def test_bad_filters_are_refused_naming_the_field_and_log_nothing(office, auditor, path, field):
    response = auditor.get(path)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}
    with office.uow(write=False) as uow:
        assert uow.conn.execute(select(func.count()).select_from(models.access_log)).scalar_one() == 0


def test_the_access_log_names_every_search_record_and_export_and_pages_by_seq(office, callers):
    auditor, admin = callers["auditor"], callers["admin"]
    case_id = p.new_case(office)
    auditor.get("/api/audit/events?actor=oficial1")
    auditor.get("/api/audit/events?format=csv")
    auditor.get(f"/api/audit/cases/{case_id}/record")
    auditor.get(f"/api/audit/cases/{case_id}/export")
    admin.get("/api/audit/events")
    log = admin.get("/api/audit/access-log?actor=auditor1").get_json()
    assert [e["action"] for e in log["items"]] == ["audit.export", "audit.case", "audit.search_export",
                                                   "audit.search"]
    assert log["items"][3]["detail"]["filters"] == {"actor": "oficial1"}
    assert log["items"][2]["detail"]["format"] == "csv"
    assert log["items"][1]["detail"]["case_id"] == case_id == log["items"][0]["detail"]["case_id"]
    assert log["next_before"] is None

    everyone = admin.get("/api/audit/access-log?limit=3").get_json()
    assert [e["action"] for e in everyone["items"]][:2] == ["audit.access_log", "audit.search"]
    rest = admin.get(f"/api/audit/access-log?limit=100&before={everyone['next_before']}").get_json()
    seqs = [e["seq"] for e in everyone["items"] + rest["items"]]
    assert seqs == sorted(set(seqs), reverse=True) and seqs[-1] == 1
    assert admin.get("/api/audit/access-log?action=audit.export").get_json()["items"][0]["actor"] == "auditor1"
    today = office.clock().date().isoformat()
    assert admin.get(f"/api/audit/access-log?date_from={today}&date_to={today}").get_json()["items"]
    assert admin.get("/api/audit/access-log?date_to=2020-01-01").get_json()["items"] == []


def test_a_download_left_half_way_stops_its_export_and_is_logged_with_what_was_sent(office, auditor, monkeypatch):
    monkeypatch.setattr(audit_streams, "ZIP_QUEUE_CHUNKS", 1)  # the writer waits on the client after one chunk
    case_id = p.new_case(office)
    response = auditor.flask.get(f"/api/audit/cases/{case_id}/export", headers=auditor.headers, buffered=False)
    assert response.status_code == 200
    first = next(iter(response.response))
    response.close()
    wait_until(lambda: not any(t.name == f"audit-export-{case_id}" for t in threading.enumerate()),
               "the export's thread to stop once its client left")
    log = auditor.get("/api/audit/access-log?actor=auditor1").get_json()["items"]
    assert [e["action"] for e in log] == ["audit.export_incomplete"]
    assert log[0]["detail"] == {"case_id": case_id, "bytes_sent": len(first)}
