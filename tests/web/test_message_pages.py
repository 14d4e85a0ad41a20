"""The supervisors' messages page (/mensajes): those needing attention first (undeliverable, then pending), each
with its name, correlation, reason, origin and target case; retried and discarded from the list (CSRF, a reason to
discard, a flash); the nav link; and on the case page, the cases linked to it by messages and its messages. Who may
open each page: tests/web/test_page_authorization.py."""
from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases, messaging, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions
from tests.conftest import principal_for
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD, csrf_of, login

CLERK = principal_for("ventanilla1", "clerk", ("ventanilla",))
ADMIN = principal_for("admin")
SUPERVISOR = "supervisor3"

# A petition that, once Ventanilla has checked it, opens a forwarding case of another procedure (its message start
# event) and then waits for that case's reply, keyed by its own id.
PETITION = definitions("""
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla"><bpmn:flowNodeRef>revisar</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>notificar</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar competencia"/>
    <bpmn:sequenceFlow id="f2" sourceRef="revisar" targetRef="trasladar"/>
    <bpmn:intermediateThrowEvent id="trasladar" name="Trasladar">
      <bpmn:messageEventDefinition messageRef="m_traslado">
        <bpmn:extensionElements><spiffworkflow:messagePayload>{"asunto": asunto}</spiffworkflow:messagePayload></bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="trasladar" targetRef="esperar"/>
    <bpmn:intermediateCatchEvent id="esperar" name="Esperar respuesta">
      <bpmn:messageEventDefinition messageRef="m_respuesta"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="esperar" targetRef="notificar"/>
    <bpmn:userTask id="notificar" name="Notificar respuesta"/>
    <bpmn:sequenceFlow id="f5" sourceRef="notificar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "peticion_prueba", "Petición de prueba").replace(
    b'<bpmn:process id="peticion_prueba"',
    b'<bpmn:message id="m_traslado" name="traslado_prueba"/>\n'
    b'  <bpmn:message id="m_respuesta" name="respuesta_prueba"/>\n  <bpmn:process id="peticion_prueba"')

FORWARDING = definitions("""
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla"><bpmn:flowNodeRef>redactar</bpmn:flowNodeRef>
      </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="m_traslado"/></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="redactar"/>
    <bpmn:userTask id="redactar" name="Redactar oficio"/>
    <bpmn:sequenceFlow id="f2" sourceRef="redactar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "traslado_prueba", "Traslado de prueba").replace(
    b'<bpmn:process id="traslado_prueba"',
    b'<bpmn:message id="m_traslado" name="traslado_prueba"/>\n  <bpmn:process id="traslado_prueba"')


@pytest.fixture(scope="module")
def office(web_office):
    svc, app = web_office
    add_user(svc, SUPERVISOR, "supervisor", PASSWORD, groups=["ventanilla"])
    deploy_files(svc, {"peticion_prueba.bpmn": PETITION, "traslado_prueba.bpmn": FORWARDING}, actor="test")
    return svc, app


def signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


@pytest.fixture
def supervisor(office):
    return signed_in(office[1], SUPERVISOR)


def text(response) -> str:
    return response.get_data(as_text=True)


def state_of(svc, message_id: int) -> str:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(models.messages.c.state)
                                .where(models.messages.c.id == message_id)).scalar_one()


def lost(svc, name: str = "nadie_lo_espera") -> dict:
    return messaging.post_message(svc, ADMIN, name, {"caso": 1}, {})


def early(svc) -> tuple[int, dict]:
    """A petition still at its first task, and a reply for it that came too soon (pending)."""
    case_id = cases.start_case(svc, CLERK, "peticion_prueba", {"asunto": "Tala de árboles"}).id
    return case_id, messaging.post_message(svc, ADMIN, "respuesta_prueba", {"caso": case_id}, {"oficio": "1"})


def row_of(html: str, message_id: int) -> str:
    found = re.search(rf'<tr data-message="{message_id}".*?</tr>', html, re.S)
    assert found, f"message {message_id} not listed"
    return found.group(0)


def test_the_page_lists_undeliverable_then_pending_messages_with_what_a_supervisor_needs(office, supervisor):
    svc, _app = office
    case_id, pending = early(svc)
    undeliverable = lost(svc, "nunca_llega")
    assert (pending["state"], undeliverable["state"]) == ("pending", "undeliverable")
    html = text(supervisor.get("/mensajes"))
    assert html.index('id="messages-undeliverable"') < html.index('id="messages-pending"')
    row = row_of(html, undeliverable["id"])
    assert "nunca_llega" in row and "caso=1" in row and str(escape(undeliverable["reason"])) in row
    assert "Reintentar" in row and "Descartar" in row and 'name="csrf_token"' in row and 'name="motivo"' in row
    row = row_of(html, pending["id"])
    assert "respuesta_prueba" in row and f"caso={case_id}" in row and "API" in row


def test_delivered_messages_are_on_their_tab_without_buttons_and_link_their_case(office, supervisor):
    svc, _app = office
    case_id, pending = early(svc)
    [task] = task_rows(svc, case_id)
    tasks.complete_task(svc, CLERK, task["id"], {})  # the petition forwards, then waits: its reply is delivered
    assert state_of(svc, pending["id"]) == "delivered"
    assert f'data-message="{pending["id"]}"' not in text(supervisor.get("/mensajes"))
    row = row_of(text(supervisor.get("/mensajes?estado=entregados")), pending["id"])
    assert f'href="/expedientes/{case_id}"' in row
    assert "Reintentar" not in row and "Descartar" not in row


def test_retry_from_the_list_tries_again_and_says_so(office, supervisor):
    svc, _app = office
    message = lost(svc)
    page = text(supervisor.get("/mensajes"))
    answer = supervisor.post(f"/mensajes/{message['id']}/reintentar",
                             data={"csrf_token": csrf_of(page), "next": "/mensajes?estado=sin_entregar"})
    assert answer.status_code == 302 and answer.location.endswith("/mensajes?estado=sin_entregar")
    after = text(supervisor.get(answer.location))
    assert f"Mensaje {message['id']} reintentado" in after
    with svc.uow(write=False) as uow:
        attempts = uow.conn.execute(select(models.messages.c.attempts)
                                    .where(models.messages.c.id == message["id"])).scalar_one()
    assert attempts >= 1 and state_of(svc, message["id"]) == "undeliverable"


def test_discard_from_the_list_needs_a_reason_and_keeps_it(office, supervisor):
    svc, _app = office
    message = lost(svc)
    token = csrf_of(text(supervisor.get("/mensajes")))
    refused = supervisor.post(f"/mensajes/{message['id']}/descartar", data={"csrf_token": token, "motivo": " "})
    assert refused.status_code == 302
    assert "No se descartó" in text(supervisor.get(refused.location))
    assert state_of(svc, message["id"]) == "undeliverable"
    done = supervisor.post(f"/mensajes/{message['id']}/descartar",
                           data={"csrf_token": token, "motivo": "Enviado dos veces"})
    assert done.status_code == 302
    assert f"Mensaje {message['id']} descartado" in text(supervisor.get(done.location))
    assert state_of(svc, message["id"]) == "discarded"
    row = row_of(text(supervisor.get("/mensajes?estado=descartados")), message["id"])
    assert "Enviado dos veces" in row and "Reintentar" not in row


def test_a_form_without_its_csrf_token_changes_nothing(office, supervisor):
    svc, _app = office
    message = lost(svc)
    assert supervisor.post(f"/mensajes/{message['id']}/descartar", data={"motivo": "x"}).status_code == 403
    assert state_of(svc, message["id"]) == "undeliverable"


def test_the_nav_links_the_page_for_supervisors_only(office, supervisor):
    _svc, app = office
    assert 'href="/mensajes"' in text(supervisor.get("/bandeja"))
    assert 'href="/mensajes"' not in text(signed_in(app, "ventanilla1").get("/bandeja"))


def test_linked_cases_show_each_other_with_their_messages(office, supervisor):
    svc, app = office
    petition = cases.start_case(svc, CLERK, "peticion_prueba", {"asunto": "Tala de árboles"})
    [task] = task_rows(svc, petition.id)
    tasks.complete_task(svc, CLERK, task["id"], {})  # throws traslado_prueba: a forwarding case starts
    [link] = messaging_links(svc, petition.id)
    forwarding = link["case_id"]
    html = text(supervisor.get(f"/expedientes/{petition.id}"))
    block = html[html.index('id="linked-cases-block"'):]
    block = block[:block.index("</section>")]
    assert "Expedientes vinculados" in block and f'href="/expedientes/{forwarding}"' in block
    assert link["number"] in block and "Traslado de prueba" in block and "derivado" in block
    assert "traslado_prueba" in block and "enviado" in block
    other = text(supervisor.get(f"/expedientes/{forwarding}"))
    other = other[other.index('id="linked-cases-block"'):]
    assert f'href="/expedientes/{petition.id}"' in other and petition.number in other and "origen" in other
    assert "recibido" in other
    # The clerk of the petition's group sees the same block on the page; the history names the messages.
    clerk = text(signed_in(app, "ventanilla1").get(f"/expedientes/{petition.id}"))
    assert "Mensaje enviado" in clerk and f'href="/expedientes/{forwarding}"' in clerk


def test_a_linked_case_out_of_a_clerks_reach_is_not_shown_to_him(office):
    svc, app = office
    petition = cases.start_case(svc, CLERK, "peticion_prueba", {"asunto": "Ruido"})
    [task] = task_rows(svc, petition.id)
    tasks.complete_task(svc, CLERK, task["id"], {})
    [link] = messaging_links(svc, petition.id)
    with svc.uow() as uow:  # the forwarding case moves to another group's work (as if routed to Jurídico)
        uow.conn.execute(models.tasks.update().where(models.tasks.c.case_id == link["case_id"])
                         .values(candidate_group="juridico"))
        uow.conn.execute(models.cases.update().where(models.cases.c.id == link["case_id"])
                         .values(created_by="otro"))
        uow.commit()
    html = text(signed_in(app, "ventanilla2").get(f"/expedientes/{petition.id}"))
    assert f'href="/expedientes/{link["case_id"]}"' not in html and link["number"] not in html


def messaging_links(svc, case_id: int) -> list[dict]:
    with svc.uow(write=False) as uow:
        return messaging.linked_cases(uow.conn, case_id)


def test_the_list_filters_by_case_and_name_and_pages_back(office, supervisor):
    svc, _app = office
    case_id, pending = early(svc)
    [task] = task_rows(svc, case_id)
    tasks.complete_task(svc, CLERK, task["id"], {})  # delivered: now the case's message
    # For a case that never exists: lost() names case 1, which is this very case when the test runs first in its
    # module (xdist), and then the case filter rightly lists them too.
    others = [messaging.post_message(svc, ADMIN, "filtro_prueba", {"caso": 999_999}, {})["id"] for _ in range(3)]
    by_case = text(supervisor.get(f"/mensajes?estado=todos&caso={case_id}"))
    assert f'data-message="{pending["id"]}"' in by_case and not any(f'data-message="{i}"' in by_case for i in others)
    by_name = text(supervisor.get("/mensajes?estado=todos&nombre=filtro_prueba"))
    assert re.findall(r'data-message="(\d+)"', by_name) == [str(i) for i in sorted(others, reverse=True)]
    assert "Más antiguos" not in by_name
    unknown = text(supervisor.get("/mensajes?estado=ninguno&nombre=filtro_prueba"))  # an unknown tab: the default
    assert 'id="section-undeliverable"' in unknown and 'id="section-pending"' in unknown


def test_the_case_page_lists_what_the_case_asked_institutions_and_how_each_stands(office, supervisor):
    from engine.usecases import institution_records, institutions
    svc, _app = office
    institution_records.seed_institutions(svc)
    case = cases.start_case(svc, CLERK, "peticion_prueba", {"asunto": "Consulta"})
    with svc.uow() as uow:
        institutions.request_reply(svc, uow.conn, case_id=case.id, institution_key="pnc",
                                   message_name="opinion_pnc", due_days=5, subject="Opinión de seguridad",
                                   now=svc.clock())
        uow.commit()
    html = text(supervisor.get(f"/expedientes/{case.id}"))
    table = html[html.index('id="case-requests"'):]
    table = table[:table.index("</table>")]
    assert "Policía Nacional Civil" in table and "Opinión de seguridad" in table
    assert "esperando respuesta" in table
    assert "/responder/" not in html  # the link is the institution's secret, never shown to staff
