"""Task deadlines in working days: due dates on the row, alerts once each, escalation, office closure days."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from engine.usecases import cases
from engine.usecases import closures
from engine.usecases import tasks
from engine.cli.main import main
from engine.timekeeping.deadlines import AlertPolicy
from engine.usecases.deadline_alerts import send_due_alerts
from engine.usecases.deploy import deploy_files
from engine.errors import Conflict, InvalidInput
from engine.mail.notifications import outbox_rows
from engine.accounts.users import add_user, map_lane
from tests.bpmn import definitions
from tests.conftest import SYSTEM, principal_for
from tests.task_rows import task_rows

MONDAY_30_MARCH_10H = datetime(2026, 3, 30, 16, 0, tzinfo=timezone.utc)  # 10:00 in Guatemala
ADMIN = principal_for("admin")  # closure days record who declared them


def petition(days: str) -> bytes:
    """One user task in the 'Trámite' lane that declares its deadline."""
    return definitions(f"""
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_tramite" name="Trámite">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>resolve</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="resolve"/>
    <bpmn:userTask id="resolve" name="Resolver petición">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="deadlineWorkingDays" value="{days}"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="resolve" targetRef="end"/>
    <bpmn:endEvent id="end"/>
    """, "peticion")


def start(svc, days="10"):
    deploy_files(svc, {"p.bpmn": petition(days)})
    started = cases.start_case(svc, SYSTEM, "peticion")
    [task] = task_rows(svc, started.id)
    return started, task


@pytest.fixture
def office(svc, clock):
    """Clock at Monday 30 March 2026 (Holy Week ahead), a clerk and a supervisor with e-mail addresses."""
    clock.now = MONDAY_30_MARCH_10H
    map_lane(svc, "Trámite", "tramite")
    add_user(svc, "oficial1", "clerk", "x" * 12, email="oficial1@gob.test", groups=["tramite"])
    add_user(svc, "supervisor1", "supervisor", "x" * 12, email="supervisora@gob.test", groups=["tramite"])
    return svc


def test_deadline_skips_holy_week_and_lands_at_closing_time(svc, clock):
    clock.now = MONDAY_30_MARCH_10H
    _started, task = start(svc, "10")
    # After Mon 30 Mar: 31, 1, (Holy Thu 2, Good Fri 3, weekend), 6..10, 13, 14, 15 → Wed 15 Apr, 16:30 office time.
    assert task["due_at"] == datetime(2026, 4, 15, 22, 30, tzinfo=timezone.utc)


def test_task_appearing_after_the_cutoff_counts_from_the_next_working_day(svc, clock):
    clock.now = datetime(2026, 3, 27, 23, 0, tzinfo=timezone.utc)  # Friday 17:00: counts from Monday 30
    _started, task = start(svc, "1")
    assert task["due_at"] == datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)


def test_deadline_may_name_a_plazo_setting(svc, clock):
    clock.now = MONDAY_30_MARCH_10H
    _started, task = start(svc, "laip_dias")  # 10 working days
    assert task["due_at"] == datetime(2026, 4, 15, 22, 30, tzinfo=timezone.utc)


def test_task_without_a_usable_deadline_has_none(svc):
    _started, task = start(svc, "pronto")
    assert task["due_at"] is None


def test_closure_day_shifts_deadlines_computed_after_it_is_added_only(svc, clock):
    clock.now = MONDAY_30_MARCH_10H
    _first, before = start(svc, "10")
    closures.add_closure(svc, ADMIN, date(2026, 4, 7), "Emergencia declarada por lluvias")
    _second = cases.start_case(svc, SYSTEM, "peticion")
    [after] = task_rows(svc, _second.id)
    assert before["due_at"] == datetime(2026, 4, 15, 22, 30, tzinfo=timezone.utc)  # unchanged
    assert after["due_at"] == datetime(2026, 4, 16, 22, 30, tzinfo=timezone.utc)
    closures.remove_closure(svc, ADMIN, date(2026, 4, 7))
    third = cases.start_case(svc, SYSTEM, "peticion")
    assert task_rows(svc, third.id)[0]["due_at"] == datetime(2026, 4, 15, 22, 30, tzinfo=timezone.utc)


def test_alerts_go_out_once_each_on_the_mornings_of_day_20_and_25_of_30(office, clock):
    started, task = start(office, "30")
    # 30 working days from Mon 30 Mar skip Holy Week and 1 May: due Thu 14 May; day 20 is Wed 29 Apr, day 25 Thu 7 May.
    assert task["due_at"] == datetime(2026, 5, 14, 22, 30, tzinfo=timezone.utc)
    clock.now = datetime(2026, 4, 29, 13, 59, tzinfo=timezone.utc)  # 07:59 on day 20
    assert send_due_alerts(office) == 0
    clock.now = datetime(2026, 4, 29, 14, 0, tzinfo=timezone.utc)
    assert send_due_alerts(office) == 1
    assert send_due_alerts(office) == 0
    clock.now = datetime(2026, 5, 7, 14, 0, tzinfo=timezone.utc)
    assert send_due_alerts(office) == 1
    mails = outbox_rows(office, started.id)
    assert [(m["kind"], m["to_address"]) for m in mails] == [("alerta_plazo", "oficial1@gob.test"),
                                                              ("alerta_plazo", "supervisora@gob.test")] * 2
    assert "día hábil 20 de 30" in mails[0]["body"] and "jueves 14 de mayo de 2026, 16:30 h" in mails[0]["body"]


def test_alert_goes_to_the_assignee_once_the_task_is_claimed(office, clock):
    started, task = start(office, "30")
    tasks.claim_task(office, principal_for("oficial1"), task["id"])
    clock.now = datetime(2026, 4, 29, 14, 0, tzinfo=timezone.utc)
    send_due_alerts(office)
    assert [m["to_address"] for m in outbox_rows(office, started.id)] == ["oficial1@gob.test"]


def test_overdue_task_is_escalated_to_the_supervisor_once_with_an_event(office, clock):
    office.alert_policy = AlertPolicy(points=(), escalation_email="despacho@gob.test")
    started, task = start(office, "10")
    clock.now = datetime(2026, 4, 15, 22, 31, tzinfo=timezone.utc)
    assert send_due_alerts(office) == 1
    assert send_due_alerts(office) == 0
    mails = outbox_rows(office, started.id)
    assert [(m["kind"], m["to_address"]) for m in mails] == [("plazo_vencido", "supervisora@gob.test"),
                                                              ("plazo_vencido", "despacho@gob.test")]
    [escalated] = [e for e in cases.case_history(office, SYSTEM, started.id) if e["kind"] == "escalated"]
    assert (escalated["task_id"], escalated["element_id"]) == (task["id"], "resolve")
    assert escalated["data"]["notified"] == ["supervisora@gob.test", "despacho@gob.test"]


def test_completed_task_gets_no_alert_nor_escalation(office, clock):
    started, task = start(office, "10")
    tasks.complete_task(office, principal_for("oficial1"), task["id"], {})
    clock.now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert send_due_alerts(office) == 0
    assert outbox_rows(office, started.id) == []
    assert "escalated" not in [e["kind"] for e in cases.case_history(office, SYSTEM, started.id)]


def test_alert_points_may_be_fractions_or_working_days():
    assert AlertPolicy().alert_days(30) == [20, 25]
    assert AlertPolicy.from_env({"EXPEDIENTE_DEADLINE_ALERTS": "20, 25, 40"}).alert_days(30) == [20, 25]
    assert AlertPolicy().alert_days(1) == []
    for bad in ("3/2", "0", "pronto"):
        with pytest.raises(ValueError):
            AlertPolicy(points=(bad,))


def test_closure_days_are_unique_and_need_a_reason(svc):
    closures.add_closure(svc, ADMIN, date(2026, 4, 7), "Emergencia")
    with pytest.raises(Conflict):
        closures.add_closure(svc, ADMIN, "2026-04-07", "Otra vez")
    with pytest.raises(InvalidInput):
        closures.add_closure(svc, ADMIN, date(2026, 4, 8), "  ")
    with pytest.raises(closures.ClosureNotFound):
        closures.remove_closure(svc, ADMIN, date(2026, 4, 8))
    assert [(c["day"], c["created_by"]) for c in closures.list_closures(svc, ADMIN, 2026)] == [(date(2026, 4, 7), "admin")]
    assert closures.list_closures(svc, ADMIN, 2027) == []


def test_closure_command_adds_and_lists_days(sqlite_url, monkeypatch):
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    added = runner.invoke(main, ["closure", "add", "2026-04-07", "Emergencia por lluvias"], catch_exceptions=False)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["closure", "list"], catch_exceptions=False)
    assert "2026-04-07  Emergencia por lluvias" in listed.output
