"""Messages into waiting cases: correlation, early arrival, undeliverable ones, between cases, signals."""
from __future__ import annotations

import orjson
import pytest

from engine.errors import InvalidInput
from engine.usecases import case_messages, cases, delivery, messaging, tasks
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM
from tests.task_rows import task_rows

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')


def diagram(process_id: str, body: str, messages: str = "", signals: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="defs_{process_id}" targetNamespace="http://expediente.gt/test">
  {messages}{signals}
  <bpmn:process id="{process_id}" name="Proceso {process_id}" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>""".encode()


def props(**values) -> str:
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties>" \
           "</bpmn:extensionElements>"


# Waits at a clerk's task first, then for the message "respuesta" keyed by the data field `ref`.
ESPERA = diagram("espera", f"""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="preparar"/>
    <bpmn:userTask id="preparar" name="Preparar"/>
    <bpmn:sequenceFlow id="f2" sourceRef="preparar" targetRef="recibir"/>
    <bpmn:intermediateCatchEvent id="recibir" name="Recibir respuesta">
      {props(correlacion="solicitud=ref")}
      <bpmn:messageEventDefinition messageRef="m_respuesta"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="recibir" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar respuesta"/>
    <bpmn:sequenceFlow id="f4" sourceRef="revisar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", messages='<bpmn:message id="m_respuesta" name="respuesta"/>')

# Sends "consulta" (which starts a case of `consultado`), then waits for "contestacion" addressed to itself.
CONSULTA = diagram("consulta", """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enviar"/>
    <bpmn:intermediateThrowEvent id="enviar" name="Enviar consulta">
      <bpmn:messageEventDefinition messageRef="m_consulta"><bpmn:extensionElements>
        <spiffworkflow:messagePayload>{"pregunta": pregunta}</spiffworkflow:messagePayload>
      </bpmn:extensionElements></bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="enviar" targetRef="esperar"/>
    <bpmn:intermediateCatchEvent id="esperar" name="Esperar contestación">
      <bpmn:messageEventDefinition messageRef="m_contestacion"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="esperar" targetRef="leer"/>
    <bpmn:userTask id="leer" name="Leer contestación"/>
    <bpmn:sequenceFlow id="f4" sourceRef="leer" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", messages="""<bpmn:message id="m_consulta" name="consulta"/>
  <bpmn:message id="m_contestacion" name="contestacion"/>""")

CONSULTADO = diagram("consultado", f"""
    <bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="m_consulta"/></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="contestar"/>
    <bpmn:userTask id="contestar" name="Contestar consulta"/>
    <bpmn:sequenceFlow id="f2" sourceRef="contestar" targetRef="devolver"/>
    <bpmn:intermediateThrowEvent id="devolver" name="Devolver contestación">
      {props(correlacion="caso=caso")}
      <bpmn:messageEventDefinition messageRef="m_contestacion"><bpmn:extensionElements>
        <spiffworkflow:messagePayload>{{"caso": origen["caso"], "texto": texto}}</spiffworkflow:messagePayload>
      </bpmn:extensionElements></bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="devolver" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", messages="""<bpmn:message id="m_consulta" name="consulta"/>
  <bpmn:message id="m_contestacion" name="contestacion"/>""")

CIERRE = diagram("cierre", """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="atender"/>
    <bpmn:userTask id="atender" name="Atender"/>
    <bpmn:boundaryEvent id="emergencia" attachedToRef="atender" cancelActivity="true">
      <bpmn:signalEventDefinition signalRef="s_cierre"/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="atender" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="emergencia" targetRef="suspendido"/>
    <bpmn:userTask id="suspendido" name="Atender tras el cierre de emergencia"/>
    <bpmn:sequenceFlow id="f4" sourceRef="suspendido" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", signals='<bpmn:signal id="s_cierre" name="cierre_emergencia"/>')


def ready(svc, case_id):
    return [t["element_id"] for t in task_rows(svc, case_id)]


def task_id(svc, case_id, element):
    return next(t["id"] for t in task_rows(svc, case_id) if t["element_id"] == element)


def case_data(svc, case_id):
    return cases.case_data(svc, SYSTEM, case_id)


def history_kinds(svc, case_id):
    return [e["kind"] for e in cases.case_history(svc, SYSTEM, case_id)]


def test_a_message_reaches_the_case_whose_catch_matches_its_keys_and_only_it(svc):
    deploy_files(svc, {"espera.bpmn": ESPERA})
    a = cases.start_case(svc, SYSTEM, "espera", {"ref": "A-1"})
    b = cases.start_case(svc, SYSTEM, "espera", {"ref": "B-2"})
    for case in (a, b):
        tasks.complete_task(svc, SYSTEM, task_id(svc, case.id, "preparar"), {})
    sent = messaging.post_message(svc, SYSTEM, "respuesta", {"solicitud": "B-2"}, {"dictamen": "favorable"})
    assert sent["state"] == "delivered"
    assert [c["case_id"] for c in sent["cases"]] == [b.id]
    assert ready(svc, b.id) == ["revisar"] and case_data(svc, b.id)["dictamen"] == "favorable"
    assert ready(svc, a.id) == [] and "dictamen" not in case_data(svc, a.id)
    assert "message_received" in history_kinds(svc, b.id)
    # The same keys again: b no longer waits, a does not match: it waits as early (b's procedure has the catch).
    again = messaging.post_message(svc, SYSTEM, "respuesta", {"caso": b.id}, {"dictamen": "otro"})
    assert again["state"] == "pending"
    assert case_data(svc, b.id)["dictamen"] == "favorable"


def test_a_message_that_arrives_early_waits_and_is_delivered_when_the_case_reaches_its_catch(svc):
    deploy_files(svc, {"espera.bpmn": ESPERA})
    case = cases.start_case(svc, SYSTEM, "espera", {"ref": "X-9"})
    early = messaging.post_message(svc, SYSTEM, "respuesta", {"solicitud": "X-9"}, {"dictamen": "anticipado"})
    assert early["state"] == "pending" and early["reason"]
    tasks.complete_task(svc, SYSTEM, task_id(svc, case.id, "preparar"), {})
    assert ready(svc, case.id) == ["revisar"]
    assert case_data(svc, case.id)["dictamen"] == "anticipado"
    assert messaging.get_message(svc, SYSTEM, early["id"])["state"] == "delivered"


def test_messages_that_can_never_match_are_undeliverable_with_the_reason_and_can_be_discarded(svc):
    deploy_files(svc, {"espera.bpmn": ESPERA})
    unknown = messaging.post_message(svc, SYSTEM, "nadie_lo_espera", {"solicitud": "Z"}, {})
    missing = messaging.post_message(svc, SYSTEM, "respuesta", {"expediente": "NO-EXISTE"}, {})
    assert unknown["state"] == missing["state"] == "undeliverable"
    assert "nadie_lo_espera" in unknown["reason"] and "NO-EXISTE" in missing["reason"]
    listed = messaging.list_messages(svc, SYSTEM, state="undeliverable")["items"]
    assert {m["id"] for m in listed} == {unknown["id"], missing["id"]}
    discarded = messaging.discard_message(svc, SYSTEM, unknown["id"], "prueba")
    assert discarded["state"] == "discarded"
    retried = messaging.retry_message(svc, SYSTEM, missing["id"])
    assert retried["state"] == "undeliverable"  # still no such case


@pytest.mark.parametrize("name,correlation,payload,field", [
    ("", {"caso": 1}, {}, "name"),
    ("x", {}, {}, "correlation"),
    ("x", ["caso"], {}, "correlation"),
    ("x", {"caso": {"a": 1}}, {}, "correlation.caso"),
    ("x", {"caso": 1}, [], "payload"),
])
def test_bad_messages_are_refused_naming_the_field_and_nothing_is_stored(svc, name, correlation, payload, field):
    with pytest.raises(InvalidInput) as err:
        messaging.post_message(svc, SYSTEM, name, correlation, payload)
    assert err.value.errors[0]["field"] == field
    assert messaging.list_messages(svc, SYSTEM)["items"] == []


def test_a_case_starts_another_by_message_and_its_reply_comes_back_linking_both(svc):
    deploy_files(svc, {"consulta.bpmn": CONSULTA, "consultado.bpmn": CONSULTADO})
    asking = cases.start_case(svc, SYSTEM, "consulta", {"pregunta": "¿Es competente?"})
    [link] = case_messages.case_messages(svc, SYSTEM, asking.id)["links"]
    assert link["direction"] == "derivado" and link["kind"] == "started"
    asked = link["case_id"]
    data = case_data(svc, asked)
    assert data["pregunta"] == "¿Es competente?" and data["origen"]["caso"] == asking.id
    assert ready(svc, asked) == ["contestar"]
    tasks.complete_task(svc, SYSTEM, task_id(svc, asked, "contestar"), {"texto": "No es competente"})
    assert ready(svc, asking.id) == ["leer"]
    assert case_data(svc, asking.id)["texto"] == "No es competente"
    kinds = {(l["direction"], l["case_id"]) for l in case_messages.case_messages(svc, SYSTEM, asking.id)["links"]}
    assert kinds == {("derivado", asked), ("origen", asked)}
    assert "message_sent" in history_kinds(svc, asked) and "message_sent" in history_kinds(svc, asking.id)


def test_a_step_that_rolls_back_sends_nothing(svc, monkeypatch):
    deploy_files(svc, {"consulta.bpmn": CONSULTA, "consultado.bpmn": CONSULTADO})
    asking = cases.start_case(svc, SYSTEM, "consulta", {"pregunta": "?"})
    asked = case_messages.case_messages(svc, SYSTEM, asking.id)["links"][0]["case_id"]
    sent_before = len(messaging.list_messages(svc, SYSTEM)["items"])

    def broken(conn, rows):
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(tasks, "append_events", broken)
    with pytest.raises(RuntimeError):
        tasks.complete_task(svc, SYSTEM, task_id(svc, asked, "contestar"), {"texto": "perdido"})
    monkeypatch.undo()
    assert len(messaging.list_messages(svc, SYSTEM)["items"]) == sent_before
    assert ready(svc, asking.id) == [] and ready(svc, asked) == ["contestar"]
    tasks.complete_task(svc, SYSTEM, task_id(svc, asked, "contestar"), {"texto": "enviado"})
    assert ready(svc, asking.id) == ["leer"] and case_data(svc, asking.id)["texto"] == "enviado"


def test_a_signal_reaches_every_waiting_case_of_its_procedure(svc):
    deploy_files(svc, {"cierre.bpmn": CIERRE})
    started = [cases.start_case(svc, SYSTEM, "cierre") for _ in range(3)]
    sent = messaging.broadcast_signal(svc, SYSTEM, "cierre_emergencia", "cierre", {"motivo": "tormenta"})
    assert sent["state"] == "delivered"
    for case in started:
        assert ready(svc, case.id) == ["suspendido"]
        assert case_data(svc, case.id)["motivo"] == "tormenta"


def test_the_wait_rows_follow_the_workflow(svc):
    deploy_files(svc, {"espera.bpmn": ESPERA})
    case = cases.start_case(svc, SYSTEM, "espera", {"ref": "K"})
    tasks.complete_task(svc, SYSTEM, task_id(svc, case.id, "preparar"), {})
    with svc.uow(write=False) as uow:
        [row] = uow.conn.exec_driver_sql(
            f"SELECT element_id, name, keys_json, state FROM message_waits WHERE case_id = {case.id}").all()
    assert (row[0], row[1], orjson.loads(row[2]), row[3]) == ("recibir", "respuesta", {"solicitud": "K"}, "waiting")


def test_a_message_for_a_cancelled_case_is_undeliverable_and_one_for_a_suspended_case_waits(svc):
    deploy_files(svc, {"espera.bpmn": ESPERA})
    gone = cases.start_case(svc, SYSTEM, "espera", {"ref": "C-1"})
    paused = cases.start_case(svc, SYSTEM, "espera", {"ref": "S-1"})
    for case in (gone, paused):
        tasks.complete_task(svc, SYSTEM, task_id(svc, case.id, "preparar"), {})
    cases.change_case_state(svc, SYSTEM, gone.id, "cancel", "desistimiento")
    cases.change_case_state(svc, SYSTEM, paused.id, "suspend", "revisión")
    to_gone = messaging.post_message(svc, SYSTEM, "respuesta", {"caso": gone.id}, {})
    to_paused = messaging.post_message(svc, SYSTEM, "respuesta", {"caso": paused.id}, {"dictamen": "tarde"})
    assert to_gone["state"] == "undeliverable" and gone.number in to_gone["reason"]
    assert to_paused["state"] == "pending" and paused.number in to_paused["reason"]
    cases.change_case_state(svc, SYSTEM, paused.id, "resume", "sigue")
    from engine.ops.scheduler import run_pass
    assert run_pass(svc).messages_delivered == 1
    assert ready(svc, paused.id) == ["revisar"] and case_data(svc, paused.id)["dictamen"] == "tarde"


def test_an_early_message_not_claimed_in_time_becomes_undeliverable(svc, clock):
    deploy_files(svc, {"espera.bpmn": ESPERA})
    cases.start_case(svc, SYSTEM, "espera", {"ref": "T-1"})
    early = messaging.post_message(svc, SYSTEM, "respuesta", {"solicitud": "T-1"}, {})
    assert early["state"] == "pending"
    clock.advance(days=svc.settings.message_pending_days + 1)
    delivery.deliver_queued(svc, sweep=True)
    late = messaging.get_message(svc, SYSTEM, early["id"])
    assert late["state"] == "undeliverable" and late["reason"]


PRINCIPAL = diagram("principal", """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="llamar"/>
    <bpmn:callActivity id="llamar" calledElement="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="llamar" targetRef="despues"/>
    <bpmn:userTask id="despues" name="Después"/>
    <bpmn:sequenceFlow id="f3" sourceRef="despues" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""")
SUB = diagram("sub", """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="esperar"/>
    <bpmn:intermediateCatchEvent id="esperar"><bpmn:messageEventDefinition messageRef="m_hola"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="esperar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", messages='<bpmn:message id="m_hola" name="hola"/>')
# Whichever comes first: the answer, or 30 days.
CARRERA = diagram("carrera", """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="g"/>
    <bpmn:eventBasedGateway id="g"/>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="respuesta"/>
    <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="plazo"/>
    <bpmn:intermediateCatchEvent id="respuesta"><bpmn:messageEventDefinition messageRef="m_r"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="plazo"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>"P30D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="respuesta" targetRef="leer"/>
    <bpmn:userTask id="leer" name="Leer"/>
    <bpmn:sequenceFlow id="f5" sourceRef="leer" targetRef="end"/>
    <bpmn:sequenceFlow id="f6" sourceRef="plazo" targetRef="reclamar"/>
    <bpmn:userTask id="reclamar" name="Reclamar"/>
    <bpmn:sequenceFlow id="f7" sourceRef="reclamar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", messages='<bpmn:message id="m_r" name="respuesta_carrera"/>')


def test_a_catch_inside_a_called_subprocess_receives_its_message(svc):
    deploy_files(svc, {"principal.bpmn": PRINCIPAL, "sub.bpmn": SUB})
    case = cases.start_case(svc, SYSTEM, "principal")
    sent = messaging.post_message(svc, SYSTEM, "hola", {"caso": case.id}, {"saludo": "buenos días"})
    assert sent["state"] == "delivered"
    assert ready(svc, case.id) == ["despues"] and case_data(svc, case.id)["saludo"] == "buenos días"


def test_at_an_event_based_gateway_the_message_takes_its_own_branch_and_cancels_the_timer(svc):
    deploy_files(svc, {"carrera.bpmn": CARRERA})
    case = cases.start_case(svc, SYSTEM, "carrera")
    sent = messaging.post_message(svc, SYSTEM, "respuesta_carrera", {"caso": case.id}, {"texto": "a tiempo"})
    assert sent["state"] == "delivered"
    assert ready(svc, case.id) == ["leer"] and case_data(svc, case.id)["texto"] == "a tiempo"
    with svc.uow(write=False) as uow:
        states = [r[0] for r in uow.conn.exec_driver_sql(f"SELECT state FROM timers WHERE case_id = {case.id}")]
    assert states == ["cancelled"]


AVISO = diagram("aviso", """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="anunciar"/>
    <bpmn:intermediateThrowEvent id="anunciar" name="Anunciar el cierre de emergencia">
      <bpmn:signalEventDefinition signalRef="s_cierre"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="anunciar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", signals='<bpmn:signal id="s_cierre" name="cierre_emergencia"/>')


def test_a_signal_thrown_by_a_case_reaches_the_cases_waiting_for_it(svc):
    deploy_files(svc, {"cierre.bpmn": CIERRE})
    deploy_files(svc, {"aviso.bpmn": AVISO})
    waiting = [cases.start_case(svc, SYSTEM, "cierre") for _ in range(2)]
    notice = cases.start_case(svc, SYSTEM, "aviso", {"motivo": "sismo"})
    assert notice.state == "completed"
    for case in waiting:
        assert ready(svc, case.id) == ["suspendido"]
    [sent] = [m for m in messaging.list_messages(svc, SYSTEM)["items"] if m["kind"] == "signal"]
    assert (sent["state"], sent["source_case_id"]) == ("delivered", notice.id)


def test_cases_that_waited_before_messages_existed_get_their_waits_once(svc):
    deploy_files(svc, {"espera.bpmn": ESPERA})
    case = cases.start_case(svc, SYSTEM, "espera", {"ref": "OLD"})
    tasks.complete_task(svc, SYSTEM, task_id(svc, case.id, "preparar"), {})
    with svc.uow() as uow:  # as an office that upgraded finds it: the case waits, no row says so
        uow.conn.exec_driver_sql("DELETE FROM message_waits")
        uow.commit()
    assert delivery.backfill_waits(svc) == 1
    assert delivery.backfill_waits(svc) == 0  # once
    sent = messaging.post_message(svc, SYSTEM, "respuesta", {"solicitud": "OLD"}, {"dictamen": "al fin"})
    assert sent["state"] == "delivered" and ready(svc, case.id) == ["revisar"]


def test_a_payload_kept_on_the_event_as_the_modeler_writes_it_is_sent(svc):
    """SpiffWorkflow reads a throw event's payload only inside its messageEventDefinition; the modeler writes it
    among the event's own extension elements. Both must send it."""
    modeler_style = CONSULTA.replace(
        b"""<bpmn:intermediateThrowEvent id="enviar" name="Enviar consulta">
      <bpmn:messageEventDefinition messageRef="m_consulta"><bpmn:extensionElements>
        <spiffworkflow:messagePayload>{"pregunta": pregunta}</spiffworkflow:messagePayload>
      </bpmn:extensionElements></bpmn:messageEventDefinition>""",
        b"""<bpmn:intermediateThrowEvent id="enviar" name="Enviar consulta">
      <bpmn:extensionElements>
        <spiffworkflow:messagePayload>{"pregunta": pregunta}</spiffworkflow:messagePayload>
      </bpmn:extensionElements>
      <bpmn:messageEventDefinition messageRef="m_consulta"/>""")
    assert modeler_style != CONSULTA
    deploy_files(svc, {"consulta.bpmn": modeler_style, "consultado.bpmn": CONSULTADO})
    asking = cases.start_case(svc, SYSTEM, "consulta", {"pregunta": "¿Dónde?"})
    [link] = case_messages.case_messages(svc, SYSTEM, asking.id)["links"]
    assert case_data(svc, link["case_id"])["pregunta"] == "¿Dónde?"


def test_nobody_but_a_sending_case_can_say_where_a_case_came_from(svc):
    deploy_files(svc, {"consulta.bpmn": CONSULTA, "consultado.bpmn": CONSULTADO})
    with pytest.raises(InvalidInput) as err:
        cases.start_case(svc, SYSTEM, "consultado", {"origen": {"caso": 1}})
    assert err.value.errors[0]["field"] == "data.origen"
    # A message from outside that starts a case cannot forge it either: it is dropped.
    messaging.post_message(svc, SYSTEM, "consulta", {"solicitud": "externa"},
                           {"pregunta": "?", "origen": {"caso": 1}})
    [started] = [c for c in cases.list_cases(svc, SYSTEM)["items"] if c["process_key"] == "consultado"]
    assert "origen" not in case_data(svc, started["id"])


def test_a_database_failure_while_delivering_leaves_the_message_queued_for_the_next_pass(svc, monkeypatch):
    from sqlalchemy.exc import OperationalError
    deploy_files(svc, {"espera.bpmn": ESPERA})
    case = cases.start_case(svc, SYSTEM, "espera", {"ref": "DB"})
    tasks.complete_task(svc, SYSTEM, task_id(svc, case.id, "preparar"), {})
    real = delivery.deliver_one

    def broken(*args, **kwargs):
        raise OperationalError("UPDATE cases ...", {}, Exception("disk I/O error"))
    monkeypatch.setattr(delivery, "deliver_one", broken)
    sent = messaging.post_message(svc, SYSTEM, "respuesta", {"solicitud": "DB"}, {"dictamen": "tarde"})
    assert sent["state"] == "queued"  # neither lost nor set aside as undeliverable
    monkeypatch.setattr(delivery, "deliver_one", real)
    assert delivery.deliver_queued(svc) == 1
    assert ready(svc, case.id) == ["revisar"]
