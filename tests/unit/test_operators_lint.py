"""The lint of service tasks: the operator must be declared (engine/language/operators.py), get its required
parameters and only its own, each a Python expression the sandbox compiles; the problem names the task."""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

import pytest

from engine.errors import SpecInvalid
from engine.language import operators
from engine.language.specs import Bundle, parse_bundle
from tests.bpmn import linear

MAIL_PARAMS = {"para": "solicitante_correo", "asunto": "'Su trámite'", "cuerpo": "'Ya está listo.'"}


def service(operator: str | None, params: dict[str, str] | None = None, result: str | None = "enviado",
            types: bool = True) -> str:
    """A service task (id `{id}` for tests.bpmn.linear) calling `operator` with these parameter expressions."""
    if operator is None:
        return '<bpmn:serviceTask id="{id}" name="Avisar"/>'
    items = "".join(f'<spiffworkflow:parameter id="{name}"{" type=%s" % quoteattr("any") if types else ""} '
                    f'value={quoteattr(value)}/>' for name, value in (params or {}).items())
    result_attr = f" resultVariable={quoteattr(result)}" if result is not None else ""
    return ('<bpmn:serviceTask id="{id}" name="Avisar"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id={quoteattr(operator)}{result_attr}>'
            f'<spiffworkflow:parameters>{items}</spiffworkflow:parameters>'
            '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>'
            ).replace("{", "{{").replace("}", "}}").replace("{{id}}", "{id}")


def problems(element: str) -> list:
    with pytest.raises(SpecInvalid) as info:
        parse_bundle({"avisos.bpmn": linear(element)})
    return [p for p in info.value.problems if p.severity == "error"]


def only(element: str):
    [problem] = problems(element)
    assert problem.element_id == "e0" and problem.file == "avisos.bpmn" and problem.line
    return problem.message


def test_declared_operator_with_its_parameters_deploys():
    bundle = parse_bundle({"avisos.bpmn": linear(service("enviar_correo", MAIL_PARAMS))})
    assert isinstance(bundle, Bundle)
    spec = bundle.processes["p"].spec.task_specs["e0"]
    assert (spec.operation_name, spec.result_variable) == ("enviar_correo", "enviado")
    assert spec.operation_params["asunto"]["value"] == "'Su trámite'"


def test_optional_parameters_may_be_left_out_or_given():
    assert isinstance(parse_bundle({"a.bpmn": linear(service("emitir_documento", {"tipo": "'oficio'"}))}), Bundle)
    both = {"tipo": "'oficio'", "cada": "'destinatarios'"}
    assert isinstance(parse_bundle({"b.bpmn": linear(service("emitir_documento", both))}), Bundle)


def test_unknown_operator_is_refused_naming_the_task_and_the_available_ones():
    message = only(service("enviar_fax", {"para": "'x'"}))
    assert "«Avisar» (e0)" in message and "«enviar_fax»" in message and "que no existe" in message
    for name in ("enviar_correo", "emitir_documento", "solicitar_institucion"):
        assert name in message


def test_service_task_without_operator_says_what_to_do():
    message = only(service(None))
    assert "«Avisar» (e0)" in message and "no indica qué servicio llamar" in message and "enviar_correo" in message


def test_missing_required_parameter_is_refused():
    message = only(service("enviar_correo", {"para": "'a@b.gt'", "asunto": "'Hola'"}))
    assert "«Avisar» (e0)" in message and "parámetro obligatorio «cuerpo»" in message


def test_each_missing_parameter_is_reported():
    found = problems(service("solicitar_institucion", {"institucion": "'pnc'"}))
    assert sorted(m for p in found for m in ("mensaje", "plazo_dias") if f"«{m}»" in p.message) == \
        ["mensaje", "plazo_dias"]
    assert all(p.element_id == "e0" for p in found)


def test_parameter_the_operator_does_not_take_is_refused():
    message = only(service("enviar_correo", {**MAIL_PARAMS, "prioridad": "'alta'"}))
    assert "«Avisar» (e0)" in message and "no recibe el parámetro «prioridad»" in message and "para, asunto, cuerpo" in message


def test_parameter_expression_that_does_not_compile_is_refused():
    message = only(service("enviar_correo", {**MAIL_PARAMS, "asunto": "'Su trámite"}))
    assert "«asunto»" in message and "«Avisar» (e0)" in message and "no es una expresión Python válida" in message


def test_parameter_expression_the_sandbox_refuses_is_refused():
    message = only(service("enviar_correo", {**MAIL_PARAMS, "cuerpo": "__import__('os').system('ls')"}))
    assert "«cuerpo»" in message and "«Avisar» (e0)" in message


def test_blank_parameter_and_missing_type_are_refused():
    assert "está en blanco" in only(service("emitir_documento", {"tipo": "'oficio'", "cada": "  "}))
    assert "atributo type" in only(service("emitir_documento", {"tipo": "'oficio'"}, types=False))


def test_result_variable_must_be_a_name():
    message = only(service("enviar_correo", MAIL_PARAMS, result="enviado.ya"))
    assert "«enviado.ya»" in message and "no es un nombre válido" in message


def test_an_operator_declared_at_run_time_is_accepted_while_declared():
    name = "prueba_lint_eco"
    element = service(name, {"texto": "'hola'"})
    operators.declare(operators.Operator(name, "Eco", (operators.Parameter("texto", True, "Texto"),), "El texto"))
    try:
        assert isinstance(parse_bundle({"eco.bpmn": linear(element)}), Bundle)
        assert name in [o["name"] for o in operators.as_data()]
    finally:
        operators.undeclare(name)
    assert operators.operator(name) is None


def test_declarations_for_the_modeler_are_plain_data_in_the_pages_language():
    data = {o["name"]: o for o in operators.as_data(lambda text: f"<{text}>")}
    mail = data["enviar_correo"]
    assert mail["title"] == "<Enviar un correo>"
    assert [(p["name"], p["required"], p["kind"]) for p in mail["parameters"]] == \
        [("para", True, "expression"), ("asunto", True, "text"), ("cuerpo", True, "text")]
    request = {p["name"]: p["required"] for p in data["solicitar_institucion"]["parameters"]}
    assert request == {"institucion": True, "mensaje": True, "plazo_dias": True, "recordatorios": False,
                       "grupo": False, "documento": False, "asunto": False}
    assert {p["name"]: p["required"] for p in data["emitir_documento"]["parameters"]} == {"tipo": True, "cada": False}
