"""Element visits (engine/storage/visits.py), the heat map (engine/usecases/heatmap.py) and the monthly summary
(engine/usecases/monthly_report.py) on SQLite and PostgreSQL, checked against cases walked at known moments: the
time spent per element, an exclusive gateway's two branches, the period and the versions counted; and the monthly
summary mailed once to the Governor's office by two schedulers racing."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select, update

from engine.errors import Forbidden, InvalidInput, ProcessNotFound
from engine.mail.notifications import send_pending
from engine.storage import models
from engine.timekeeping.calendar import OFFICE_TZ
from engine.usecases import cases, heatmap, monthly_report, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions
from tests.conftest import make_services, principal_for
from tests.smtp_inbox import loopback_mailer, smtp_inbox
from tests.task_rows import task_rows
from tests.waiting import free_port

ADMIN = principal_for("admin", "admin")
SUPERVISOR = principal_for("sup", "supervisor", ("ventanilla",))
CLERK = principal_for("ventanilla1", "clerk", ("ventanilla",))
HOUR = 3600


def route(name: str = "Ruta de prueba") -> bytes:
    """start → registrar (user) → gw: aprobar (user) → fin_si, or (default) rechazar (script) → fin_no."""
    return definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="registrar"/>
    <bpmn:userTask id="registrar" name="Registrar"/>
    <bpmn:sequenceFlow id="f_gw" sourceRef="registrar" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" name="¿Se aprueba?" default="f_no"/>
    <bpmn:sequenceFlow id="f_si" name="Sí" sourceRef="gw" targetRef="aprobar">
      <bpmn:conditionExpression>aprobar == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" name="No" sourceRef="gw" targetRef="rechazar"/>
    <bpmn:userTask id="aprobar" name="Aprobar"/>
    <bpmn:sequenceFlow id="f_fin_si" sourceRef="aprobar" targetRef="fin_si"/>
    <bpmn:endEvent id="fin_si"/>
    <bpmn:scriptTask id="rechazar"><bpmn:script>motivo = "no"</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_fin_no" sourceRef="rechazar" targetRef="fin_no"/>
    <bpmn:endEvent id="fin_no"/>""", "ruta", name)


def gt(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=OFFICE_TZ).astimezone(timezone.utc)


def complete(svc, case_id: int, element_id: str, data: dict | None = None) -> None:
    [row] = [r for r in task_rows(svc, case_id) if r["element_id"] == element_id]
    tasks.complete_task(svc, ADMIN, row["id"], data or {})


@pytest.fixture
def walked(svc, clock):
    """Cases of `ruta` v1 at known moments (office time, March 2026):
    A filed 2 Mar 09:00, registrar +2 h (aprobar), aprobar +5 h more: completed 2 Mar 16:00;
    B filed 2 Mar 09:00, registrar +4 h (rechazar): completed 2 Mar 13:00;
    C filed 2 Mar 09:00, registrar +6 h (aprobar): aprobar open, due 20 Mar;
    D filed 10 Feb 09:00, registrar 11 Feb (rechazar): outside a March period."""
    deploy_files(svc, {"ruta.bpmn": route()})
    clock.now = gt(2, 10)
    d = cases.start_case(svc, ADMIN, "ruta", {}).id
    clock.now = gt(2, 11)
    complete(svc, d, "registrar", {"aprobar": False})
    clock.now = gt(3, 2)
    a, b, c = (cases.start_case(svc, ADMIN, "ruta", {}).id for _ in range(3))
    clock.now = gt(3, 2, 11)
    complete(svc, a, "registrar", {"aprobar": True})
    clock.now = gt(3, 2, 13)
    complete(svc, b, "registrar", {"aprobar": False})
    clock.now = gt(3, 2, 15)
    complete(svc, c, "registrar", {"aprobar": True})
    clock.now = gt(3, 2, 16)
    complete(svc, a, "aprobar")
    with svc.uow() as uow:
        uow.conn.execute(update(models.tasks).where(models.tasks.c.case_id == c,
                                                    models.tasks.c.element_id == "aprobar")
                         .values(due_at=gt(3, 20, 16)))
        uow.commit()
    clock.now = gt(4, 10)
    return {"a": a, "b": b, "c": c, "d": d}


def by_element(result: dict) -> dict:
    return {e["element_id"]: e for e in result["elements"]}


def test_each_step_records_the_elements_it_passed_with_the_previous_one_and_the_time_spent(svc, walked):
    v = models.element_visits
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(select(v.c.element_id, v.c.previous_element_id, v.c.started_at, v.c.ended_at)
                                .where(v.c.case_id == walked["a"]).order_by(v.c.id)).all()
    assert [(r.element_id, r.previous_element_id) for r in rows] == [
        ("start", None), ("registrar", "start"), ("gw", "registrar"), ("aprobar", "gw"), ("fin_si", "aprobar")]
    assert [(r.started_at, r.ended_at) for r in rows] == [
        (gt(3, 2), gt(3, 2)), (gt(3, 2), gt(3, 2, 11)), (gt(3, 2, 11), gt(3, 2, 11)),
        (gt(3, 2, 11), gt(3, 2, 16)), (gt(3, 2, 16), gt(3, 2, 16))]



def test_a_loop_starts_the_element_at_the_end_of_the_pass_it_waited_since(svc, clock):
    """start → gw_in → revisar (user) → gw: back to gw_in while otra_vez, else fin. The second step passes gw_in
    again while its «Revisar» waited since the first gw_in: that one's end is its start, not the new pass's."""
    deploy_files(svc, {"bucle.bpmn": definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="gw_in"/>
    <bpmn:exclusiveGateway id="gw_in"/>
    <bpmn:sequenceFlow id="f_in" sourceRef="gw_in" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar"/>
    <bpmn:sequenceFlow id="f_gw" sourceRef="revisar" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f_fin"/>
    <bpmn:sequenceFlow id="f_otra" sourceRef="gw" targetRef="gw_in">
      <bpmn:conditionExpression>otra_vez == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_fin" sourceRef="gw" targetRef="fin"/>
    <bpmn:endEvent id="fin"/>""", "bucle", "Bucle")})
    clock.now = gt(3, 2)
    case_id = cases.start_case(svc, ADMIN, "bucle", {}).id
    clock.now = gt(3, 2, 11)
    complete(svc, case_id, "revisar", {"otra_vez": True})
    clock.now = gt(3, 2, 15)
    complete(svc, case_id, "revisar", {"otra_vez": False})
    v = models.element_visits
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(select(v.c.element_id, v.c.previous_element_id, v.c.started_at, v.c.ended_at)
                                .where(v.c.case_id == case_id).order_by(v.c.id)).all()
    t0, t1, t2 = gt(3, 2), gt(3, 2, 11), gt(3, 2, 15)
    assert [tuple(r) for r in rows] == [
        ("start", None, t0, t0), ("gw_in", "start", t0, t0),
        ("revisar", "gw_in", t0, t1), ("gw", "revisar", t1, t1), ("gw_in", "gw", t1, t1),
        ("revisar", "gw_in", t1, t2), ("gw", "revisar", t2, t2), ("fin", "gw", t2, t2)]

def test_heat_map_counts_cases_time_spent_and_both_branches_of_the_gateway(svc, walked):
    result = heatmap.heatmap(svc, SUPERVISOR, "ruta", date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    found = by_element(result)
    assert {k: (e["cases"], e["visits"]) for k, e in found.items()} == {
        "start": (3, 3), "registrar": (3, 3), "gw": (3, 3), "aprobar": (1, 1), "fin_si": (1, 1), "rechazar": (1, 1),
        "fin_no": (1, 1)}
    registrar = found["registrar"]  # 2 h, 4 h, 6 h
    assert (registrar["median_seconds"], registrar["p90_seconds"], registrar["total_seconds"]) == \
        (4 * HOUR, 6 * HOUR, 12 * HOUR)
    assert (found["aprobar"]["median_seconds"], found["aprobar"]["total_seconds"]) == (5 * HOUR, 5 * HOUR)
    assert (found["gw"]["median_seconds"], found["gw"]["p90_seconds"], found["gw"]["total_seconds"]) == (0, 0, 0)
    assert found["registrar"]["name"] == "Registrar" and found["gw"]["kind"] == "exclusiveGateway"
    # C waits at «Aprobar» since 2 March 15:00 (the clock: 10 April 09:00), whatever the period.
    assert (found["aprobar"]["waiting_now"], found["aprobar"]["waiting_longest_seconds"]) == \
        (1, (gt(4, 10) - gt(3, 2, 15)).total_seconds())
    assert found["registrar"]["waiting_now"] == 0 and found["registrar"]["waiting_longest_seconds"] is None
    # A flow counts once the element it leads to is done: C took «Sí» too, but its «Aprobar» is still open.
    flows = {f["flow_id"]: f["count"] for f in result["flows"]}
    assert flows == {"f_start": 3, "f_gw": 3, "f_si": 1, "f_no": 1, "f_fin_si": 1, "f_fin_no": 1}
    # "tiempo" colours by the median: registrar (4 h) is the hottest, the gateway (0) the palest; unvisited: none.
    assert found["registrar"]["fill"] == heatmap.SCALE[-1] and found["gw"]["fill"] == heatmap.SCALE[0]
    by_cases = by_element(heatmap.heatmap(svc, SUPERVISOR, "ruta", date_from=date(2026, 3, 1),
                                          date_to=date(2026, 3, 31), mode="casos"))
    assert by_cases["start"]["fill"] == heatmap.SCALE[-1] and by_cases["aprobar"]["heat"] == 1
    widths = {f["flow_id"]: f["width"] for f in result["flows"]}
    assert widths["f_start"] == heatmap.MAX_FLOW_WIDTH > widths["f_si"] == widths["f_no"] > 1


def test_the_period_and_the_versions_decide_what_counts(svc, clock, walked):
    february = heatmap.heatmap(svc, ADMIN, "ruta", date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    assert {k: e["cases"] for k, e in by_element(february).items()} == {
        "start": 1, "registrar": 1, "gw": 1, "rechazar": 1, "fin_no": 1, "aprobar": 0}  # C waits there now
    deploy_files(svc, {"ruta.bpmn": route("Ruta de prueba, versión 2")})
    clock.now = gt(3, 5)
    cases.start_case(svc, ADMIN, "ruta", {})
    clock.now = gt(4, 10)
    march = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
    latest = heatmap.heatmap(svc, ADMIN, "ruta", **march)
    assert latest["version"] == 2 and by_element(latest)["start"]["cases"] == 1
    assert by_element(heatmap.heatmap(svc, ADMIN, "ruta", version=1, **march))["start"]["cases"] == 3
    every = heatmap.heatmap(svc, ADMIN, "ruta", all_versions=True, **march)
    assert every["version"] == 2 and by_element(every)["start"]["cases"] == 4


def test_heat_map_refuses_what_it_cannot_answer(svc, walked):
    with pytest.raises(Forbidden):
        heatmap.heatmap(svc, CLERK, "ruta")
    with pytest.raises(ProcessNotFound):
        heatmap.heatmap(svc, ADMIN, "no_existe")
    with pytest.raises(ProcessNotFound):
        heatmap.heatmap(svc, ADMIN, "ruta", version=9)
    with pytest.raises(InvalidInput) as refused:
        heatmap.heatmap(svc, ADMIN, "ruta", date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))
    assert refused.value.errors[0]["field"] == "from"
    with pytest.raises(InvalidInput):
        heatmap.heatmap(svc, ADMIN, "ruta", mode="colores")


def test_monthly_summary_counts_filed_resolved_open_and_overdue_per_procedure(svc, walked):
    march = monthly_report.monthly_summary(svc, SUPERVISOR, date(2026, 3, 1))
    [row] = [r for r in march["rows"] if r["process_key"] == "ruta"]
    assert {k: row[k] for k in monthly_report.COUNTS} == {"filed": 3, "resolved": 2, "cancelled": 0,
                                                         "open_at_end": 1, "overdue_at_end": 1}
    february = monthly_report.summary(svc, date(2026, 2, 1))
    assert {k: february["totals"][k] for k in monthly_report.COUNTS} == {
        "filed": 1, "resolved": 1, "cancelled": 0, "open_at_end": 0, "overdue_at_end": 0}
    table = monthly_report.monthly_table(march)
    assert table.rows[-1]["filed"] == 3 and "marzo de 2026" in table.title
    with pytest.raises(InvalidInput):
        monthly_report.parse_month("2026-13")


def test_the_monthly_summary_is_mailed_once_from_the_first_working_day_even_with_two_schedulers(
        database_url, clock, walked, svc):
    port = free_port()
    to = "despacho@gobernacion.test"
    racers = [make_services(database_url, clock, mailer=loopback_mailer(port), reports_email=to) for _ in range(2)]
    try:
        clock.now = datetime(2026, 3, 31, 23, tzinfo=OFFICE_TZ).astimezone(timezone.utc)
        assert monthly_report.due_month(racers[0]) == date(2026, 2, 1)  # still March: February's is the one due
        clock.now = gt(4, 1, 8)  # Wednesday 1 April 2026: the first working day of April
        barrier, outcomes = threading.Barrier(2), []

        def race(services):
            barrier.wait()
            outcomes.append(monthly_report.mail_monthly_summary(services))

        threads = [threading.Thread(target=race, args=(s,)) for s in racers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(outcomes) == [False, True]
        assert monthly_report.mail_monthly_summary(racers[1]) is False  # a later pass: already sent
        with smtp_inbox(port) as inbox:
            sent = send_pending(racers[0]).sent + send_pending(racers[1]).sent
        assert sent == 1 and len(inbox.messages) == 1
        [mail] = inbox.messages
        assert mail["To"] == to and "marzo de 2026" in mail["Subject"]
        body = mail.get_content()
        assert "Ruta de prueba" in body and "/informes/mensual?mes=2026-03" in body
        with svc.uow(write=False) as uow:
            rows = uow.conn.execute(select(models.report_mailings.c.period)).scalars().all()
        assert rows == ["2026-03"]
    finally:
        for s in racers:
            s.db.dispose()


def test_no_summary_is_mailed_before_the_first_working_day_or_without_an_address(svc, clock, walked):
    clock.now = gt(4, 1, 8)
    assert monthly_report.mail_monthly_summary(svc) is False  # no EXPEDIENTE_REPORTS_EMAIL
    # 1 November 2026 is a Sunday and a holiday: the first working day of November is Monday 2.
    svc.settings = replace(svc.settings, reports_email="despacho@gobernacion.test")
    clock.now = datetime(2026, 11, 1, 12, tzinfo=OFFICE_TZ).astimezone(timezone.utc)
    assert monthly_report.due_month(svc) is None
    clock.now = datetime(2026, 11, 2, 8, tzinfo=OFFICE_TZ).astimezone(timezone.utc)
    assert monthly_report.due_month(svc) == date(2026, 10, 1)


def test_migration_0025_backfills_the_completed_human_tasks_of_cases_stored_before(sqlite_url, clock):
    """Cases stored before element_visits: their completed human tasks come back from `tasks` (element, created,
    completed); the elements before them and the gateways, events and scripts they passed are not known."""
    from alembic import command

    from engine.storage.migrate import alembic_config, upgrade

    services = make_services(sqlite_url, clock)
    try:
        deploy_files(services, {"ruta.bpmn": route()})
        clock.now = gt(3, 2)
        case_id = cases.start_case(services, ADMIN, "ruta", {}).id
        clock.now = gt(3, 2, 12)
        complete(services, case_id, "registrar", {"aprobar": True})
        cfg = alembic_config()
        with services.db.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0024_report_indexes")
        upgrade(services.db)
        v = models.element_visits
        with services.uow(write=False) as uow:
            rows = uow.conn.execute(select(v.c.case_id, v.c.element_id, v.c.previous_element_id, v.c.started_at,
                                           v.c.ended_at)).all()
        assert [tuple(r) for r in rows] == [(case_id, "registrar", None, gt(3, 2), gt(3, 2, 12))]
    finally:
        services.db.dispose()
