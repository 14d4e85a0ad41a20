"""D1 official correspondence: every path of processes/correspondencia_oficial.bpmn, on a fake clock.

Deadlines are working days (LOJ art. 45) ending at 16:30 office time (22:30 UTC); the office is UTC-6.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.usecases import delivery, messaging
from tests.conftest import SYSTEM
from tests.processes.case_documents import assert_documents
from tests.processes.driver import Walk, office
from tests.processes.institution_walk import message_state, reply, waits

GT = timezone(timedelta(hours=-6))
PROCESS = "correspondencia_oficial"

INTAKE = {
    "oficio_institucion": "Ministerio de Salud Pública y Asistencia Social",
    "oficio_referencia": "Of. 245-2026/DAS",
    "oficio_asunto": "Informe sobre las jornadas de vacunación en el departamento",
    "oficio_recibido": "2026-03-02T10:00:00-06:00",
    "oficio_unidad_responsable": "secretaria",
}
PROVIDENCIA = {"providencia_unidad": "planificacion",
               "providencia_instrucciones": "Preparar el informe solicitado con los datos de las municipalidades.",
               "providencia_plazo_dias": 3}
RESPUESTA = {"respuesta_requiere_consulta": False,
             "oficio_cuerpo": "Se remite el informe de jornadas de vacunación de los 16 municipios."}
# The unit asks another institution (a record kept by the office, chosen by its key) before replying: the oficio
# of consultation is issued and mailed with a link to answer; the answer comes back into the case as a message.
CONSULTA = {"respuesta_requiere_consulta": True, "consulta_institucion": "otra",
            "consulta_asunto": "Datos de cobertura de vacunación por municipio del año en curso"}
RECORDATORIO = {"oficio_destinatario": "Dra. Lucía Cojtí", "oficio_cargo": "Directora",
                "oficio_institucion": "Área de Salud de Chimaltenango",
                "oficio_asunto": "Recordatorio de consulta pendiente",
                "oficio_cuerpo": "Reitero la solicitud de datos de cobertura de vacunación enviada el 23 de marzo."}
ANSWER = "Remite cuadro de cobertura por municipio (oficio OF-AS-112-2026)."
# The Governor's reply: the received oficio's institution, reference and subject, and the unit's draft, come with
# the case's data; the Governor adds the addressee.
FIRMA = {"oficio_destinatario": "Dr. Carlos Pop", "oficio_cargo": "Director de Área de Salud",
         "oficio_institucion": INTAKE["oficio_institucion"], "oficio_referencia": INTAKE["oficio_referencia"],
         "oficio_asunto": INTAKE["oficio_asunto"], "oficio_cuerpo": RESPUESTA["oficio_cuerpo"]}
ENVIO = {"envio_fecha": "2026-03-10T09:00:00-06:00",
         "envio_medio": "correo_electronico", "envio_recibido_por": "Secretaría del MSPAS"}


# What the providencia and the reply oficio must show (besides the case number and their own numbers).
PROVIDENCIA_PARTS = ["Pase a Unidad Técnica y de Planificación para", PROVIDENCIA["providencia_instrucciones"],
                     "3 días hábiles", "Fundamento legal"]
REPLY_PARTS = ["Dr. Carlos Pop", INTAKE["oficio_institucion"], "Su referencia: Of. 245-2026/DAS",
               INTAKE["oficio_asunto"], RESPUESTA["oficio_cuerpo"], "Decreto 114-97, artículo 47"]


def utc(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=timezone.utc)


def start(svc, clock, **changes) -> Walk:
    clock.now = datetime.fromisoformat(changes.get("oficio_recibido", INTAKE["oficio_recibido"])).astimezone(timezone.utc)
    return Walk(svc, PROCESS, {**INTAKE, **changes}, actor="ventanilla1")


def waiting(walk) -> dict[str, str]:
    """Waiting timers of the case: element id -> due moment 'YYYY-MM-DD HH:MM' (UTC)."""
    return {element: str(due)[:16] for element, due, state in walk.timers() if state == "waiting"}


def answer_and_send(walk):
    walk.complete("firmar_oficio_respuesta", FIRMA, actor="gobernador")
    assert "registrar_envio" in walk.ready()
    walk.complete("registrar_envio", ENVIO, actor="ventanilla1")


def test_oficio_is_answered_within_ten_working_days(database_url, clock):
    svc = office(database_url, clock)
    try:
        walk = start(svc, clock)
        # Mon 2 Mar 10:00 → 10 working days: Mon 16 Mar at closing; alert 2 working days before (Thu 12 Mar).
        data = walk.data
        assert (data["oficio_plazo_origen"], data["oficio_plazo_dias"]) == ("oficio", 10)
        assert data["oficio_fecha_recepcion_efectiva"] == "2026-03-02"
        assert data["oficio_vencimiento"] == "2026-03-16T22:30:00+00:00"
        assert data["oficio_alerta"] == "2026-03-12T22:30:00+00:00"
        assert walk.ready() == ["emitir_providencia"]
        assert waiting(walk) == {"alerta_vencimiento": "2026-03-12 22:30"}

        walk.complete("emitir_providencia", PROVIDENCIA, actor="tramite1")
        assert walk.ready() == ["preparar_respuesta"]
        walk.complete("preparar_respuesta", RESPUESTA, actor="tramite1")
        assert walk.ready() == ["firmar_oficio_respuesta"]
        assert walk.task("firmar_oficio_respuesta")["candidate_group"] == "despacho"
        answer_and_send(walk)

        assert walk.state == "completed"
        assert walk.ready() == []
        # The reply was sent before the alert: the terminate end cancelled the deadline watcher.
        assert [(e, s) for e, _d, s in walk.timers()] == [("alerta_vencimiento", "cancelled")]
        data = walk.data
        assert data["documento_providencia"]["numero"] == "PROV-GDCH-2026-0001"
        assert data["documento_oficio"]["numero"] == "OF-GDCH-2026-0001"  # the reply, numbered when signed
        assert walk.route == ["emitir_providencia", "preparar_respuesta", "firmar_oficio_respuesta", "registrar_envio"]
        assert_documents(
            walk,
            ("providencia", "PROV-GDCH-2026-0001", PROVIDENCIA_PARTS),
            # The reply: to the sender, citing its reference, with the unit's text, signed by the Governor.
            ("oficio", "OF-GDCH-2026-0001", [*REPLY_PARTS, "Gobernador(a) Departamental"]))
        assert walk.history().count("timer_fired") == 0
    finally:
        svc.db.dispose()


def test_alert_fires_on_its_working_day_across_holy_week(svc, clock):
    # Mon 30 Mar: 31, 1, (Holy Thu 2, Fri 3, Sat 4, Sun 5), 6, 7, 8, 9, 10, 13, 14, 15 → Wed 15 Apr;
    # the alert 2 working days before is Mon 13 Apr at 16:30 (22:30 UTC).
    walk = start(svc, clock, oficio_recibido="2026-03-30T10:00:00-06:00")
    assert walk.data["oficio_vencimiento"] == "2026-04-15T22:30:00+00:00"
    assert waiting(walk) == {"alerta_vencimiento": "2026-04-13 22:30"}
    walk.complete("emitir_providencia", PROVIDENCIA, actor="tramite1")

    walk.at(utc(2026, 4, 13, 22, 29))
    assert walk.ready() == ["preparar_respuesta"]
    walk.at(utc(2026, 4, 13, 22, 31))
    assert walk.ready() == ["atender_alerta", "preparar_respuesta"]
    assert walk.history().count("timer_fired") == 1

    walk.complete("atender_alerta", {"alerta_accion": "Se llamó a Planificación; enviarán el informe mañana."})
    assert walk.ready() == ["preparar_respuesta"]
    assert walk.state == "running"
    walk.complete("preparar_respuesta", RESPUESTA, actor="tramite1")
    answer_and_send(walk)
    assert walk.state == "completed"
    assert [s for _e, _d, s in walk.timers()] == ["fired"]


def test_pending_alert_task_is_withdrawn_when_the_reply_is_sent(svc, clock):
    walk = start(svc, clock)
    walk.at(utc(2026, 3, 12, 22, 31))
    assert walk.ready() == ["atender_alerta", "emitir_providencia"]
    walk.complete("emitir_providencia", PROVIDENCIA).complete("preparar_respuesta", RESPUESTA)
    answer_and_send(walk)
    assert walk.state == "completed"
    assert walk.ready() == []


def test_oficio_linked_to_a_citizen_case_inherits_the_thirty_day_petition_deadline(svc, clock):
    # Mon 1 Jun 2026 + 30 working days, skipping Army Day (Mon 29 Jun, moved by Decreto 19-2018): Tue 14 Jul.
    walk = start(svc, clock, oficio_recibido="2026-06-01T10:00:00-06:00",
                 oficio_expediente_vinculado=" EXP-GDCH-2026-00042 ")
    data = walk.data
    assert data["oficio_expediente_vinculado"] == "EXP-GDCH-2026-00042"
    assert (data["oficio_plazo_origen"], data["oficio_plazo_dias"]) == ("peticion", 30)
    assert data["oficio_vencimiento"] == "2026-07-14T22:30:00+00:00"
    assert waiting(walk) == {"alerta_vencimiento": "2026-07-10 22:30"}
    walk.complete("emitir_providencia", PROVIDENCIA).complete("preparar_respuesta", RESPUESTA)
    answer_and_send(walk)
    assert walk.state == "completed"


def test_oficio_received_after_closing_counts_from_the_next_working_day(svc, clock):
    # Fri 6 Mar at 16:45 counts as filed Mon 9 Mar → 10 working days: Mon 23 Mar.
    walk = start(svc, clock, oficio_recibido="2026-03-06T16:45:00-06:00")
    data = walk.data
    assert data["oficio_fecha_recepcion_efectiva"] == "2026-03-09"
    assert data["oficio_vencimiento"] == "2026-03-23T22:30:00+00:00"


@pytest.mark.parametrize("fecha_limite, vencimiento, alerta, origen", [
    # Sat 7 Mar is closed: the institution's date runs to Mon 9 Mar, earlier than the legal 16 Mar.
    ("2026-03-07", "2026-03-09T22:30:00+00:00", "2026-03-05 22:30", "institucion"),
    # A later date never extends the legal deadline.
    ("2026-04-30", "2026-03-16T22:30:00+00:00", "2026-03-12 22:30", "oficio"),
])
def test_an_earlier_due_date_set_by_the_institution_wins(svc, clock, fecha_limite, vencimiento, alerta, origen):
    walk = start(svc, clock, oficio_fecha_limite=fecha_limite)
    data = walk.data
    assert (data["oficio_vencimiento"], data["oficio_plazo_origen"]) == (vencimiento, origen)
    assert waiting(walk) == {"alerta_vencimiento": alerta}


def consult(svc, clock) -> Walk:
    """A case whose unit asks another institution on Mon 23 Mar before replying."""
    walk = start(svc, clock, oficio_recibido="2026-03-20T10:00:00-06:00")
    walk.complete("emitir_providencia", PROVIDENCIA, actor="tramite1")
    clock.now = utc(2026, 3, 23, 16)
    walk.complete("preparar_respuesta", CONSULTA, actor="tramite1")
    # The service task issued the oficio and mailed the link at once: the case waits for the answer.
    assert walk.ready() == []
    assert waits(svc, walk.id) == [("recibir_respuesta_institucion", "respuesta_consulta", "waiting")]
    request = walk.data["consulta_solicitud"]
    assert request["solicitud"].startswith("SOL-") and request["vence"] == "2026-04-22T22:30:00+00:00"
    assert request["documento"]["numero"] == "OF-GDCH-2026-0001"
    return walk


def test_answer_from_the_consulted_institution_returns_the_case_to_the_unit(svc, clock):
    walk = consult(svc, clock)
    # From Mon 23 Mar, across Holy Week: reminder after 10 working days (Wed 8 Apr), expiry after 20 (Wed 22 Apr).
    assert waiting(walk) == {"alerta_vencimiento": "2026-04-01 22:30",
                             "recordatorio_consulta": "2026-04-08 22:30", "espera_vencida": "2026-04-22 22:30"}
    walk.later(days=4)
    receipt = reply(walk, "consulta_solicitud", ANSWER, pdf="cobertura.pdf")
    assert message_state(svc, receipt["message_id"])["state"] == "delivered"
    assert walk.ready() == ["preparar_respuesta"]
    assert set(waiting(walk)) == {"alerta_vencimiento"}
    answer = walk.data["respuesta_institucion"]
    assert (answer["respuesta"], answer["institucion"], len(answer["documentos"])) == (ANSWER, "otra", 1)
    assert "consulta_sin_respuesta" not in walk.data

    walk.complete("preparar_respuesta", RESPUESTA, actor="tramite1")
    assert walk.ready() == ["firmar_oficio_respuesta"]
    answer_and_send(walk)
    assert walk.state == "completed"
    assert walk.route == ["emitir_providencia", "preparar_respuesta", "preparar_respuesta", "firmar_oficio_respuesta",
                          "registrar_envio"]
    [*_, consulta, reply_oficio] = assert_documents(
        walk,
        ("providencia", "PROV-GDCH-2026-0001", PROVIDENCIA_PARTS),
        ("oficio", "OF-GDCH-2026-0001", ["Otra institución pública", CONSULTA["consulta_asunto"],
                                         "22 de abril de 2026"]),
        ("oficio", "OF-GDCH-2026-0002", REPLY_PARTS))
    assert "Por la Gobernación Departamental" in consulta["text"]
    assert "institution_answered" in walk.history() and "message_received" in walk.history()


def test_the_consultation_oficio_does_not_cite_the_received_oficios_reference(svc, clock):
    walk = consult(svc, clock)
    [*_, consulta] = assert_documents(walk, ("providencia", "PROV-GDCH-2026-0001", PROVIDENCIA_PARTS),
                                      ("oficio", "OF-GDCH-2026-0001", [CONSULTA["consulta_asunto"]]))
    assert "245-2026" not in consulta["text"]  # the received oficio's reference is the reply's


def test_an_answer_given_before_the_case_waits_is_kept_and_taken_when_it_does(svc, clock):
    """Early: the answer's message is committed while the case is still inside the step that asked (here: the
    request is answered, then the case is found waiting); a message to the same request posted before the request
    existed is pending until its key appears."""
    walk = start(svc, clock, oficio_recibido="2026-03-20T10:00:00-06:00")
    walk.complete("emitir_providencia", PROVIDENCIA, actor="tramite1")
    early = messaging.post_message(svc, SYSTEM, "respuesta_consulta", {"caso": walk.id},
                                   {"respuesta": "Adelantamos los datos por teléfono.", "institucion": "otra"})
    assert early["state"] == "pending" and walk.case.number in early["reason"]
    clock.now = utc(2026, 3, 23, 16)
    walk.complete("preparar_respuesta", CONSULTA, actor="tramite1")
    # The consultation reached its wait: the early answer was delivered at once and the unit has the case again.
    assert walk.ready() == ["preparar_respuesta"]
    assert walk.data["respuesta_institucion"]["respuesta"] == "Adelantamos los datos por teléfono."
    assert message_state(svc, early["id"])["state"] == "delivered"
    assert waits(svc, walk.id) == [("recibir_respuesta_institucion", "respuesta_consulta", "delivered")]


def test_silent_institution_gets_a_reminder_then_the_wait_expires(svc, clock):
    walk = consult(svc, clock)
    walk.at(utc(2026, 4, 1, 22, 31))  # the reply deadline's own alert (Tue 7 Apr − 2 working days)
    walk.complete("atender_alerta", {"alerta_accion": "Se espera la respuesta del Área de Salud."})

    walk.at(utc(2026, 4, 8, 22, 29))
    assert walk.ready() == []
    walk.at(utc(2026, 4, 8, 22, 31))
    assert walk.ready() == ["enviar_recordatorio"]
    walk.complete("enviar_recordatorio", {"recordatorio_oficios": [RECORDATORIO], "recordatorio_medio": "correo_electronico",
                                          "recordatorio_fecha": "2026-04-09"}, actor="tramite1")
    assert walk.ready() == []

    walk.at(utc(2026, 4, 22, 22, 29))
    assert walk.ready() == []
    walk.at(utc(2026, 4, 22, 22, 31))
    assert walk.ready() == ["preparar_respuesta"]
    assert waiting(walk) == {}
    assert waits(svc, walk.id)[-1][2] != "waiting"  # the wait closed with the timer

    # The institution answers after all, within its link's grace: the answer is kept, but no step waits for it any
    # more (the unit goes on without it): it stays pending, listed for the supervisors, with the reason.
    late = reply(walk, "consulta_solicitud", "Perdón por la demora: remitimos el cuadro.")
    kept = message_state(svc, late["message_id"])
    assert kept["state"] == "pending" and kept["reason"]
    assert late["message_id"] in {m["id"] for m in messaging.list_messages(svc, SYSTEM, state="pending")["items"]}
    assert "respuesta_institucion" not in walk.data

    walk.complete("preparar_respuesta", RESPUESTA, actor="tramite1")
    # (Read after the unit's step: with parallel branches the case data shows the last finished branch.)
    assert walk.data["consulta_sin_respuesta"] is True
    answer_and_send(walk)
    assert walk.state == "completed"
    assert walk.history().count("timer_fired") == 3
    assert_documents(
        walk,
        ("providencia", "PROV-GDCH-2026-0001", PROVIDENCIA_PARTS),
        ("oficio", "OF-GDCH-2026-0001", ["Otra institución pública"]),
        ("oficio", "OF-GDCH-2026-0002", ["Recordatorio de consulta pendiente", "Reitero la solicitud"]),
        ("oficio", "OF-GDCH-2026-0003", REPLY_PARTS))
    # Nobody waits for it ever again: past the keeping time of early messages it becomes undeliverable.
    clock.advance(days=svc.settings.message_pending_days + 1)
    delivery.deliver_queued(svc, sweep=True)
    gone = message_state(svc, late["message_id"])
    assert gone["state"] == "undeliverable" and gone["reason"]


def test_reply_draft_is_required_unless_a_consultation_is_needed(svc, clock):
    walk = start(svc, clock)
    walk.complete("emitir_providencia", PROVIDENCIA)
    with pytest.raises(Exception) as refused:
        walk.complete("preparar_respuesta", {"respuesta_requiere_consulta": False})
    assert [e["field"] for e in refused.value.details["errors"]] == ["oficio_cuerpo"]
    assert walk.ready() == ["preparar_respuesta"]
