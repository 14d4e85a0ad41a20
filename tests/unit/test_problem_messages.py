"""Problem messages a supervisor can act on: the element by its name and id, the offending value, Spanish, no XML
or namespace URIs, nothing cut off. The lxml and SpiffWorkflow texts below were captured from real files (the
bpmn.io-style diagram of `foreign()` broken one way at a time, and ../shared/bpmn-reference)."""
from __future__ import annotations

import pytest

from engine.errors import SpecInvalid
from engine.language.expressions import python_equivalent
from engine.language.naming import shorten, tidy
from engine.language.folders import validate_files, validate_paths
from engine.language.specs import parse_bundle
from engine.language.xsd_messages import xsd_message
from engine.messages import msg

BASE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_1" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="Inicio">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:task id="Task_1" name="Revisar solicitud">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:task>
    <bpmn:endEvent id="End_1" name="Fin">
      <bpmn:incoming>Flow_2</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="End_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="Task_1_di" bpmnElement="Task_1">
        <dc:Bounds x="270" y="77" width="100" height="80" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def foreign(*edits: tuple[str, str], process_id: str = "Process_1") -> bytes:
    """The bpmn.io-style diagram with each (old, new) replacement made once."""
    text = BASE.replace('id="Process_1"', f'id="{process_id}"').replace('bpmnElement="Process_1"',
                                                                         f'bpmnElement="{process_id}"')
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text.encode()


def problems_of(files: dict[str, bytes]):
    with pytest.raises(SpecInvalid) as refused:
        parse_bundle(files)
    return refused.value.problems


def assert_actionable(message: str):
    assert "{http" not in message and "<" not in message and "\n" not in message
    assert message.rstrip().endswith(tuple(".!?)»\"'…")), message


# -- lxml's schema errors, captured -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("Element '{http://www.omg.org/spec/DD/20100524/DC}Bounds', attribute 'x': '' is not a valid value of the "
     "atomic type 'xs:double'.",
     "El elemento dc:Bounds: el atributo x está vacío, pero debe ser un número (por ejemplo 120 o 45.5)."),
    ("Element '{http://www.omg.org/spec/DD/20100524/DC}Bounds': The attribute 'width' is required but missing.",
     "El elemento dc:Bounds: falta el atributo obligatorio width."),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}task', attribute 'foo': The attribute 'foo' is not "
     "allowed.", "El elemento bpmn:task: el atributo foo no existe en BPMN para este elemento; quítelo."),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}task', attribute 'isForCompensation': 'yes' is not a "
     "valid value of the atomic type 'xs:boolean'.",
     'El elemento bpmn:task: el atributo isForCompensation vale «yes», pero debe ser "true" o "false".'),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}process', attribute 'processType': [facet "
     "'enumeration'] The value 'Weird' is not an element of the set {'None', 'Public', 'Private'}.",
     "El elemento bpmn:process: el atributo processType vale «Weird»; los valores admitidos son: None, Public, "
     "Private."),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}message', attribute 'itemRef': The QName value "
     "'foo:bar' has no corresponding namespace declaration in scope.",
     "El elemento bpmn:message: el atributo itemRef vale «foo:bar», pero el prefijo «foo» no está declarado en el "
     "archivo (falta xmlns:foo en bpmn:definitions)."),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}task': Character content other than whitespace is not "
     "allowed because the content type is 'element-only'.",
     "El elemento bpmn:task contiene texto, pero solo puede contener otros elementos; quite el texto."),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}conditionalEventDefinition': Missing child "
     "element(s). Expected is one of ( {http://www.omg.org/spec/BPMN/20100524/MODEL}documentation, "
     "{http://www.omg.org/spec/BPMN/20100524/MODEL}extensionElements, "
     "{http://www.omg.org/spec/BPMN/20100524/MODEL}condition ).",
     "El elemento bpmn:conditionalEventDefinition: le falta un elemento hijo; se espera: bpmn:documentation, "
     "bpmn:extensionElements, bpmn:condition."),
    ("Element '{urn:vendor:x}MailTo': This element is not expected. Expected is ( "
     "##other{http://www.omg.org/spec/BPMN/20100524/MODEL}* ).",
     "El elemento MailTo no se permite en este lugar del archivo (revise dentro de qué elemento está y en qué "
     "orden); aquí se espera: un elemento de extensión (de otro espacio de nombres)."),
    ("Element '{urn:vendor:x}frob': This element is not expected.",
     "El elemento frob no se permite en este lugar del archivo: revise dentro de qué elemento está y en qué orden."),
])
def test_schema_errors_are_said_in_spanish_without_namespace_uris(raw, expected):
    assert xsd_message(raw) == expected
    assert_actionable(xsd_message(raw))


def test_an_unknown_schema_error_keeps_its_words_without_namespaces():
    message = xsd_message("Element '{http://www.omg.org/spec/DD/20100524/DC}Bounds': Something new happened.")
    assert message.startswith("El documento no cumple el esquema XML de BPMN/DMN: Element 'dc:Bounds'")
    assert_actionable(message)


def test_a_shape_error_names_the_element_the_shape_draws_and_its_line():
    [problem] = problems_of({"d.bpmn": foreign((' width="100"', ""))})
    assert problem.message == ("El elemento dc:Bounds del dibujo de la tarea «Revisar solicitud» (Task_1): falta el "
                               "atributo obligatorio width.")
    assert (problem.element_id, problem.line) == ("Task_1", 20)


def test_an_element_out_of_order_names_its_owner_and_what_is_expected_in_short():
    [problem] = problems_of({"d.bpmn": foreign(
        ("<bpmn:incoming>Flow_1</bpmn:incoming>\n      <bpmn:outgoing>Flow_2</bpmn:outgoing>",
         "<bpmn:outgoing>Flow_2</bpmn:outgoing>\n      <bpmn:incoming>Flow_1</bpmn:incoming>"))})
    assert problem.message.startswith("El elemento bpmn:incoming de la tarea «Revisar solicitud» (Task_1) no se "
                                      "permite en este lugar")
    assert problem.message.endswith("y 6 más.") and problem.element_id == "Task_1"


# -- SpiffWorkflow's texts ----------------------------------------------------------------------------------------

def test_multiple_outgoing_flows_on_a_task_is_said_whole_with_the_task_type_and_flows():
    [problem] = problems_of({"d.bpmn": foreign(
        ('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="End_1" />',
         '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="End_1" />'
         '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_1" targetRef="End_1" />'))})
    assert problem.message.startswith("La tarea «Revisar solicitud» (Task_1) tiene 2 flujos de secuencia salientes "
                                      "(Flow_2, Flow_3), y el motor no admite más de uno en elementos de tipo «tarea»")
    assert "Multiple" not in problem.message
    assert_actionable(problem.message)


def test_a_loop_without_condition_is_said_in_spanish_naming_the_task():
    [problem] = problems_of({"d.bpmn": foreign(("<bpmn:outgoing>Flow_2</bpmn:outgoing>\n    </bpmn:task>",
                                                "<bpmn:outgoing>Flow_2</bpmn:outgoing><bpmn:standardLoopCharacteristics/>"
                                                "\n    </bpmn:task>"))})
    assert problem.message.startswith("La tarea «Revisar solicitud» (Task_1) se repite (marcador de ciclo)")


def test_a_quoted_timer_value_that_is_no_iso_duration_is_refused_with_the_value():
    timer = ('<bpmn:endEvent id="End_1" name="Fin">',
             '<bpmn:intermediateCatchEvent id="T1" name="Esperar"><bpmn:timerEventDefinition><bpmn:timeDuration>'
             '"5 minutos"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
             '<bpmn:endEvent id="End_1" name="Fin">')
    errors = [p for p in problems_of({"d.bpmn": foreign(timer)}) if p.severity == "error"]
    assert [p.message for p in errors] == [
        "La expresión del temporizador del evento intermedio de captura «Esperar» (T1) no sirve: «5 minutos» no es "
        'un valor ISO 8601 de este tipo de temporizador (por ejemplo, "P5D", "PT2H").']


# -- values and names ---------------------------------------------------------------------------------------------

def test_long_values_are_shortened_at_a_word_boundary_and_markup_is_dropped():
    text = "palabra " * 40
    short = shorten(text)
    assert len(short) <= 120 and short.endswith("palabra…")
    assert shorten("<p><b>Revisar</b> solicitud</p>") == "Revisar solicitud"
    cleaned = tidy(msg("%(what)s: %(detail)s", what="x", detail="<bpmn:task id='a'>" + "y " * 200))
    assert "<" not in cleaned and len(cleaned.params["detail"]) <= 120 and cleaned.msgid == "%(what)s: %(detail)s"


def test_a_name_with_markup_is_quoted_plain():
    doc = foreign(('name="Revisar solicitud"', 'name="&lt;p&gt;&lt;b&gt;Revisar&lt;/b&gt; solicitud&lt;/p&gt;"'),
                  ("<bpmn:outgoing>Flow_2</bpmn:outgoing>\n    </bpmn:task>",
                   "<bpmn:outgoing>Flow_2</bpmn:outgoing><bpmn:standardLoopCharacteristics/>\n    </bpmn:task>"))
    [problem] = problems_of({"d.bpmn": doc})
    assert problem.message.startswith("La tarea «Revisar solicitud» (Task_1)")


@pytest.mark.parametrize("feel, python", [
    ("${approved}", "approved"), ("${!approved}", "not approved"), ("${clarified == 'yes'}", "clarified == 'yes'"),
    ("= not(approved)", "not (approved)"), ("=fraud", "fraud"),
    ('Vacation Approval = "Approved"', 'Vacation_Approval == "Approved"'),
    ('= some risk in riskLevels satisfies risk = "red"', 'any(risk == "red" for risk in riskLevels)'),
    ('= every risk in riskLevels satisfies risk = "yellow"', 'all(risk == "yellow" for risk in riskLevels)'),
    ("${a && b || !c}", "a and b or not c"), ("#{x eq 1 or y ne null}", "x == 1 or y != None"),
])
def test_juel_and_feel_conditions_get_a_python_equivalent(feel, python):
    assert python_equivalent(feel) == python


def test_a_feel_condition_is_flagged_with_its_python_equivalent():
    doc = foreign(('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="End_1" />',
                   '<bpmn:sequenceFlow id="Flow_2" name="Aprobado" sourceRef="Task_1" targetRef="End_1">'
                   '<bpmn:conditionExpression>= not(approved)</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    messages = [p.message for p in problems_of({"d.bpmn": doc})]
    assert ("La condición del flujo de secuencia «Aprobado» (Flow_2) usa sintaxis JUEL/FEEL («= not(approved)»), "
            "pero aquí las expresiones son Python: escriba, por ejemplo, «not (approved)».") in messages


# -- a folder, file by file ---------------------------------------------------------------------------------------

CALLER = foreign(('<bpmn:task id="Task_1" name="Revisar solicitud">',
                  '<bpmn:callActivity id="Task_1" name="Revisar solicitud" calledElement="revision">'),
                 ("</bpmn:task>", "</bpmn:callActivity>"), process_id="tramite")
CALLED = foreign(process_id="revision")


def test_a_folder_is_validated_file_by_file_and_a_broken_file_hides_nothing(tmp_path):
    (tmp_path / "a_roto.bpmn").write_bytes(foreign((' width="100"', "")))
    (tmp_path / "b_tramite.bpmn").write_bytes(CALLER)
    (tmp_path / "c_revision.bpmn").write_bytes(CALLED)
    (tmp_path / "d_ciclo.bpmn").write_bytes(foreign(
        ("<bpmn:outgoing>Flow_2</bpmn:outgoing>\n    </bpmn:task>",
         "<bpmn:outgoing>Flow_2</bpmn:outgoing><bpmn:standardLoopCharacteristics/>\n    </bpmn:task>"),
        process_id="ciclo"))
    problems = validate_paths([tmp_path])
    by_file = {}
    for problem in problems:
        by_file.setdefault(problem.file.rsplit("/", 1)[-1], []).append(problem.message)
    # One file's schema error does not hide the next file's engine error, and the call activity of b resolves to
    # the process of c (same folder), so neither b nor c has a problem.
    assert sorted(by_file) == ["a_roto.bpmn", "d_ciclo.bpmn"]
    assert by_file["a_roto.bpmn"][0].startswith("El elemento dc:Bounds del dibujo de la tarea")
    assert by_file["d_ciclo.bpmn"][0].startswith("La tarea «Revisar solicitud» (Task_1) se repite")


def test_validate_files_reports_a_missing_called_process_under_the_caller():
    [problem] = validate_files({"tramite.bpmn": CALLER})
    assert problem.file == "tramite.bpmn" and "«revision»" in problem.message
    assert validate_files({"tramite.bpmn": CALLER, "revision.bpmn": CALLED}) == []


@pytest.mark.parametrize("data, expected", [
    (b"<a><b></a>", "El XML no está bien formado: la etiqueta de cierre de «a» no corresponde al elemento «b», "
                    "abierto en la línea 1."),
    (b"<a><b>", "El XML no está bien formado: el archivo termina antes de cerrar el elemento «b», abierto en la "
                "línea 1: ¿está incompleto?."),
    (b"<a>& b</a>", "El XML no está bien formado: hay un carácter & suelto: escríbalo &amp;."),
    (b"<bpmn:a/>", "El XML no está bien formado: el prefijo «bpmn» del elemento «bpmn:a» no está declarado (falta "
                   "xmlns:bpmn)."),
    (b"<a><!-- x </a>", "El XML no está bien formado: un comentario no se cierra (falta «-->»)."),
    (b"<a x='1/>", "El XML no está bien formado: un valor de atributo no está entre comillas o le falta la comilla "
                   "de cierre."),
    (b'<a xmlns:xsi=""/>', "El XML no está bien formado: la declaración xmlns:xsi está vacía: dele el URI de su "
                           "espacio de nombres o quítela."),
    (b"<a>< b</a>", "El XML no está bien formado: hay un carácter «<» que no empieza una etiqueta válida: si es "
                    "texto, escríbalo &lt;."),
])
def test_xml_that_is_not_well_formed_is_said_in_spanish(data, expected):
    [problem] = problems_of({"x.bpmn": data})
    assert problem.message == expected and problem.line == 1


def test_a_root_of_another_namespace_is_named_without_braces():
    [problem] = problems_of({"x.bpmn": b'<definitions xmlns="http://schema.omg.org/spec/BPMN/2.0"/>'})
    assert problem.message.startswith("El archivo no es BPMN 2.0 ni DMN: su elemento raíz es «definitions» del "
                                      "espacio de nombres «http://schema.omg.org/spec/BPMN/2.0»")
    assert "{http" not in problem.message


def test_a_timer_without_expression_is_said_naming_the_event():
    doc = foreign(('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="End_1" />',
                   '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="T1" />'
                   '<bpmn:intermediateCatchEvent id="T1" name="Esperar respuesta"><bpmn:timerEventDefinition/>'
                   '</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="Flow_3" sourceRef="T1" targetRef="End_1"/>'))
    [problem] = problems_of({"d.bpmn": doc})
    assert problem.message == ("El evento intermedio de captura «Esperar respuesta» (T1) es un temporizador sin "
                               "expresión: agregue una fecha (timeDate), una duración (timeDuration) o un ciclo "
                               "(timeCycle), entre comillas.")


def test_a_script_in_another_language_is_said_with_its_language():
    doc = foreign(('<bpmn:task id="Task_1" name="Revisar solicitud">',
                   '<bpmn:scriptTask id="Task_1" name="Calcular" scriptFormat="javascript">'),
                  ("</bpmn:task>", '<bpmn:script>var total = amount * 2;</bpmn:script></bpmn:scriptTask>'))
    [problem] = problems_of({"d.bpmn": doc})
    assert problem.message.startswith("El script de la tarea de script «Calcular» (Task_1) está escrito en javascript "
                                      "(«var total = amount * 2;»), pero aquí los scripts son Python")
