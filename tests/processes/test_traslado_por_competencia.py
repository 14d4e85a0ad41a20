"""A petition the office is not competent for opens the forwarding correspondence (D1) by message, and D1's
notice of the sent oficio comes back into the waiting petition (processes/solicitud_ciudadana.bpmn,
processes/correspondencia_oficial.bpmn): the notice arriving on time, early (posted before the petition waits)
and never (the D1 case is cancelled: the petition's 30-day deadline passes while it waits).

The petition is filed Mon 2 Mar 2026 at 09:00: 30 working days from Tue 3 Mar, skipping Holy Thursday and Friday
(2-3 Apr), end Wed 15 Apr 2026 at 16:30 (22:30 UTC). Its competence is decided Wed 4 Mar: a fresh 30 days from
then would end Fri 17 Apr; the oficio inherits 15 Apr instead.
"""
from __future__ import annotations

import pytest

from engine.errors import FormInvalid
from engine.usecases import cases, messaging
from tests.conftest import SYSTEM
from tests.processes.case_documents import assert_documents
from tests.processes.driver import Walk, closing, local, office
from tests.processes.test_correspondencia_oficial import ENVIO, PROVIDENCIA, RESPUESTA
from tests.processes.test_solicitud_ciudadana import alertas, competencia, notify, start

RENAP = "Registro Nacional de las Personas (RENAP)"
PETITION_DEADLINE = "2026-04-15T22:30:00+00:00"
NOTICE = "oficio_traslado_enviado"
FIRMA = {"oficio_destinatario": "Director del RENAP en Chimaltenango", "oficio_cargo": "Director",
         "oficio_institucion": RENAP, "oficio_asunto": "Traslado por competencia: Presupuesto de la Gobernación 2026",
         "oficio_cuerpo": RESPUESTA["oficio_cuerpo"]}


def not_competent(svc) -> tuple[Walk, Walk]:
    """A petition decided not competent on Wed 4 Mar, and the D1 case it opened."""
    petition = start(svc, local(2026, 3, 2, 9), "otro")
    petition.at(local(2026, 3, 4, 10))
    competencia(petition, competente=False)
    [link] = links(svc, petition.id)
    assert (link["direction"], link["kind"], link["process_key"], link["message_name"]) == \
        ("derivado", "started", "correspondencia_oficial", "traslado_por_competencia")
    return petition, Walk.of(svc, link["case_id"])


def send_oficio(d1: Walk, at) -> None:
    d1.complete("emitir_providencia", PROVIDENCIA, actor="juridico1")
    d1.complete("preparar_respuesta", RESPUESTA, actor="juridico1")
    d1.at(at)
    d1.complete("firmar_oficio_respuesta", FIRMA, actor="gobernador")
    d1.complete("registrar_envio", ENVIO, actor="ventanilla1")


def links(svc, case_id) -> list[dict]:
    with svc.uow(write=False) as uow:
        return messaging.linked_cases(uow.conn, case_id)


def waits(svc, case_id) -> list[tuple]:
    with svc.uow(write=False) as uow:
        return [tuple(r) for r in uow.conn.exec_driver_sql(
            f"SELECT element_id, name, state FROM message_waits WHERE case_id = {int(case_id)} ORDER BY id").all()]


def test_the_oficio_opened_by_the_petition_inherits_its_deadline_and_its_notice_comes_back_on_time(svc):
    petition, d1 = not_competent(svc)
    assert petition.ready() == [] and petition.state == "running"
    assert petition.data["peticion_fecha_limite"] == PETITION_DEADLINE
    assert waits(svc, petition.id) == [("peticion_esperar_traslado", NOTICE, "waiting")]
    # The D1 case: filled from the petition, linked to it, with what remains of the petition's deadline.
    data = d1.data
    assert data["origen"]["caso"] == petition.id and data["origen"]["proceso"] == "solicitud_ciudadana"
    assert data["origen"]["expediente"] == petition.case.number
    # origen["vence"] is the earliest due date of the petition's open tasks: it has none while it waits for
    # the oficio, so the deadline travels in the message (oficio_vencimiento_heredado).
    assert data["origen"]["vence"] is None
    assert data["oficio_expediente_vinculado"] == petition.case.number
    assert (data["oficio_institucion"], data["oficio_unidad_responsable"]) == (RENAP, "juridico")
    assert (data["oficio_vencimiento"], data["oficio_plazo_origen"]) == (PETITION_DEADLINE, "heredado")
    assert data["oficio_alerta"] == closing(2026, 4, 13).isoformat()
    assert d1.ready() == ["emitir_providencia"]
    [back] = links(svc, d1.id)
    assert (back["direction"], back["case_id"]) == ("origen", petition.id)

    send_oficio(d1, local(2026, 4, 7, 10))
    assert d1.state == "completed"
    # The notice arrived: the petition goes on to notify the citizen where the petition went.
    assert petition.ready() == ["notificar_interesado"]
    notice = petition.data["traslado"]
    assert notice["oficio"]["numero"] == d1.data["documento_oficio"]["numero"] == "OF-GDCH-2026-0001"
    assert (notice["institucion"], notice["medio"]) == (RENAP, ENVIO["envio_medio"])
    assert waits(svc, petition.id) == [("peticion_esperar_traslado", NOTICE, "delivered")]
    assert "message_received" in petition.history() and "message_sent" in d1.history()
    notify(petition, local(2026, 4, 8, 12), notificacion_acto=f"Oficio de traslado número {notice['oficio']['numero']}")
    assert petition.state == "completed"
    assert alertas(petition) == []  # sent before the deadline
    assert_documents(d1, ("providencia", "PROV-GDCH-2026-0001", []),
                     ("oficio", "OF-GDCH-2026-0001", [RENAP, "Traslado por competencia"]))
    both = {(l["direction"], l["kind"], l["case_id"]) for l in links(svc, petition.id)}
    assert both == {("derivado", "started", d1.id), ("origen", "continued", d1.id)}


def test_a_notice_posted_before_the_petition_waits_is_kept_and_delivered_when_it_reaches_the_wait(svc):
    petition = start(svc, local(2026, 3, 2, 9), "otro")
    # Posted by a supervisor while the petition is still at the competence decision.
    early = messaging.post_message(svc, SYSTEM, NOTICE, {"caso": petition.id},
                                   {"oficio": {"numero": "OF-MANUAL-1"}, "institucion": RENAP})
    assert early["state"] == "pending" and petition.case.number in early["reason"]
    petition.at(local(2026, 3, 4, 10))
    competencia(petition, competente=False)
    # It reached the wait: the early notice is delivered at once.
    assert petition.ready() == ["notificar_interesado"]
    assert petition.data["traslado"]["oficio"]["numero"] == "OF-MANUAL-1"
    assert messaging.get_message(svc, SYSTEM, early["id"])["state"] == "delivered"
    # The D1 case it opened runs on; its own notice, at its end, finds the petition no longer waiting.
    d1 = Walk.of(svc, links(svc, petition.id)[0]["case_id"])
    notify(petition, local(2026, 3, 5, 12))
    assert petition.state == "completed"
    send_oficio(d1, local(2026, 3, 9, 10))
    assert d1.state == "completed"
    [late] = [m for m in messaging.list_messages(svc, SYSTEM, case_id=d1.id)["items"] if m["name"] == NOTICE]
    assert late["state"] == "undeliverable" and petition.case.number in late["reason"]
    assert late["id"] in {m["id"] for m in messaging.list_messages(svc, SYSTEM, state="undeliverable")["items"]}


def test_no_notice_ever_the_deadline_alert_is_recorded_and_the_petition_keeps_waiting(svc):
    petition, d1 = not_competent(svc)
    cases.change_case_state(svc, SYSTEM, d1.id, "cancel", "Abierto por error: se trasladó por otra vía")
    assert d1.state == "cancelled"
    petition.at(closing(2026, 4, 15))
    assert alertas(petition) == []
    petition.at(local(2026, 4, 16, 9))
    assert [a["tipo"] for a in alertas(petition)] == ["peticion_plazo_vencido"]
    assert alertas(petition)[0]["fecha_limite"] == PETITION_DEADLINE
    # The timer does not interrupt: the petition still waits, visibly (its wait row), with no task for anyone.
    assert petition.ready() == [] and petition.state == "running"
    assert waits(svc, petition.id) == [("peticion_esperar_traslado", NOTICE, "waiting")]
    # A notice that comes late (here a supervisor's, after the oficio was sent by other means) is still taken.
    late = messaging.post_message(svc, SYSTEM, NOTICE, {"caso": petition.id},
                                  {"oficio": {"numero": "OF-GDCH-2026-0099"}, "institucion": RENAP})
    assert late["state"] == "delivered"
    assert petition.ready() == ["notificar_interesado"]


def test_a_d1_oficio_registered_at_the_desk_is_unchanged_by_the_message_start(svc, clock):
    from tests.processes.test_correspondencia_oficial import INTAKE
    clock.now = local(2026, 3, 2, 10)
    d1 = Walk(svc, "correspondencia_oficial", INTAKE, actor="ventanilla1")
    assert d1.ready() == ["emitir_providencia"]
    assert waits(svc, d1.id) == []  # the message start was set aside when the desk's start fired
    assert (d1.data["oficio_plazo_origen"], d1.data["oficio_caso_origen"]) == ("oficio", None)
    assert links(svc, d1.id) == [] and messaging.list_messages(svc, SYSTEM, case_id=d1.id)["items"] == []
    # The desk's intake form still applies with two start events (it is found past SpiffWorkflow's start split).
    with pytest.raises(FormInvalid) as refused:
        Walk(svc, "correspondencia_oficial", {k: v for k, v in INTAKE.items() if k != "oficio_asunto"})
    assert [e["field"] for e in refused.value.errors] == ["oficio_asunto"]


def test_the_forwarding_round_trip_on_both_backends(database_url, clock):
    svc = office(database_url, clock)
    try:
        petition, d1 = not_competent(svc)
        assert d1.data["oficio_vencimiento"] == PETITION_DEADLINE
        send_oficio(d1, local(2026, 4, 7, 10))
        assert d1.state == "completed" and petition.ready() == ["notificar_interesado"]
        assert petition.data["traslado"]["oficio"]["numero"] == "OF-GDCH-2026-0001"
        assert {(l["direction"], l["case_id"]) for l in links(svc, petition.id)} == {("derivado", d1.id),
                                                                                      ("origen", d1.id)}
    finally:
        svc.db.dispose()
