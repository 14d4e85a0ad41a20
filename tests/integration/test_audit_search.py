"""The auditor's search across cases and a case's full record, on SQLite and PostgreSQL: filters, paging,
validation, the access log, refusals, deadlines breached, what each step changed, the case's chain check."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select, text

from engine.errors import Forbidden, InvalidInput
from engine.storage import models
from engine.usecases import audit, cases, tasks
from engine.usecases.audit_record import check_case_chain
from engine.usecases.deploy import deploy_files
from tests.bpmn import linear
from tests.conftest import SYSTEM, make_services, principal_for
from tests.task_rows import task_rows

AUDITOR = principal_for("auditora", "auditor")
ANA, BETO = principal_for("ana"), principal_for("beto")
MONDAY_2_MARCH_9H = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # 09:00 in Guatemala


def _task(name: str, days: int) -> str:
    return ('<bpmn:userTask id="{id}" name="' + name + '"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="deadlineWorkingDays" value="{days}"/>'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


@pytest.fixture
def office(database_url, clock, tmp_path):
    clock.now = MONDAY_2_MARCH_9H
    svc = make_services(database_url, clock, audit_key=str(tmp_path / "audit.pem"))
    deploy_files(svc, {"p.bpmn": linear(_task("Revisar solicitud", 2), _task("Resolver", 5),
                                        process_id="licencia")})
    deploy_files(svc, {"q.bpmn": linear(_task("Atender", 3), process_id="queja")})
    yield svc
    svc.db.dispose()


def _file(svc, process_key: str, municipality: str, **data) -> int:
    return cases.start_case(svc, SYSTEM, process_key, data, summary={"municipality": municipality}).id


def _complete(svc, who, case_id: int, data: dict) -> None:
    [task] = task_rows(svc, case_id)
    tasks.complete_task(svc, who, task["id"], data)


def _number(svc, case_id: int) -> str:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(models.cases.c.number).where(models.cases.c.id == case_id)).scalar_one()


@pytest.fixture
def history(office, clock):
    """Three cases over three days: two licences (Tecpán, Patzún) and a complaint (Tecpán)."""
    first = _file(office, "licencia", "Tecpán", monto=100)
    _complete(office, ANA, first, {"monto": 150, "revisado": True})
    clock.advance(days=1)
    second = _file(office, "licencia", "Patzún", monto=7)
    _complete(office, BETO, second, {"revisado": False})
    clock.advance(days=1)
    third = _file(office, "queja", "Tecpán")
    return {"first": first, "second": second, "third": third}


def _kinds_and_cases(result) -> list[tuple[str, int]]:
    return [(e["kind"], e["case_id"]) for e in result["events"]]


def test_each_filter_narrows_the_search(office, history):
    everything = audit.search_events(office, AUDITOR, {})
    assert everything["total"] == len(everything["events"]) == 5
    assert [e["seq"] for e in everything["events"]] == sorted((e["seq"] for e in everything["events"]), reverse=True)
    by_actor = audit.search_events(office, AUDITOR, {"actor": "ana"})
    assert _kinds_and_cases(by_actor) == [("task_completed", history["first"])]
    assert by_actor["events"][0]["changes"] == {"monto": [100, 150], "revisado": [None, True]}
    assert by_actor["events"][0]["data"] == {"monto": 150, "revisado": True}
    by_process = audit.search_events(office, AUDITOR, {"process_key": "queja"})
    assert _kinds_and_cases(by_process) == [("case_started", history["third"])]
    by_kind = audit.search_events(office, AUDITOR, {"kind": "task_completed"})
    assert {e["case_id"] for e in by_kind["events"]} == {history["first"], history["second"]}
    by_place = audit.search_events(office, AUDITOR, {"municipality": "Tecpán", "kind": "case_started"})
    assert {e["case_id"] for e in by_place["events"]} == {history["first"], history["third"]}
    number = _number(office, history["second"])
    by_number = audit.search_events(office, AUDITOR, {"case_number": number})
    assert {e["case_number"] for e in by_number["events"]} == {number} and by_number["total"] == 2
    by_element = audit.search_events(office, AUDITOR, {"element_id": "e0"})
    assert {e["case_id"] for e in by_element["events"]} == {history["first"], history["second"]}
    # Office-local days: Tuesday 3 March is the second case's day only.
    tuesday = audit.search_events(office, AUDITOR, {"date_from": date(2026, 3, 3), "date_to": "2026-03-03"})
    assert {e["case_id"] for e in tuesday["events"]} == {history["second"]}
    assert audit.search_events(office, AUDITOR, {"date_from": "2026-03-05"})["total"] == 0


def test_pages_follow_the_sequence_without_overlap(office, history):
    seen, before = [], None
    while True:
        page = audit.search_events(office, AUDITOR, {}, limit=2, before_seq=before)
        assert page["total"] == 5 and len(page["events"]) <= 2
        seen += [e["seq"] for e in page["events"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("filters, kwargs, field", [
    ({"date_from": "2026-13-01"}, {}, "date_from"),
    ({"date_from": "2026-03-04", "date_to": "2026-03-01"}, {}, "date_to"),
    ({"kind": "case_deleted"}, {}, "kind"),
    ({"colour": "red"}, {}, "colour"),
    ({}, {"limit": 0}, "limit"),
    ({}, {"limit": 501}, "limit"),
    ({}, {"before_seq": -3}, "before_seq"),
])
def test_bad_search_input_names_the_field_and_logs_nothing(office, history, filters, kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        audit.search_events(office, AUDITOR, filters, **kwargs)
    assert caught.value.errors[0]["field"] == field
    assert _access_rows(office) == []


def _access_rows(svc) -> list[dict]:
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(select(models.access_log).order_by(models.access_log.c.seq))
                .mappings()]


def test_what_the_auditor_views_and_exports_is_logged(office, history):
    audit.search_events(office, AUDITOR, {"actor": "ana", "date_from": "2026-03-02"})
    audit.case_record(office, AUDITOR, history["first"])
    total, rows = audit.iter_search(office, AUDITOR, {"kind": "case_started"}, export_format="csv")
    assert total == 3 and [e["case_id"] for e in rows] == [history["first"], history["second"], history["third"]]
    logged = _access_rows(office)
    assert [(r["seq"], r["actor"], r["action"]) for r in logged] == [
        (1, "auditora", "audit.search"), (2, "auditora", "audit.case"), (3, "auditora", "audit.search_export")]
    assert logged[0]["target"] == "actor=ana date_from=2026-03-02"
    assert '"date_from":"2026-03-02"' in logged[0]["detail_json"]
    assert logged[1]["target"] == _number(office, history["first"])
    assert '"total":3' in logged[2]["detail_json"] and '"format":"csv"' in logged[2]["detail_json"]


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_only_auditors_and_admins_read_the_record(office, history, role):
    someone = principal_for("alguien", role)
    with pytest.raises(Forbidden):
        audit.search_events(office, someone, {})
    with pytest.raises(Forbidden):
        audit.case_record(office, someone, history["first"])
    with pytest.raises(Forbidden):
        audit.iter_search(office, someone, {})
    assert _access_rows(office) == []


def test_export_streams_in_batches_bounded_by_the_head(office, history, monkeypatch):
    monkeypatch.setattr(audit, "EXPORT_BATCH_ROWS", 2)
    total, rows = audit.iter_search(office, AUDITOR, {})
    _file(office, "queja", "Patzún")  # after the export was asked: not part of it
    assert total == 5 and [e["seq"] for e in rows] == [1, 2, 3, 4, 5]


def test_case_record_shows_steps_changes_deadlines_and_its_chain(office, history, clock):
    first = history["first"]
    [resolver] = task_rows(office, first)
    clock.advance(days=20)  # "Resolver" (5 working days) is now past its deadline, still open
    record = audit.case_record(office, AUDITOR, first)
    assert record["case"]["number"] == _number(office, first) and record["case"]["municipality"] == "Tecpán"
    assert record["case"]["process_name"] == "Proceso de prueba" and record["case"]["process_version"] == 1
    steps = record["steps"]
    assert [s["case_seq"] for s in steps] == [1, 2]
    assert [s["kind"] for s in steps] == ["case_started", "task_completed"]
    assert steps[1]["actor"] == "ana" and steps[1]["element_name"] == "Revisar solicitud"
    assert steps[1]["changes"] == {"monto": [100, 150], "revisado": [None, True]}
    assert steps[0]["data"] == {"monto": 100}
    by_title = {t["title"]: t for t in record["tasks"]}
    assert by_title["Revisar solicitud"]["breached"] is False  # completed at once
    assert by_title["Resolver"]["id"] == resolver["id"] and by_title["Resolver"]["breached"] is True
    assert by_title["Resolver"]["working_days_allowed"] == 5
    assert by_title["Resolver"]["working_days_used"] > 5
    assert record["versions"] == [{"process_key": "licencia", "version": 1, "name": "Proceso de prueba",
                                   "content_hash": record["versions"][0]["content_hash"],
                                   "created_at": record["versions"][0]["created_at"],
                                   "bpmn_url": "/api/processes/licencia/versions/1/bpmn"}]
    assert record["chain"] == {"ok": True, "events": 2, "broken_at": None, "problem": None}
    assert record["integrity"]["events"] == 5


def test_a_task_completed_after_its_deadline_is_marked_breached(office, history, clock):
    clock.advance(days=10)
    _complete(office, ANA, history["third"], {"respuesta": "atendida"})
    [atender] = audit.case_record(office, AUDITOR, history["third"])["tasks"]
    assert atender["state"] == "completed" and atender["breached"] is True


def test_the_case_chain_check_names_the_first_event_that_disagrees(office, history):
    with office.uow(write=False) as uow:
        rows = [dict(r) for r in uow.conn.execute(
            select(models.events).where(models.events.c.case_id == history["first"])
            .order_by(models.events.c.case_seq)).mappings()]
    assert check_case_chain(rows)["ok"] is True
    edited = [rows[0], {**rows[1], "data_json": '{"monto":1}'}]
    assert check_case_chain(edited)["broken_at"] == 2
    assert check_case_chain(rows[1:])["broken_at"] == 1


def test_a_history_row_edited_in_the_database_shows_in_the_record(office, history, database_url):
    drop = ("DROP TRIGGER events_no_update" if database_url.startswith("sqlite")
            else "DROP TRIGGER events_append_only ON events")
    with office.db.begin() as conn:
        conn.execute(text(drop))
        conn.execute(text("UPDATE events SET actor = 'nadie' WHERE case_id = :c AND case_seq = 2"),
                     {"c": history["first"]})
    chain = audit.case_record(office, AUDITOR, history["first"])["chain"]
    assert chain["ok"] is False and chain["broken_at"] == 2
