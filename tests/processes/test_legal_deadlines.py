"""Every legal deadline the procedures run is a dated row (engine.usecases.legal_deadlines), checked here against
hand-counted dates: its basis, owner, start and due moment, the due moment the office's open tasks show in the
inbox ("Vence"), how it ends, its alert mail, and a closure day added mid-way (and removed) moving it together with
the data and the timers the diagram counts on.

December 2026: Thu 24 and Thu 31 are half days (working days that close at noon), Fri 25 is Christmas.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engine.storage import models
from engine.usecases import closures, legal_deadlines
from tests.conftest import principal_for
from tests.processes.driver import closing, local
from tests.processes.test_solicitud_ciudadana import (competencia, due, gestionar, informe, notify, providencia,
                                                      resolver_laip, start)

ADMIN = principal_for("admin")
ONE_MINUTE = timedelta(minutes=1)


def rows(walk) -> dict[str, dict]:
    """The case's deadline rows by key (the latest of each)."""
    with walk.svc.uow(write=False) as uow:
        found = uow.conn.execute(select(models.legal_deadlines).where(models.legal_deadlines.c.case_id == walk.id)
                                 .order_by(models.legal_deadlines.c.id)).mappings().all()
    return {r["key"]: dict(r) for r in found}


def task_due(walk, element_id: str):
    return walk.task(element_id)["due_at"]


def alert_points(walk, key: str) -> dict[str, object]:
    with walk.svc.uow(write=False) as uow:
        a, d = models.legal_deadline_alerts, models.legal_deadlines
        found = uow.conn.execute(select(a.c.point, a.c.due_at, a.c.state).join(d, d.c.id == a.c.deadline_id)
                                 .where(d.c.case_id == walk.id, d.c.key == key)).all()
    return {p: (at, state) for p, at, state in found}


def test_laip_answer_is_a_dated_row_on_the_inbox_moved_by_a_closure_added_midway_and_extended(svc):
    # Filed Wed 2 Dec 2026 10:00: 10 working days from Thu 3 Dec → Wed 16 Dec (the example).
    walk = start(svc, local(2026, 12, 2, 10))
    row = rows(walk)["laip_respuesta"]
    assert (row["state"], row["owner"], row["days"]) == ("open", "oficina", 10)
    assert "art. 42" in row["basis"] and row["owner_group"]
    assert row["due_at"] == closing(2026, 12, 16)
    assert task_due(walk, "laip_gestionar") == closing(2026, 12, 16)   # the inbox's "Vence"
    # Sat 5 Dec: the administrator closes the office on Thu 10 Dec → the deadline runs to Thu 17 Dec, everywhere.
    svc.clock.now = local(2026, 12, 5, 9)
    moved = closures.add_closure(svc, ADMIN, date(2026, 12, 10), "Emergencia declarada por lluvias")["moved"]
    assert moved["deadlines"] == 1 and moved["timers"] == 1
    assert rows(walk)["laip_respuesta"]["due_at"] == closing(2026, 12, 17)
    assert task_due(walk, "laip_gestionar") == closing(2026, 12, 17)
    assert due(walk, "laip_vence_gestion") == closing(2026, 12, 17)
    assert walk.data["laip_fecha_limite"] == "2026-12-17T16:30:00-06:00"
    assert {"deadline_moved", "timers_moved"} <= set(walk.history())
    # Reopening the day moves it back.
    closures.remove_closure(svc, ADMIN, date(2026, 12, 10))
    assert rows(walk)["laip_respuesta"]["due_at"] == closing(2026, 12, 16)
    assert due(walk, "laip_vence_gestion") == closing(2026, 12, 16)
    assert task_due(walk, "laip_gestionar") == closing(2026, 12, 16)
    assert walk.data["laip_fecha_limite"] == "2026-12-16T16:30:00-06:00"
    # Mon 14 Dec: the information unit extends it (LAIP art. 43): +10 working days from Wed 16 Dec → Thu 17 (1),
    # 18, 21, 22, 23, Thu 24 (6, half day), Mon 28 (Christmas skipped), 29, 30, Thu 31 Dec (10, half day: noon).
    walk.at(local(2026, 12, 14, 9))
    gestionar(walk, prorroga=True)
    row = rows(walk)["laip_respuesta"]
    assert row["due_at"] == svc.calendar.at_closing(date(2026, 12, 31))
    assert svc.calendar.at_closing(date(2026, 12, 31)).hour == 12
    assert (row["extension_days"], row["extended_by"], row["citizen_told_at"]) == (10, "uip1", None)
    notify(walk, local(2026, 12, 14, 12))
    assert rows(walk)["laip_respuesta"]["citizen_told_at"] == svc.clock.now  # the notifier's step
    assert task_due(walk, "laip_resolver") == row["due_at"]
    # Resolved Tue 15 Dec, in time: the row closes as met; the review window (the citizen's) opens on notification.
    walk.at(local(2026, 12, 15, 10))
    resolver_laip(walk)
    assert rows(walk)["laip_respuesta"]["state"] == "met"
    notify(walk, local(2026, 12, 15, 15))
    review = rows(walk)["laip_revision"]
    # 15 working days from Tue 15 Dec: 16 (1) … 24 (7), 28 (8) … 31 (11), Fri 1 Jan is a holiday, Mon 4 Jan (12),
    # 5, 6, Thu 7 Jan (15).
    assert (review["owner"], review["owner_group"]) == ("ciudadano", None)
    assert review["due_at"] == closing(2027, 1, 7)
    assert task_due(walk, "laip_registrar_recurso") is None  # the citizen's time is no staff deadline
    assert alert_points(walk, "laip_revision") == {}        # and raises no staff alert
    walk.at(closing(2027, 1, 7) + ONE_MINUTE)
    assert walk.state == "completed"
    assert rows(walk)["laip_revision"]["state"] == "expired"


def test_petition_30_day_row_with_alerts_on_days_20_and_25_and_the_area_report(svc):
    walk = start(svc, local(2026, 5, 4, 10), "constancia")
    competencia(walk, competente=True)
    providencia(walk)
    report = rows(walk)["peticion_informe_area"]
    assert report["due_at"] == closing(2026, 5, 11)            # 5 working days from Mon 4 May
    assert task_due(walk, "peticion_informe_area") == closing(2026, 5, 11)
    walk.at(local(2026, 6, 1, 10))
    informe(walk, listo=True, fecha="2026-06-01")
    assert rows(walk)["peticion_informe_area"]["state"] == "late"  # reported 1 Jun, due 11 May
    row = rows(walk)["peticion_resolucion"]
    # From Tue 2 Jun; Army Day is Mon 29 Jun 2026: day 20 = Tue 30 Jun, day 25 = Tue 7 Jul, day 30 = Tue 14 Jul.
    assert (row["days"], row["due_at"], row["state"]) == (30, closing(2026, 7, 14), "open")
    assert "art. 28" in row["basis"]
    points = alert_points(walk, "peticion_resolucion")
    assert set(points) == {"dia-20", "dia-25", "vencido"}
    assert points["dia-20"][0].date() == date(2026, 6, 30) and points["dia-25"][0].date() == date(2026, 7, 7)
    assert points["vencido"][0] == closing(2026, 7, 14)
    assert task_due(walk, "peticion_proyectar_resolucion") == closing(2026, 7, 14)
    # Day 20: the alert mail goes to the owning group; it is sent once.
    walk.svc.clock.now = local(2026, 6, 30, 9)
    assert legal_deadlines.send_due_alerts(walk.svc) == 1
    assert legal_deadlines.send_due_alerts(walk.svc) == 0
    assert alert_points(walk, "peticion_resolucion")["dia-20"][1] == "sent"


def test_licence_legal_cap_opinions_on_their_own_settings_and_the_appeal_window_of_the_citizen(sqlite_url, clock):
    from engine.config import DEFAULT_PLAZOS
    from tests.processes import licencia_walk as lic
    from tests.processes.driver import office
    svc = office(sqlite_url, clock, plazos={**DEFAULT_PLAZOS, "opinion_coordinador_dias": 8})
    try:
        # February 2027 has no holiday. Complete on Mon 1 Feb 09:00.
        walk = lic.start(svc, at=local(2027, 2, 1, 9))
        lic.receive(walk)
        lic.review(walk)
        found = rows(walk)
        cap = found["licencia_resolucion"]
        # 30 working days from Tue 2 Feb: 2-5 Feb (4), 8-12 (9), 15-19 (14), 22-26 (19), 1-5 Mar (24), 8-12 (29),
        # Mon 15 Mar (30); the office's practice (15 days) is an alert on Mon 22 Feb.
        assert (cap["days"], cap["due_at"], cap["owner"]) == (30, closing(2027, 3, 15), "oficina")
        assert "art. 28" in cap["basis"]
        assert alert_points(walk, "licencia_resolucion")["dia-15"][0].date() == date(2027, 2, 22)
        assert walk.data["respuesta_tope"] == closing(2027, 3, 15).isoformat()
        # The police: 5 working days from Mon 1 Feb (before the 16:30 cut-off) → Mon 8 Feb; the disaster
        # coordinator on its own setting (8 here) → Thu 11 Feb. Both are the institutions' time.
        pnc, conred = found["opinion_pnc"], found["opinion_coordinador"]
        assert (pnc["owner"], pnc["days"], pnc["due_at"]) == ("institucion", 5, closing(2027, 2, 8))
        assert (conred["days"], conred["due_at"]) == (8, closing(2027, 2, 11))
        walk.at(local(2027, 2, 3, 10))
        lic.opinion(walk, "pnc")
        walk.at(closing(2027, 2, 11) + ONE_MINUTE)   # the coordinator never answered
        assert rows(walk)["opinion_pnc"]["state"] == "met"
        assert rows(walk)["opinion_coordinador"]["state"] == "expired"
        assert task_due(walk, "elaborar_dictamen") == closing(2027, 3, 15)  # the cap shows in the inbox
        lic.sign(lic.dictamen(walk))
        walk.at(local(2027, 2, 15, 10))
        lic.notify(walk, local(2027, 2, 15, 10))
        assert rows(walk)["licencia_resolucion"]["state"] == "met"
        window = rows(walk)["recurso_revocatoria"]
        # 5 working days from Mon 15 Feb → Mon 22 Feb; the citizen's, with no staff deadline or alert.
        assert (window["owner"], window["due_at"]) == ("ciudadano", closing(2027, 2, 22))
        lic.certificate(walk)
        assert task_due(walk, "registrar_recurso") is None
        walk.at(local(2027, 2, 18, 9))
        lic.appeal(walk, local(2027, 2, 18, 9))
        assert rows(walk)["recurso_revocatoria"]["state"] == "used"
    finally:
        svc.db.dispose()
