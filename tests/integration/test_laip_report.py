"""The LAIP annual report (engine/usecases/laip_report.py) against solicitud_ciudadana cases walked at known
moments in 2026, on SQLite and PostgreSQL: received per month of filing, answered in time and late, overdue and
pending, extended, the resolution's outcome (denied as reserved or confidential, delivered), appealed and how the
review ended; and its table and downloads."""
from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, InvalidInput
from engine.reports import tables
from engine.storage import models
from engine.usecases import laip_report
from tests.conftest import principal_for
from tests.processes.driver import local, office
from tests.processes.test_solicitud_ciudadana import EXTENSION, gestionar, notify, start

AUDITOR = principal_for("auditor1", "auditor")
CLERK = principal_for("ventanilla1", "clerk", ("ventanilla",))


def resolve(walk, sentido: str):
    walk.complete("laip_resolver", {
        "laip_sentido": sentido,
        "laip_modalidad_entrega": "correo_electronico" if sentido.startswith("entrega") else "no_aplica",
        "resolucion_considerandos": ["Que la solicitud fue analizada por la Unidad de Información Pública."],
        "resolucion_fundamento": "Decreto 57-2008, arts. 42 y 45.",
        "resolucion_puntos": ["Se resuelve la solicitud."]}, actor="uip1")
    return walk


@pytest.fixture
def year_walked(database_url, clock):
    """Five LAIP requests of 2026 and what became of them (office time):
    1 filed Mon 30 Mar: resolved in time (14 Apr), delivered in full; the review window expired (6 May);
    2 filed Tue 14 Apr 16:31: extended (27 Apr), resolved late (15 May) denying it as reserved, appealed (20 May),
      the review modified it (26 May);
    3 filed Wed 15 Apr: resolved in time (20 Apr) denying it as confidential;
    4 filed Wed 15 Apr: never answered (due 29 Apr);
    5 filed Wed 20 May: waiting, within its time (the clock stops on 26 May)."""
    svc = office(database_url, clock)
    one = start(svc, local(2026, 3, 30, 10))
    one.at(local(2026, 4, 10, 9))
    gestionar(one)
    one.at(local(2026, 4, 14, 11))
    resolve(one, "entrega_total")
    notify(one, local(2026, 4, 14, 15))
    two = start(svc, local(2026, 4, 14, 16, 31))
    clock.now = local(2026, 4, 15, 10)
    three, four = start(svc, local(2026, 4, 15, 10)), start(svc, local(2026, 4, 15, 11))
    three.at(local(2026, 4, 20, 9))
    gestionar(three)
    resolve(three, "confidencial")
    notify(three, local(2026, 4, 20, 12))
    two.at(local(2026, 4, 27, 9))
    gestionar(two, prorroga=True)
    notify(two, local(2026, 4, 27, 12), notificacion_acto=EXTENSION)
    two.at(local(2026, 5, 15, 9))
    resolve(two, "reservada")
    notify(two, local(2026, 5, 15, 12))
    five = start(svc, local(2026, 5, 20, 10))
    two.at(local(2026, 5, 20, 11))
    two.complete("laip_registrar_recurso", {"laip_recurso_fecha": local(2026, 5, 20, 9).isoformat(),
                                            "laip_recurso_motivo": "La negativa no explica la reserva."})
    two.at(local(2026, 5, 26, 9))
    two.complete("laip_resolver_revision", {"laip_revision_decision": "modifica",
                                            "resolucion_considerandos": ["Que la reserva no alcanza toda la "
                                                                         "información."],
                                            "resolucion_fundamento": "Decreto 57-2008, art. 60.",
                                            "resolucion_puntos": ["Se modifica la resolución recurrida."]},
                 actor="gobernador")
    assert one.state == "completed" and four.ready() == ["laip_gestionar"] and five.ready() == ["laip_gestionar"]
    yield svc, {"one": one.id, "two": two.id, "three": three.id, "four": four.id, "five": five.id}
    svc.db.dispose()


def test_the_resolutions_outcome_is_kept_as_a_fact_of_the_case(year_walked):
    svc, ids = year_walked
    f = models.case_facts
    with svc.uow(write=False) as uow:
        facts = {(r.case_id, r.key): (r.value, r.element_id) for r in uow.conn.execute(select(f))}
    assert facts[(ids["two"], "laip_sentido")] == ("reservada", "laip_resolver")
    assert facts[(ids["two"], "laip_revision_decision")] == ("modifica", "laip_resolver_revision")
    assert facts[(ids["three"], "laip_sentido")] == ("confidencial", "laip_resolver")
    assert (ids["four"], "laip_sentido") not in facts


def test_laip_annual_report_in_the_ombudsmans_categories(year_walked):
    svc, _ids = year_walked
    report = laip_report.laip_annual(svc, AUDITOR, 2026)
    months = {m["month"]: m for m in report["months"]}

    def nonzero(month):
        return {k: v for k, v in months[month].items() if k != "month" and v}

    assert nonzero("2026-03") == {"received": 1, "in_time": 1, "entrega_total": 1}
    assert nonzero("2026-04") == {"received": 3, "in_time": 1, "late": 1, "overdue": 1, "extended": 1,
                                  "reservada": 1, "confidencial": 1, "denied": 2, "appealed": 1,
                                  "review_modifica": 1}
    assert nonzero("2026-05") == {"received": 1, "pending": 1}
    assert all(not nonzero(m) for m in months if m not in ("2026-03", "2026-04", "2026-05"))
    assert report["totals"]["received"] == 5 and report["totals"]["denied"] == 2
    assert laip_report.laip_annual(svc, AUDITOR, 2025)["totals"]["received"] == 0
    table = laip_report.laip_table(report)
    assert len(table.rows) == 13 and table.rows[-1]["received"] == 5 and table.rows[-1]["month"] == "Total 2026"
    csv = tables.to_csv(table).decode("utf-8-sig").splitlines()
    assert csv[0].startswith("Mes,Recibidas,Respondidas en plazo") and csv[4].startswith("2026-04,3,1,1,1,0,1")
    with zipfile.ZipFile(BytesIO(tables.to_xlsx(table))) as book:
        assert "Recibidas" in book.read("xl/worksheets/sheet1.xml").decode()


def test_laip_report_refuses_a_clerk_and_a_year_out_of_range(year_walked):
    svc, _ids = year_walked
    with pytest.raises(Forbidden):
        laip_report.laip_annual(svc, CLERK, 2026)
    with pytest.raises(InvalidInput) as refused:
        laip_report.laip_annual(svc, AUDITOR, 1999)
    assert refused.value.errors[0]["field"] == "anio"
