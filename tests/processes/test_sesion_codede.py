"""D2 CODEDE session: every path of processes/sesion_codede.bpmn, on a fake clock (office time UTC-6)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.processes.driver import Walk, office
from tests.processes.issued_documents import assert_documents

GT = timezone(timedelta(hours=-6))
PROCESS = "sesion_codede"
MONDAY_9AM = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # Mon 2 Mar 2026, 09:00 in Chimaltenango

INTAKE = {"codede_sesion_titulo": "Segunda sesión ordinaria 2026", "codede_sesion_tipo": "ordinaria",
          "codede_sesion_numero": "02-2026"}
PUNTOS = [{"titulo": "Aprobación del acta anterior"},
          {"titulo": "Avance del programa de inversión 2026", "presenta": "Unidad Técnica Departamental"}]
CONVOCATORIA = {"codede_convocatoria_medio": "ambos",
                "codede_convocatoria_enviada": "2026-03-02T10:00:00-06:00"}
RESOLUCIONES = {"codede_resoluciones": [
    {"resolucion_texto": "Se aprueba el acta de la sesión anterior.", "votos_favor": 10, "votos_contra": 0, "abstenciones": 0},
    {"resolucion_texto": "Se prioriza el tramo carretero Patzún–Godínez.", "votos_favor": 8, "votos_contra": 1,
     "abstenciones": 1}]}
ACTA = {"codede_acta_fecha": "2026-03-09",
        "codede_acta_resumen": "Acta de la segunda sesión ordinaria con las resoluciones adoptadas."}
OFICIOS = {"codede_oficios_seguimiento": [
    {"oficio_destinatario": "Ing. Carlos Tum", "oficio_cargo": "Director General",
     "oficio_institucion": "Dirección General de Caminos", "oficio_referencia": "Resolución del CODEDE RES-CODEDE-2026-0002",
     "oficio_asunto": "Comunica la priorización del tramo Patzún–Godínez.",
     "oficio_cuerpo": "Le comunico que el CODEDE priorizó el tramo carretero Patzún–Godínez en su segunda sesión."}]}


def agenda(fecha: str) -> dict:
    return {"codede_fecha_sesion": fecha, "codede_hora_sesion": "09:30",
            "codede_lugar": "Salón de sesiones de la Gobernación", "codede_puntos_agenda": PUNTOS}


def convened(svc, clock, fecha="2026-03-09") -> Walk:
    clock.now = MONDAY_9AM
    walk = Walk(svc, PROCESS, INTAKE, actor="codede1")
    assert walk.ready() == ["preparar_agenda"]
    walk.complete("preparar_agenda", agenda(fecha), actor="codede1")
    assert walk.ready() == ["enviar_convocatoria"]
    walk.complete("enviar_convocatoria", CONVOCATORIA, actor="codede1")
    assert walk.ready() == ["registrar_asistencia"]
    return walk


def attendance(walk, presentes, total=15):
    walk.complete("registrar_asistencia", {"codede_miembros_presentes": presentes, "codede_miembros_total": total})


def close(walk):
    walk.complete("elaborar_acta", ACTA, actor="codede1")
    assert walk.ready() == ["oficios_seguimiento"]
    walk.complete("oficios_seguimiento", OFICIOS, actor="tramite1")


def test_session_with_quorum_runs_to_the_follow_up_letters(database_url, clock):
    svc = office(database_url, clock)
    try:
        walk = convened(svc, clock)
        assert walk.data["codede_dias_anticipacion"] == 7
        clock.now = datetime(2026, 3, 9, 15, 40, tzinfo=timezone.utc)
        attendance(walk, 12)
        assert walk.ready() == ["registrar_resoluciones"]
        assert walk.timers() == []
        walk.complete("registrar_resoluciones", RESOLUCIONES, actor="codede1")
        assert walk.ready() == ["elaborar_acta"]
        data = walk.data
        assert [d["numero"] for d in data["documentos_codede_resolucion"]] == ["RES-CODEDE-2026-0001",
                                                                               "RES-CODEDE-2026-0002"]
        assert (data["codede_quorum"], data["acta_sin_quorum_inicial"]) == (True, False)
        assert data["codede_apertura"] == "2026-03-09T15:40:00+00:00"
        close(walk)
        assert walk.state == "completed"
        assert walk.route == ["preparar_agenda", "enviar_convocatoria", "registrar_asistencia",
                              "registrar_resoluciones", "elaborar_acta", "oficios_seguimiento"]
        assert_documents(walk, [
            ("codede_convocatoria", "CONV-CODEDE-2026-0001",
             ["Segunda sesión ordinaria 2026", "9 de marzo de 2026", "09:30 horas", "Salón de sesiones de la Gobernación",
              "Avance del programa de inversión 2026", "con 7 días calendario de anticipación"]),
            ("codede_resolucion", "RES-CODEDE-2026-0001",
             ["Se aprueba el acta de la sesión anterior.", "10 a favor, 0 en contra, 0 abstenciones"]),
            ("codede_resolucion", "RES-CODEDE-2026-0002",
             ["Se prioriza el tramo carretero Patzún–Godínez.", "8 a favor, 1 en contra, 1 abstención"]),
            ("codede_acta", "ACTA-CODEDE-2026-0001",
             ["Están presentes 12 de los 15", "Habiendo quórum, se abre la sesión.",
              "Acta de la segunda sesión ordinaria con las resoluciones adoptadas.",
              "RES-CODEDE-2026-0002 Se prioriza el tramo carretero Patzún", "8 a favor, 1 en contra, 1 abstención"]),
            ("oficio", "OF-GDCH-2026-0001",
             ["Ing. Carlos Tum", "Dirección General de Caminos", "Resolución del CODEDE RES-CODEDE-2026-0002",
              "Comunica la priorización del tramo Patzún–Godínez."]),
        ])
    finally:
        svc.db.dispose()


def test_session_too_soon_for_notice_goes_back_to_the_agenda_until_rescheduled(svc, clock):
    clock.now = MONDAY_9AM
    walk = Walk(svc, PROCESS, INTAKE, actor="codede1")
    walk.complete("preparar_agenda", agenda("2026-03-06"))  # Friday: 4 days ahead, 5 needed
    assert walk.ready() == ["preparar_agenda"]
    data = walk.data
    assert (data["codede_dias_anticipacion"], data["codede_aviso_a_tiempo"]) == (4, False)

    walk.complete("preparar_agenda", agenda("2026-03-07"))  # exactly 5 days ahead: enough
    assert walk.ready() == ["enviar_convocatoria"]
    data = walk.data
    assert (data["codede_dias_anticipacion"], data["codede_aviso_a_tiempo"]) == (5, True)
    assert walk.route == ["preparar_agenda", "preparar_agenda"]


def test_notice_days_are_counted_from_the_office_date_not_the_utc_date(svc, clock):
    # Tue 3 Mar 04:00 UTC is still Mon 2 Mar at 22:00 in Chimaltenango: Sat 7 Mar is 5 days ahead.
    clock.now = datetime(2026, 3, 3, 4, 0, tzinfo=timezone.utc)
    walk = Walk(svc, PROCESS, INTAKE)
    walk.complete("preparar_agenda", agenda("2026-03-07"))
    assert walk.ready() == ["enviar_convocatoria"]
    assert walk.data["codede_fecha_aviso"] == "2026-03-02"


def test_agenda_refuses_a_session_date_in_the_past(svc, clock):
    clock.now = MONDAY_9AM
    walk = Walk(svc, PROCESS, INTAKE)
    with pytest.raises(Exception) as refused:
        walk.complete("preparar_agenda", agenda("2026-03-01"))
    assert [e["field"] for e in refused.value.details["errors"]] == ["codede_fecha_sesion"]
    assert walk.ready() == ["preparar_agenda"]


def test_ten_of_fifteen_members_is_quorum(svc, clock):
    walk = convened(svc, clock)
    attendance(walk, 10)
    assert walk.ready() == ["registrar_resoluciones"]
    assert walk.timers() == []
    assert walk.data["codede_quorum"] is True


def test_nine_of_fifteen_opens_one_hour_later_and_the_minutes_note_it(svc, clock):
    walk = convened(svc, clock)
    clock.now = datetime(2026, 3, 9, 15, 30, tzinfo=timezone.utc)  # 09:30 in Chimaltenango
    attendance(walk, 9)
    assert walk.ready() == []
    assert walk.data["codede_quorum"] is False
    [(element, due, state)] = walk.timers()
    assert (element, str(due)[:16], state) == ("esperar_una_hora", "2026-03-09 16:30", "waiting")

    walk.at(datetime(2026, 3, 9, 16, 29, tzinfo=timezone.utc))
    assert walk.ready() == []
    walk.at(datetime(2026, 3, 9, 16, 31, tzinfo=timezone.utc))
    assert walk.ready() == ["registrar_resoluciones"]
    data = walk.data
    assert data["acta_sin_quorum_inicial"] is True
    assert data["codede_apertura"] == "2026-03-09T16:31:00+00:00"

    walk.complete("registrar_resoluciones", RESOLUCIONES)
    close(walk)
    assert walk.state == "completed"
    assert walk.data["acta_sin_quorum_inicial"] is True
    assert walk.history().count("timer_fired") == 1
    acta = [d for d in assert_documents(walk, [
        ("codede_convocatoria", "CONV-CODEDE-2026-0001", []),
        ("codede_resolucion", "RES-CODEDE-2026-0001", []), ("codede_resolucion", "RES-CODEDE-2026-0002", []),
        ("codede_acta", "ACTA-CODEDE-2026-0001", ["Están presentes 9 de los 15", "es de 10 miembros"]),
        ("oficio", "OF-GDCH-2026-0001", [])]) if d["kind"] == "codede_acta"]
    assert "se abrió una hora después con los miembros presentes" in acta[0]["text"]
    assert "10:31 horas" in acta[0]["text"]  # opened at 16:31 UTC


def test_resolutions_are_numbered_by_the_documents_issued_in_order_and_per_year(svc, clock):
    walk = convened(svc, clock)
    attendance(walk, 11)
    rows = [{"resolucion_texto": f"Resolución {i}", "votos_favor": 11, "votos_contra": 0, "abstenciones": 0}
            for i in range(3)]
    walk.complete("registrar_resoluciones", {"codede_resoluciones": rows})
    data = walk.data
    assert [d["numero"] for d in data["documentos_codede_resolucion"]] == \
        ["RES-CODEDE-2026-0001", "RES-CODEDE-2026-0002", "RES-CODEDE-2026-0003"]
    assert "numero" not in data["codede_resoluciones"][0]


# The task page posts no array at all when the clerk adds no row (web.schema_form.parse drops empty rows), and
# A session that adopted no resolution leaves the optional list out: no resolution is issued, and it closes.
def test_session_without_resolutions_still_closes(svc, clock):
    walk = convened(svc, clock)
    attendance(walk, 11)
    walk.complete("registrar_resoluciones", {})
    assert walk.data["documentos_codede_resolucion"] == []
    walk.complete("elaborar_acta", ACTA).complete("oficios_seguimiento", {})
    assert walk.state == "completed"
    assert_documents(walk, [("codede_convocatoria", "CONV-CODEDE-2026-0001", []),
                            ("codede_acta", "ACTA-CODEDE-2026-0001", ["En esta sesión no se adoptaron resoluciones."])])
