"""D3 project prioritization: every path of processes/priorizacion_proyectos.bpmn, on a fake clock.

The CODEDE resolution is due by 8 July of the current year; a reminder fires plazo("priorizacion_alerta_dias")
working days before (16:30 office time = 22:30 UTC), or on the next working day if that moment has passed.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.config import DEFAULT_PLAZOS
from tests.processes.driver import Walk, office
from tests.processes.issued_documents import assert_documents

GT = timezone(timedelta(hours=-6))
PROCESS = "priorizacion_proyectos"

INTAKE = {
    "municipio": "Patzún",
    "priorizacion_asunto": "Propuesta de inversión 2027 del COMUDE de Patzún",
    "priorizacion_ejercicio": 2027,
    "priorizacion_acta_comude": "ACTA-COMUDE-05-2026",
    "priorizacion_proyectos": [
        {"nombre": "Mejoramiento de calle principal, aldea Chuinimachicaj", "monto": 1250000},
        {"nombre": "Ampliación de escuela oficial rural mixta, caserío Xeatzán", "monto": 830000.5,
         "codigo_snip": "0271234"},
    ],
}
REVISION = {"revision_tecnica_dictamen": "con_observaciones", "revision_tecnica_fecha": "2026-03-10",
            "revision_tecnica_observaciones": "Completar el estudio de suelos del proyecto de calle."}
SNIP = {"snip_registros": [{"proyecto": "Mejoramiento de calle principal", "codigo_snip": "0279876"},
                           {"proyecto": "Ampliación de escuela", "codigo_snip": "0271234"}],
        "snip_fecha_registro": "2026-03-12"}
PRIORIZADA = {"priorizacion_resolucion_fecha": "2026-06-24", "priorizacion_priorizada": True,
              "resolucion_texto": "Priorizar la propuesta de inversión 2027 del COMUDE de Patzún.",
              "votos_favor": 12, "votos_contra": 0, "abstenciones": 2,
              "priorizacion_proyectos_priorizados": ["Mejoramiento de calle principal", "Ampliación de escuela"]}
CONVENIOS = {"priorizacion_convenios": [
    {"alcalde": "Alcalde municipal de Patzún", "municipio": "Patzún", "proyecto": "Mejoramiento de calle principal",
     "monto": 1250000, "compromisos": "Aporte municipal del 10 % y supervisión de la obra.",
     "fecha_firma": "2026-07-15"}]}


def utc(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=timezone.utc)


def avance(estado: str, porcentaje: int) -> dict:
    return {"avance_estado": estado, "avance_porcentaje": porcentaje, "avance_fecha": "2026-09-30"}


def at_resolution(svc, clock, moment=utc(2026, 3, 12, 16)) -> Walk:
    """A proposal reviewed and registered in the SNIP at `moment`, waiting for the CODEDE resolution."""
    clock.now = utc(2026, 3, 2, 15) if moment > utc(2026, 3, 2, 15) else moment
    walk = Walk(svc, PROCESS, INTAKE, actor="ventanilla1")
    assert walk.ready() == ["revision_tecnica"]
    walk.complete("revision_tecnica", REVISION, actor="tramite1")
    assert walk.ready() == ["registro_snip"]
    clock.now = moment
    walk.complete("registro_snip", SNIP, actor="tramite1")
    assert walk.ready() == ["resolucion_codede"]
    return walk


def reminder_due(walk) -> str:
    [(element, due, state)] = walk.timers()
    assert (element, state) == ("recordatorio_entrega", "waiting")
    return str(due)[:16]


def test_prioritized_proposal_runs_to_finished_execution(database_url, clock):
    svc = office(database_url, clock)
    try:
        walk = at_resolution(svc, clock)
        data = walk.data
        assert (data["priorizacion_fecha_entrega"], data["priorizacion_fuera_de_plazo"]) == ("2026-07-08", False)
        # 5 working days before Wed 8 Jul 2026: 7, 6, (weekend), 3, 2, 1 → Wed 1 Jul at 16:30.
        assert data["priorizacion_recordatorio"] == "2026-07-01T22:30:00+00:00"
        assert reminder_due(walk) == "2026-07-01 22:30"

        clock.now = utc(2026, 6, 24, 16)
        walk.complete("resolucion_codede", PRIORIZADA, actor="codede1")
        assert walk.ready() == ["convenios_alcaldes"]
        assert [s for _e, _d, s in walk.timers()] == ["cancelled"]
        walk.complete("convenios_alcaldes", CONVENIOS, actor="gobernador")
        assert walk.ready() == ["registrar_avance"]
        walk.complete("registrar_avance", avance("finalizado", 100), actor="tramite1")
        assert walk.state == "completed"
        assert walk.route == ["revision_tecnica", "registro_snip", "resolucion_codede", "convenios_alcaldes",
                              "registrar_avance"]
        assert_documents(walk, [("codede_resolucion", "RES-CODEDE-2026-0001", [
            "veinticuatro de junio de dos mil veintiséis", "Propuesta de inversión 2027 del COMUDE de Patzún",
            "RESUELVE: Priorizar la propuesta de inversión 2027 del COMUDE de Patzún.", "queda priorizada",
            "Mejoramiento de calle principal", "Ampliación de escuela", "12 a favor, 0 en contra, 2 abstenciones"])])
    finally:
        svc.db.dispose()


def test_reminder_fires_on_its_working_day_before_8_july(svc, clock):
    walk = at_resolution(svc, clock)
    walk.at(utc(2026, 7, 1, 22, 29))
    assert walk.ready() == ["resolucion_codede"]
    walk.at(utc(2026, 7, 1, 22, 31))
    assert walk.ready() == ["atender_recordatorio", "resolucion_codede"]
    walk.complete("atender_recordatorio", {"recordatorio_entrega_accion": "Se incluyó en la agenda del 6 de julio."},
                  actor="codede1")
    assert walk.ready() == ["resolucion_codede"]
    walk.complete("resolucion_codede", PRIORIZADA, actor="codede1")
    assert walk.ready() == ["convenios_alcaldes"]
    assert walk.history().count("timer_fired") == 1


@pytest.mark.parametrize("moment, due, entrega, fuera_de_plazo", [
    # Past the advance reminder (Wed 1 Jul) but before 8 July: remind on the next working day, Mon 6 Jul.
    (utc(2026, 7, 3, 15), "2026-07-06 22:30", "2026-07-08", False),
    # After 8 July 2027: next working day after Fri 23 Jul skips the weekend and Mon 26 Jul (Santa Ana fair).
    (utc(2027, 7, 23, 15), "2027-07-27 22:30", "2027-07-08", True),
    # Wed 23 Dec 2026: the next working day is the 24th, a half day closing at noon (18:00 UTC).
    (utc(2026, 12, 23, 15), "2026-12-24 18:00", "2026-07-08", True),
])
def test_late_proposal_is_reminded_on_the_next_working_day(svc, clock, moment, due, entrega, fuera_de_plazo):
    walk = at_resolution(svc, clock, moment)
    data = walk.data
    assert (data["priorizacion_fecha_entrega"], data["priorizacion_fuera_de_plazo"]) == (entrega, fuera_de_plazo)
    assert reminder_due(walk) == due
    assert "priorizacion_ahora" not in data


def test_reminder_lead_is_a_setting_and_skips_army_day(sqlite_url, clock):
    # 8 working days before Wed 8 Jul 2026: 7, 6, 3, 2, 1, 30 Jun, (Mon 29 Jun, Army Day), 26, 25 → Thu 25 Jun.
    svc = office(sqlite_url, clock, plazos={**DEFAULT_PLAZOS, "priorizacion_alerta_dias": 8})
    try:
        walk = at_resolution(svc, clock)
        assert reminder_due(walk) == "2026-06-25 22:30"
    finally:
        svc.db.dispose()


def test_proposal_not_prioritized_ends_the_case(svc, clock):
    walk = at_resolution(svc, clock)
    walk.complete("resolucion_codede", {**PRIORIZADA, "priorizacion_priorizada": False,
                                        "priorizacion_proyectos_priorizados": []}, actor="codede1")
    assert walk.state == "completed"
    assert walk.ready() == []
    assert [s for _e, _d, s in walk.timers()] == ["cancelled"]
    [resolution] = assert_documents(walk, [("codede_resolucion", "RES-CODEDE-2026-0001", ["no queda priorizada"])])
    assert "Proyectos priorizados" not in resolution["text"]


def test_execution_is_followed_up_until_finished(svc, clock):
    walk = at_resolution(svc, clock)
    walk.complete("resolucion_codede", PRIORIZADA).complete("convenios_alcaldes", CONVENIOS)
    for estado, porcentaje in (("no_iniciado", 0), ("en_ejecucion", 40), ("suspendido", 40), ("en_ejecucion", 85)):
        walk.complete("registrar_avance", avance(estado, porcentaje))
        assert walk.ready() == ["registrar_avance"]
        assert walk.state == "running"
    walk.complete("registrar_avance", avance("finalizado", 100))
    assert walk.state == "completed"
    assert walk.route.count("registrar_avance") == 5
    assert walk.data["avance_estado"] == "finalizado"
