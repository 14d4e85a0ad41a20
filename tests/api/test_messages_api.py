"""POST /api/messages and /api/signals, the supervisors' list, retry and discard: correlation by case, number and
declared keys; a message that arrives early waits (pending) and is delivered when the case reaches its catch; one
nothing can take is kept as undeliverable with its reason; bad input names its field; who may do what."""
from __future__ import annotations

import time

import pytest

from engine.usecases import cases, delivery, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions
from tests.conftest import principal_for
from tests.task_rows import task_rows

OWNER = principal_for("oficial1", role="clerk", groups=("ventanilla",))
DEADLINE_SECONDS = 30.0

# Ventanilla prepares; the case then waits for «respuesta» (keys: its id, number, and «solicitud» read in its data),
# and Ventanilla reviews what arrived.
WAITING = definitions("""
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla"><bpmn:flowNodeRef>preparar</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>revisar</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="preparar"/>
    <bpmn:userTask id="preparar" name="Preparar oficio"/>
    <bpmn:sequenceFlow id="f2" sourceRef="preparar" targetRef="esperar"/>
    <bpmn:intermediateCatchEvent id="esperar" name="Esperar respuesta">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="correlacion" value="solicitud"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:messageEventDefinition messageRef="msg_respuesta"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="esperar" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar respuesta"/>
    <bpmn:sequenceFlow id="f4" sourceRef="revisar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "espera_respuesta", "Espera de respuesta").replace(
    b'<bpmn:process id="espera_respuesta"',
    b'<bpmn:message id="msg_respuesta" name="respuesta"/>\n'
    b'  <bpmn:signal id="sig_cierre" name="cierre_emergencia"/>\n'
    b'  <bpmn:process id="espera_respuesta"')

# Waits for the emergency-closure signal, then Ventanilla archives.
SIGNALLED = definitions("""
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla"><bpmn:flowNodeRef>archivar</bpmn:flowNodeRef>
      </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="cierre"/>
    <bpmn:intermediateCatchEvent id="cierre" name="Cierre de emergencia">
      <bpmn:signalEventDefinition signalRef="sig_cierre"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="cierre" targetRef="archivar"/>
    <bpmn:userTask id="archivar" name="Archivar"/>
    <bpmn:sequenceFlow id="f3" sourceRef="archivar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "espera_cierre", "Espera de cierre").replace(
    b'<bpmn:process id="espera_cierre"',
    b'<bpmn:signal id="sig_cierre" name="cierre_emergencia"/>\n  <bpmn:process id="espera_cierre"')


@pytest.fixture
def office(seeded):
    deploy_files(seeded, {"espera_respuesta.bpmn": WAITING, "espera_cierre.bpmn": SIGNALLED}, actor="test")
    return seeded


@pytest.fixture
def supervisor(as_user):
    return as_user("supervisor1")


def start(svc, solicitud: str = "S-1") -> tuple[int, str]:
    started = cases.start_case(svc, OWNER, "espera_respuesta", {"solicitud": solicitud})
    return started.id, started.number


def ready(svc, case_id: int) -> list[str]:
    return sorted(t["element_id"] for t in task_rows(svc, case_id) if t["state"] == "ready")


def finish(svc, case_id: int, element_id: str) -> None:
    [task] = [t for t in task_rows(svc, case_id) if t["element_id"] == element_id and t["state"] == "ready"]
    tasks.complete_task(svc, OWNER, task["id"], {})


def reaching_the_catch(svc, solicitud: str = "S-1") -> tuple[int, str]:
    case_id, number = start(svc, solicitud)
    finish(svc, case_id, "preparar")
    return case_id, number


def message(client, message_id: int) -> dict:
    answer = client.get(f"/api/messages/{message_id}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def settled(svc, client, message_id: int, states=("delivered", "pending", "undeliverable", "discarded")) -> dict:
    """The message once it has left `queued` (the scheduler's job run meanwhile, as it would be in production)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = message(client, message_id)
        if found["state"] in states or time.monotonic() > deadline:
            return found
        delivery.deliver_queued(svc)
        time.sleep(0.05)


def received(client, case_id: int) -> list[dict]:
    return [e for e in client.get(f"/api/cases/{case_id}/history").get_json() if e["kind"] == "message_received"]


def post(client, name="respuesta", correlation=None, payload=None, **kwargs):
    return client.post("/api/messages", json={"name": name, "correlation": correlation or {},
                                              "payload": payload or {}}, **kwargs)


# --- correlation -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["caso", "expediente", "solicitud"])
def test_a_message_reaches_the_one_waiting_case_its_keys_name(office, supervisor, key):
    target = reaching_the_catch(office, "S-7")
    other = reaching_the_catch(office, "S-8")  # waits for the same message name, with other keys
    keys = {"caso": {"caso": target[0]}, "expediente": {"expediente": target[1]},
            "solicitud": {"solicitud": "S-7"}}[key]
    answer = post(supervisor, correlation=keys, payload={"dictamen": "favorable"})
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["state"] == "delivered", body
    assert body["cases"] == [{"case_id": target[0], "number": target[1]}]
    assert ready(office, target[0]) == ["revisar"] and ready(office, other[0]) == []
    assert supervisor.get(f"/api/cases/{target[0]}/data").get_json()["data"]["dictamen"] == "favorable"
    [event] = received(supervisor, target[0])
    assert event["data"]["message_id"] == body["id"] and event["data"]["name"] == "respuesta"
    assert received(supervisor, other[0]) == []
    shown = message(supervisor, body["id"])
    assert (shown["state"], shown["target_case_id"], shown["correlation"]) == ("delivered", target[0], keys)


def test_every_key_must_match_not_just_one(office, supervisor):
    case_id, _number = reaching_the_catch(office, "S-1")
    body = post(supervisor, correlation={"caso": case_id, "solicitud": "S-2"}).get_json()
    assert settled(office, supervisor, body["id"])["state"] != "delivered"
    assert ready(office, case_id) == [] and received(supervisor, case_id) == []


# --- early, never, retry, discard --------------------------------------------------------------------------------
def test_a_message_that_arrives_early_is_pending_then_delivered_when_the_case_reaches_its_catch(office, supervisor):
    case_id, number = start(office)
    body = post(supervisor, correlation={"expediente": number}, payload={"oficio": "PNC-12"}).get_json()
    assert body["state"] == "pending" and body["cases"] == [], body
    assert body["reason"]
    assert ready(office, case_id) == ["preparar"]
    finish(office, case_id, "preparar")  # the case now waits: the pending message goes to it
    assert settled(office, supervisor, body["id"], ("delivered",))["state"] == "delivered"
    assert ready(office, case_id) == ["revisar"]
    assert supervisor.get(f"/api/cases/{case_id}/data").get_json()["data"]["oficio"] == "PNC-12"
    assert len(received(supervisor, case_id)) == 1


def test_a_message_nothing_can_take_is_undeliverable_with_its_reason(office, supervisor):
    body = post(supervisor, name="nadie_lo_espera", correlation={"caso": 1}).get_json()
    assert body["state"] == "undeliverable" and body["cases"] == []
    assert body["reason"]
    shown = message(supervisor, body["id"])
    assert shown["state"] == "undeliverable" and shown["reason"] == body["reason"]
    listed = supervisor.get("/api/messages?state=undeliverable").get_json()["items"]
    assert body["id"] in [m["id"] for m in listed]


def test_a_message_for_a_case_that_does_not_exist_is_undeliverable(office, supervisor):
    body = post(supervisor, correlation={"caso": 987654}).get_json()
    assert body["state"] == "undeliverable" and body["reason"]


def test_a_message_for_keys_no_case_waits_with_yet_is_pending_and_goes_to_the_first_that_does(office, supervisor):
    body = post(supervisor, correlation={"solicitud": "S-40"}).get_json()
    assert body["state"] == "pending" and body["reason"]
    other, _number = reaching_the_catch(office, "S-41")
    assert message(supervisor, body["id"])["state"] == "pending" and ready(office, other) == []
    case_id, _number = reaching_the_catch(office, "S-40")
    assert settled(office, supervisor, body["id"], ("delivered",))["state"] == "delivered"
    assert ready(office, case_id) == ["revisar"] and len(received(supervisor, case_id)) == 1


def test_retrying_an_undeliverable_message_delivers_it_once_a_procedure_waits_for_it(office, supervisor):
    body = post(supervisor, name="respuesta_nueva", correlation={"solicitud": "S-45"}).get_json()
    assert body["state"] == "undeliverable" and "respuesta_nueva" in body["reason"]
    # The procedure is fixed: a new one catches «respuesta_nueva»; a case of it reaches the catch.
    deploy_files(office, {"espera_nueva.bpmn": WAITING.replace(b'name="respuesta"', b'name="respuesta_nueva"')
                          .replace(b"espera_respuesta", b"espera_nueva")}, actor="test")
    case_id = cases.start_case(office, OWNER, "espera_nueva", {"solicitud": "S-45"}).id
    finish(office, case_id, "preparar")
    assert message(supervisor, body["id"])["state"] == "undeliverable"  # nothing retries it by itself
    retried = supervisor.post(f"/api/messages/{body['id']}/retry")
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["state"] == "delivered"
    assert retried.get_json()["cases"] == [{"case_id": case_id, "number": ready_number(office, case_id)}]
    assert ready(office, case_id) == ["revisar"] and len(received(supervisor, case_id)) == 1


def ready_number(svc, case_id: int) -> str:
    return cases.case_detail(svc, principal_for("admin"), case_id)["number"]


def test_retry_of_a_message_still_without_a_case_leaves_it_undeliverable(office, supervisor):
    body = post(supervisor, name="nadie_lo_espera", correlation={"caso": 1}).get_json()
    retried = supervisor.post(f"/api/messages/{body['id']}/retry")
    assert retried.status_code == 200 and retried.get_json()["state"] == "undeliverable"
    assert message(supervisor, body["id"])["attempts"] >= 1


def test_a_discarded_message_is_never_delivered_and_keeps_its_reason(office, supervisor):
    case_id, number = start(office)
    body = post(supervisor, correlation={"expediente": number}).get_json()
    assert body["state"] == "pending"
    discarded = supervisor.post(f"/api/messages/{body['id']}/discard", json={"reason": "Enviado por error"})
    assert discarded.status_code == 200, discarded.get_json()
    assert discarded.get_json()["state"] == "discarded"
    finish(office, case_id, "preparar")
    delivery.deliver_queued(office)
    assert ready(office, case_id) == [] and received(supervisor, case_id) == []
    shown = message(supervisor, body["id"])
    assert shown["state"] == "discarded" and "Enviado por error" in (shown["reason"] or "")


def test_delivered_or_discarded_messages_cannot_be_retried_or_discarded(office, supervisor):
    reaching_the_catch(office, "S-50")
    delivered = post(supervisor, correlation={"solicitud": "S-50"}).get_json()
    assert delivered["state"] == "delivered"
    for action, body in (("retry", None), ("discard", {"reason": "tarde"})):
        answer = supervisor.post(f"/api/messages/{delivered['id']}/{action}", json=body)
        assert answer.status_code == 409, (action, answer.get_json())
    assert message(supervisor, delivered["id"])["state"] == "delivered"


def test_an_unknown_message_is_not_found(office, supervisor):
    for method, path in (("GET", ""), ("POST", "/retry")):
        answer = supervisor.open(method, f"/api/messages/999999{path}")
        assert answer.status_code == 404, path
    assert supervisor.post("/api/messages/999999/discard", json={"reason": "x"}).status_code == 404


# --- signals -----------------------------------------------------------------------------------------------------
def test_a_signal_reaches_every_waiting_case_of_its_procedure(office, supervisor):
    waiting = [cases.start_case(office, OWNER, "espera_cierre", {}).id for _ in range(3)]
    answer = supervisor.post("/api/signals", json={"name": "cierre_emergencia", "process_key": "espera_cierre",
                                                   "payload": {"motivo": "Tormenta"}})
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert sorted(c["case_id"] for c in body["cases"]) == sorted(waiting)
    for case_id in waiting:
        assert ready(office, case_id) == ["archivar"]
        assert len(received(supervisor, case_id)) == 1


def test_a_signal_of_another_procedure_reaches_none(office, supervisor):
    case_id = cases.start_case(office, OWNER, "espera_cierre", {}).id
    body = supervisor.post("/api/signals", json={"name": "cierre_emergencia", "process_key": "five_step"}).get_json()
    assert body["cases"] == []
    assert ready(office, case_id) == []


# --- the list ----------------------------------------------------------------------------------------------------
def test_the_list_filters_by_state_name_and_case_and_pages_with_before(office, supervisor):
    case_id, number = reaching_the_catch(office, "S-60")
    delivered = post(supervisor, correlation={"caso": case_id}).get_json()["id"]
    lost = [post(supervisor, name="perdido", correlation={"caso": 10**6}).get_json()["id"] for _ in range(3)]
    by_state = supervisor.get("/api/messages?state=delivered").get_json()["items"]
    assert delivered in [m["id"] for m in by_state] and not set(lost) & {m["id"] for m in by_state}
    by_name = supervisor.get("/api/messages?name=perdido").get_json()
    assert [m["id"] for m in by_name["items"]] == sorted(lost, reverse=True)
    by_case = supervisor.get(f"/api/messages?case_id={case_id}").get_json()["items"]
    assert [m["id"] for m in by_case] == [delivered]
    first = supervisor.get("/api/messages?name=perdido&limit=2").get_json()
    assert [m["id"] for m in first["items"]] == sorted(lost, reverse=True)[:2] and first["next"]
    rest = supervisor.get(f"/api/messages?name=perdido&limit=2&before={first['next']}").get_json()
    assert [m["id"] for m in rest["items"]] == [min(lost)] and rest["next"] is None


# --- bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, field", [
    ({"correlation": {"caso": 1}}, "name"),
    ({"name": "", "correlation": {"caso": 1}}, "name"),
    ({"name": 12, "correlation": {"caso": 1}}, "name"),
    ({"name": "x" * 201, "correlation": {"caso": 1}}, "name"),
    ({"name": "respuesta"}, "correlation"),
    ({"name": "respuesta", "correlation": {}}, "correlation"),
    ({"name": "respuesta", "correlation": ["caso", 1]}, "correlation"),
    ({"name": "respuesta", "correlation": "caso=1"}, "correlation"),
    ({"name": "respuesta", "correlation": {"caso": 1}, "payload": [1, 2]}, "payload"),
    ({"name": "respuesta", "correlation": {"caso": 1}, "payload": "texto"}, "payload"),
    ({"name": "respuesta\x00", "correlation": {"caso": 1}}, "name"),
])
def test_bad_input_is_refused_naming_the_field(office, supervisor, body, field):
    answer = supervisor.post("/api/messages", json=body)
    assert 400 <= answer.status_code < 500, answer.get_json()
    problem = answer.get_json()
    assert field in [e["field"] for e in problem.get("errors", [])], problem
    assert supervisor.get("/api/messages?state=queued").get_json()["items"] == []


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": "cierre_emergencia", "process_key": ""}, "process_key"),
    ({"name": "cierre_emergencia", "payload": 3}, "payload"),
])
def test_bad_signals_are_refused_naming_the_field(office, supervisor, body, field):
    answer = supervisor.post("/api/signals", json=body)
    assert 400 <= answer.status_code < 500
    assert field in [e["field"] for e in answer.get_json().get("errors", [])]


@pytest.mark.parametrize("query, field", [("state=perdido", "state"), ("limit=0", "limit"), ("limit=abc", "limit"),
                                          ("case_id=-1", "case_id"), ("before=0", "before")])
def test_bad_list_queries_are_refused_naming_the_field(office, supervisor, query, field):
    answer = supervisor.get(f"/api/messages?{query}")
    assert 400 <= answer.status_code < 500
    assert field in [e["field"] for e in answer.get_json().get("errors", [])]


def test_a_discard_needs_a_reason(office, supervisor):
    body = post(supervisor, name="nadie_lo_espera", correlation={"caso": 1}).get_json()
    for sent in ({}, {"reason": ""}):
        answer = supervisor.post(f"/api/messages/{body['id']}/discard", json=sent)
        assert 400 <= answer.status_code < 500
        assert "reason" in [e["field"] for e in answer.get_json().get("errors", [])]
    assert message(supervisor, body["id"])["state"] == "undeliverable"


def test_a_retried_post_with_its_idempotency_key_sends_the_message_once(office, supervisor):
    case_id, _number = reaching_the_catch(office, "S-70")
    headers = {"Idempotency-Key": "mensaje-s70-1"}
    first = post(supervisor, correlation={"caso": case_id}, headers=headers)
    again = post(supervisor, correlation={"caso": case_id}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(received(supervisor, case_id)) == 1
    assert len(supervisor.get(f"/api/messages?case_id={case_id}").get_json()["items"]) == 1


# --- who may ------------------------------------------------------------------------------------------------------
def test_only_supervisors_and_admins_send_list_retry_or_discard(office, as_user, anonymous):
    lost = post(as_user("admin"), name="nadie_lo_espera", correlation={"caso": 1}).get_json()["id"]
    calls = [("POST", "/api/messages", {"name": "nadie_lo_espera", "correlation": {"caso": 1}}),
             ("POST", "/api/signals", {"name": "cierre_emergencia"}),
             ("GET", "/api/messages", None), ("GET", f"/api/messages/{lost}", None),
             ("POST", f"/api/messages/{lost}/retry", None),
             ("POST", f"/api/messages/{lost}/discard", {"reason": "no"})]
    for username, status in (("oficial1", 403), ("auditor1", 403)):
        client = as_user(username)
        for method, path, body in calls:
            assert client.open(method, path, json=body).status_code == status, (username, method, path)
    for method, path, body in calls:
        assert anonymous.open(method, path, json=body).status_code == 401, (method, path)
    assert message(as_user("admin"), lost)["state"] == "undeliverable"
    assert [m["id"] for m in as_user("admin").get("/api/messages").get_json()["items"]] == [lost]


def test_a_message_that_names_a_case_shows_under_that_case_before_it_is_delivered(office, supervisor):
    case_id, number = start(office)
    early = post(supervisor, correlation={"expediente": number}).get_json()
    lost = post(supervisor, name="perdido", correlation={"caso": case_id}).get_json()
    assert (early["state"], lost["state"]) == ("pending", "undeliverable")
    by_case = supervisor.get(f"/api/messages?case_id={case_id}").get_json()["items"]
    assert {m["id"] for m in by_case} == {early["id"], lost["id"]}
    assert early["cases"] == [] and lost["cases"] == []  # named, not reached
