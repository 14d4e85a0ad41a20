"""Service tasks run their operators inside the case's step, on SQLite and PostgreSQL: the answer lands in the result
variable; a failing operator puts the case in `error` naming the element (never a 500), and a retry runs it again."""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.language import operators as declarations
from engine.storage import models
from engine.usecases import cases
from engine.usecases.deploy import deploy_files
from engine.usecases.operators import Call
from tests.api.conftest import Client, make_app, token_for
from tests.bpmn import linear, user
from tests.conftest import SYSTEM, principal_for

ECHO = "prueba_eco"


def service(operator: str, params: dict[str, str], result: str = "respuesta") -> str:
    items = "".join(f'<spiffworkflow:parameter id="{name}" type="any" value={quoteattr(value)}/>'
                    for name, value in params.items())
    return ('<bpmn:serviceTask id="{id}" name="Servicio"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{result}">'
            f'<spiffworkflow:parameters>{items}</spiffworkflow:parameters>'
            '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>')


class Echo:
    """A fake operator: repeats `texto` `veces` times and says in which case and element it ran; fails on demand."""

    def __init__(self):
        self.failure: Exception | None = None
        self.calls: list[Call] = []

    def __call__(self, call: Call):
        self.calls.append(call)
        if self.failure is not None:
            raise self.failure
        step = call.step
        return {"eco": call.params["texto"] * call.params.get("veces", 1), "elemento": call.element_id,
                "caso": step.case_number if step else None}


@pytest.fixture
def echo(svc):
    """The fake operator, declared (so the lint lets it deploy) and registered with this service's runtime."""
    declarations.declare(declarations.Operator(ECHO, "Eco de prueba", (
        declarations.Parameter("texto", True, "Texto"), declarations.Parameter("veces", False, "Veces")), "El eco"))
    fake = Echo()
    svc.runtime.service_handler.register(ECHO, fake)
    yield fake
    declarations.undeclare(ECHO)


def deploy(svc, *elements: str, key: str = "servicio") -> None:
    deploy_files(svc, {f"{key}.bpmn": linear(*elements, process_id=key)}, actor="test")


def test_the_answer_lands_in_the_result_variable(svc, echo):
    deploy(svc, service(ECHO, {"texto": "nombre", "veces": "2"}), user("Revisar"))
    started = cases.start_case(svc, SYSTEM, "servicio", {"nombre": "Ana"})
    assert started.state == "running"
    data = cases.case_data(svc, SYSTEM, started.id)
    assert data["respuesta"] == {"eco": "AnaAna", "elemento": "e0", "caso": started.number}
    [call] = echo.calls
    assert call.params == {"texto": "Ana", "veces": 2} and call.step.case_id == started.id


def test_a_failing_operator_puts_the_case_in_error_naming_the_element_and_a_retry_runs_it_again(svc, echo):
    deploy(svc, service(ECHO, {"texto": "'hola'"}), user("Revisar"))
    echo.failure = RuntimeError("el servicio externo no responde")
    started = cases.start_case(svc, principal_for("oficial1"), "servicio", {})
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e0")
    assert "prueba_eco" in case["error_message"] and "el servicio externo no responde" in case["error_message"]
    assert "NameError" not in case["error_message"]

    echo.failure = None
    retried = cases.retry_case(svc, principal_for("supervisor1", "supervisor"), started.id)
    assert retried["state"] == "running"
    assert cases.case_data(svc, SYSTEM, started.id)["respuesta"]["eco"] == "hola"
    assert len(echo.calls) == 2


def test_a_bad_parameter_value_and_an_operator_this_server_lacks_stop_the_case_in_error(svc, echo):
    deploy(svc, service(ECHO, {"texto": "falta_este_campo"}), user("Revisar"), key="sin_campo")
    started = cases.start_case(svc, SYSTEM, "sin_campo", {})
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e0")
    assert "«texto»" in case["error_message"] and "falta_este_campo" in case["error_message"] and not echo.calls

    deploy(svc, service(ECHO, {"texto": "'x'"}), user("Revisar"), key="sin_operador")
    svc.runtime.service_handler.unregister(ECHO)
    started = cases.start_case(svc, SYSTEM, "sin_operador", {})
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e0")
    assert "no existe en este servidor" in case["error_message"]


def test_an_answer_json_cannot_carry_stops_the_case_in_error(svc, echo):
    deploy(svc, service(ECHO, {"texto": "'x'"}), user("Revisar"))
    svc.runtime.service_handler.register(ECHO, lambda call: {"conjunto": {1, 2}})
    started = cases.start_case(svc, SYSTEM, "servicio", {})
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e0")
    assert "no se puede guardar" in case["error_message"]


def test_starting_a_case_whose_operator_fails_through_the_api_is_not_a_500(svc, echo, tmp_path):
    deploy(svc, service(ECHO, {"texto": "'hola'"}), user("Revisar"))
    add_user(svc, "supervisor1", "supervisor", "contraseña-segura-1")
    client = Client(make_app(svc, tmp_path), token_for(svc, "supervisor1"))
    echo.failure = ValueError("respuesta inesperada")
    response = client.post("/api/cases", json={"process_key": "servicio", "data": {}})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "error"
    case = client.get(f"/api/cases/{body['id']}").get_json()
    assert case["state"] == "error" and case["error_element"] == "e0"

    echo.failure = None
    response = client.post(f"/api/cases/{body['id']}/retry", json={"data": {}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "running"


def test_enviar_correo_queues_a_mail_for_the_case_in_the_step(svc):
    deploy(svc, service("enviar_correo", {"para": "correo", "asunto": "'Su trámite ' + expediente_tipo",
                                          "cuerpo": "'Estimado(a) ' + nombre + ': su trámite avanza.'"},
                        result="aviso"), user("Revisar"), key="aviso")
    started = cases.start_case(svc, SYSTEM, "aviso", {"correo": "ana@example.gt", "nombre": "Ana",
                                                      "expediente_tipo": "de licencia"})
    assert started.state == "running"
    with svc.db.connect() as conn:
        rows = conn.execute(select(models.outbox).where(models.outbox.c.case_id == started.id)
                            .where(models.outbox.c.kind == "enviar_correo")).mappings().all()
    [row] = rows
    assert (row["to_address"], row["subject"], row["status"]) == ("ana@example.gt", "Su trámite de licencia", "pending")
    assert row["body"] == "Estimado(a) Ana: su trámite avanza."
    assert cases.case_data(svc, SYSTEM, started.id)["aviso"] == {"destinatarios": ["ana@example.gt"], "correos": 1}


def test_enviar_correo_with_a_bad_address_queues_nothing_and_stops_in_error(svc):
    deploy(svc, service("enviar_correo", {"para": "correo", "asunto": "'Aviso'", "cuerpo": "'Texto'"}),
           user("Revisar"), key="aviso_malo")
    started = cases.start_case(svc, SYSTEM, "aviso_malo", {"correo": "no es un correo"})
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e0") and "«para»" in case["error_message"]
    with svc.db.connect() as conn:
        assert not conn.execute(select(models.outbox.c.id).where(models.outbox.c.case_id == started.id)
                                .where(models.outbox.c.kind == "enviar_correo")).all()


def test_emitir_documento_issues_the_document_for_the_case(svc):
    deploy(svc, service("emitir_documento", {"tipo": "'oficio'"}, result="oficio"), user("Revisar"), key="oficio")
    started = cases.start_case(svc, SYSTEM, "oficio", {
        "oficio_destinatario": "Comisario", "oficio_institucion": "PNC", "oficio_asunto": "Opinión",
        "oficio_cuerpo": "Se solicita su opinión."})
    assert started.state == "running", cases.get_case(svc, SYSTEM, started.id)["error_message"]
    data = cases.case_data(svc, SYSTEM, started.id)
    with svc.db.connect() as conn:
        [doc] = conn.execute(select(models.documents).where(models.documents.c.case_id == started.id)
                             .where(models.documents.c.kind == "oficio")).mappings().all()
    assert data["oficio"] == {"numero": doc["number"], "codigo": doc["verification_code"], "documento": doc["id"]}
    assert data["documento_oficio"] == {"numero": doc["number"], "codigo": doc["verification_code"]}
    assert doc["number"].startswith("OF-GDCH-")


OFICIO = {"oficio_destinatario": "Comisario", "oficio_institucion": "PNC", "oficio_asunto": "Opinión",
          "oficio_cuerpo": "Se solicita su opinión."}


def test_emitir_documento_with_cada_issues_one_per_item(svc):
    deploy(svc, service("emitir_documento", {"tipo": "'oficio'", "cada": "'destinos'"}, result="oficios"),
           user("Revisar"), key="oficios")
    destinos = [{**OFICIO, "oficio_institucion": "PNC"}, {**OFICIO, "oficio_institucion": "CONRED"}]
    started = cases.start_case(svc, SYSTEM, "oficios", {"destinos": destinos})  # each oficio from its item alone
    assert started.state == "running", cases.get_case(svc, SYSTEM, started.id)["error_message"]
    data = cases.case_data(svc, SYSTEM, started.id)
    with svc.db.connect() as conn:
        docs = conn.execute(select(models.documents).where(models.documents.c.case_id == started.id)
                            .order_by(models.documents.c.id)).mappings().all()
    assert [d["kind"] for d in docs] == ["oficio", "oficio"]
    assert data["oficios"] == [{"numero": d["number"], "codigo": d["verification_code"], "documento": d["id"]}
                               for d in docs]
    assert len({d["number"] for d in docs}) == 2


def test_a_document_that_cannot_be_filled_takes_no_number_and_the_retry_issues_the_first(svc):
    deploy(svc, service("emitir_documento", {"tipo": "'oficio'"}, result="oficio"), user("Revisar"), key="oficio")
    incomplete = {k: v for k, v in OFICIO.items() if k != "oficio_cuerpo"}
    started = cases.start_case(svc, SYSTEM, "oficio", incomplete)
    case = cases.get_case(svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", "e0") and "oficio_cuerpo" in case["error_message"]
    with svc.db.connect() as conn:
        assert not conn.execute(select(models.documents.c.id)
                                .where(models.documents.c.case_id == started.id)).all()

    retried = cases.retry_case(svc, principal_for("supervisor1", "supervisor"), started.id,
                               {"oficio_cuerpo": "Se solicita su opinión."})
    assert retried["state"] == "running", retried["error_message"]
    number = cases.case_data(svc, SYSTEM, started.id)["oficio"]["numero"]
    assert number.endswith("-0001")  # the failed attempt's number was given back with its savepoint
