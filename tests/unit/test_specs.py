"""engine.language.specs: safe parsing, precise problems, lint of what SpiffWorkflow does not check, caching."""
from __future__ import annotations

import os
import random
import sys
import types

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import Problem, SpecInvalid
from engine.language.folders import validate_paths
from engine.language.specs import MAX_DOCUMENT_BYTES, Bundle, ProcessSpec, parse_bundle

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
        ' id="defs" targetNamespace="http://example.org/expediente">\n')


def bpmn(body: str, process_id: str = "proc", name: str = "Trámite", executable: str = "true") -> bytes:
    """A one-process BPMN document around `body` (flow elements), line 3 being the process element."""
    return (HEAD + f'<bpmn:process id="{process_id}" name="{name}" isExecutable="{executable}">\n'
            + body + "\n</bpmn:process>\n</bpmn:definitions>\n").encode("utf-8")


LINEAR = """<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
<bpmn:userTask id="review" name="Review"/>
<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
<bpmn:endEvent id="end"/>"""


def refused(files: dict[str, bytes]) -> list[Problem]:
    with pytest.raises(SpecInvalid) as info:
        parse_bundle(files)
    problems = info.value.problems
    assert problems and all(p.file and p.message for p in problems)
    return problems


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def line_of(doc: bytes, needle: str) -> int:
    text = doc.decode("utf-8")
    return text[:text.index(needle)].count("\n") + 1


def test_valid_process_parses_into_a_bundle_with_original_bytes():
    doc = bpmn(LINEAR)
    bundle = parse_bundle({"tramite.bpmn": doc})
    assert isinstance(bundle, Bundle)
    assert list(bundle.processes) == ["proc"]
    proc = bundle.processes["proc"]
    assert isinstance(proc, ProcessSpec)
    assert (proc.process_id, proc.name) == ("proc", "Trámite")
    assert proc.subprocess_specs == {}
    assert bundle.files == {"tramite.bpmn": doc}
    assert bundle.warnings == []
    wf = BpmnWorkflow(proc.spec, proc.subprocess_specs)
    wf.do_engine_steps()
    assert [t.task_spec.name for t in wf.get_tasks() if t.task_spec.name == "review"] == ["review"]


def test_process_without_name_is_named_by_its_id():
    doc = bpmn(LINEAR).replace(b' name="Tr\xc3\xa1mite"', b"")
    assert parse_bundle({"a.bpmn": doc}).processes["proc"].name == "proc"


def test_same_content_is_parsed_only_once():
    doc = bpmn(LINEAR, process_id="cached")
    first = parse_bundle({"c.bpmn": doc})
    assert parse_bundle({"c.bpmn": bytes(doc)}) is first
    # A different file name is different content for the viewer, so it is a different bundle.
    assert parse_bundle({"d.bpmn": doc}) is not first


def test_doctype_with_internal_entity_is_refused():
    doc = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY who "world">]>\n'
           + bpmn(LINEAR).split(b"\n", 1)[1].replace(b'name="Review"', b'name="&who;"'))
    [problem] = refused({"dtd.bpmn": doc})
    assert "DOCTYPE" in problem.message and problem.line == 2


def test_external_entity_is_refused_before_any_file_is_read():
    doc = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
           b'<d>&xxe;</d>')
    [problem] = refused({"xxe.bpmn": doc})
    assert "DOCTYPE" in problem.message and "root:" not in problem.message


def test_billion_laughs_is_refused_before_its_entities_expand():
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)]
    doc = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(entities) + ']>\n<lolz>&lol9;</lolz>').encode()
    [problem] = refused({"lol.bpmn": doc})  # refused for its DOCTYPE: nothing is expanded
    assert "DOCTYPE" in problem.message


def test_doctype_hidden_in_utf16_is_refused():
    doc = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE d [<!ENTITY a "b">]>\n<d>&a;</d>'.encode("utf-16")
    [problem] = refused({"u16.bpmn": doc})
    assert "DOCTYPE" in problem.message


def test_encoding_that_could_hide_markup_is_refused():
    doc = b'<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE d+AD4-\n<d/>'
    [problem] = refused({"u7.bpmn": doc})
    assert "codificación" in problem.message.lower() and "UTF-7" in problem.message


def test_utf16_bpmn_without_doctype_is_accepted():
    doc = bpmn(LINEAR, process_id="u16").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert list(parse_bundle({"u16.bpmn": doc}).processes) == ["u16"]


def test_utf8_bom_is_accepted():
    assert "bom" in parse_bundle({"bom.bpmn": b"\xef\xbb\xbf" + bpmn(LINEAR, process_id="bom")}).processes


def test_oversized_document_is_refused_without_parsing():
    doc = bpmn(LINEAR + "<!--" + "x" * MAX_DOCUMENT_BYTES + "-->")
    [problem] = refused({"big.bpmn": doc})
    assert "límite" in problem.message and "2,097,152" in problem.message and problem.file == "big.bpmn"


def test_malformed_xml_is_reported_with_its_line():
    doc = bpmn(LINEAR.replace('<bpmn:userTask id="review" name="Review"/>',
                              '<bpmn:userTask id="review" name="Review">'))
    [problem] = refused({"bad.bpmn": doc})
    assert problem.message.startswith("El XML no está bien formado")
    assert problem.line == line_of(doc, "</bpmn:process>")


def test_empty_and_garbage_files_are_refused_as_problems():
    problems = refused({"empty.bpmn": b"", "junk.bpmn": b"\x00\x01garbage", "text.bpmn": b"hello"})
    assert {p.file for p in problems} == {"empty.bpmn", "junk.bpmn", "text.bpmn"}


def test_non_bpmn_root_element_is_refused():
    [problem] = refused({"x.bpmn": b"<html><body/></html>"})
    assert "bpmn:definitions" in problem.message


def test_unknown_element_is_refused_by_the_schema_with_element_and_line():
    doc = bpmn(LINEAR + '\n<bpmn:fooTask id="mystery"/>')
    [problem] = refused({"unk.bpmn": doc})
    assert "bpmn:fooTask" in problem.message and "no se permite en este lugar" in problem.message
    assert problem.line == line_of(doc, "<bpmn:fooTask")
    assert problem.element_id == "mystery"
    assert "{http" not in problem.message


def test_is_executable_must_be_true_or_false():
    [problem] = refused({"maybe.bpmn": bpmn(LINEAR, executable="maybe")})
    assert "isExecutable" in problem.message and '"maybe"' in problem.message and problem.line == 3
    # The schema accepts "1", but SpiffWorkflow would silently treat it as not executable.
    problems = refused({"one.bpmn": bpmn(LINEAR, executable="1")})
    assert any('isExecutable="1"' in p.message and p.element_id == "proc" for p in problems)


def test_file_without_executable_process_is_refused_clearly():
    [problem] = refused({"doc.bpmn": bpmn(LINEAR, executable="false")})
    assert "Ningún proceso de este archivo es ejecutable" in problem.message
    assert problem.element_id == "proc" and problem.line == 3


def test_dangling_sequence_flow_names_the_flow_and_missing_target():
    doc = bpmn(LINEAR.replace('targetRef="end"', 'targetRef="fin"'))
    problems = errors(refused({"dangle.bpmn": doc}))
    [problem] = problems
    assert problem.element_id == "f2" and problem.line == line_of(doc, '<bpmn:sequenceFlow id="f2"')
    assert "«fin»" in problem.message and "(f2)" in problem.message and "otra parte" not in problem.message


def test_script_syntax_error_names_the_task_and_line():
    body = LINEAR.replace('<bpmn:userTask id="review" name="Review"/>',
                          '<bpmn:scriptTask id="compute">\n<bpmn:script>x = = 1</bpmn:script>\n</bpmn:scriptTask>')
    body = body.replace('"review"', '"compute"')
    doc = bpmn(body)
    [problem] = refused({"script.bpmn": doc})
    assert problem.element_id == "compute" and problem.line == line_of(doc, "<bpmn:script>")
    assert "x = = 1" in problem.message and problem.severity == "error"


def test_scripts_are_checked_by_the_sandbox(monkeypatch):
    seen = []

    def check_script(source, mode="exec"):
        seen.append((source, mode))
        return "import is not allowed" if "import" in source else None

    fake = types.ModuleType("engine.sandbox.restricted")
    fake.check_script = check_script
    monkeypatch.setitem(sys.modules, "engine.sandbox.restricted", fake)
    body = LINEAR.replace('<bpmn:userTask id="review" name="Review"/>',
                          '<bpmn:scriptTask id="review"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>')
    [problem] = refused({"sandboxed.bpmn": bpmn(body)})
    assert problem.element_id == "review" and "import is not allowed" in problem.message
    assert seen == [("import os", "exec")]


def test_pre_and_post_scripts_are_compiled():
    body = LINEAR.replace(
        '<bpmn:userTask id="review" name="Review"/>',
        '<bpmn:userTask id="review"><bpmn:extensionElements>'
        "<spiffworkflow:preScript>ok = True</spiffworkflow:preScript>"
        "<spiffworkflow:postScript>if:</spiffworkflow:postScript>"
        "</bpmn:extensionElements></bpmn:userTask>")
    [problem] = refused({"post.bpmn": bpmn(body)})
    assert problem.element_id == "review" and problem.message.startswith("El post-script de la tarea de usuario sin nombre (review)")


GATEWAY = """<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="decide"/>
<bpmn:exclusiveGateway id="decide" {default}/>
<bpmn:sequenceFlow id="yes" sourceRef="decide" targetRef="end_yes">{yes}</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="no" sourceRef="decide" targetRef="end_no">{no}</bpmn:sequenceFlow>
<bpmn:endEvent id="end_yes"/>
<bpmn:endEvent id="end_no"/>"""


def cond(expr: str) -> str:
    return f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" ' \
           f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{expr}</bpmn:conditionExpression>'


def test_gateway_with_condition_and_default_parses():
    doc = bpmn(GATEWAY.format(default='default="no"', yes=cond("approved == True"), no=""))
    assert "proc" in parse_bundle({"gw.bpmn": doc}).processes


def test_bad_condition_is_refused_with_flow_id():
    doc = bpmn(GATEWAY.format(default='default="no"', yes=cond("approved ==="), no=""))
    [problem] = refused({"cond.bpmn": doc})
    assert problem.element_id == "yes"
    assert problem.message.startswith("La condición del flujo de secuencia sin nombre (yes) no es una expresión Python "
                                      "válida («approved ===»)")
    assert problem.line == line_of(doc, "<bpmn:conditionExpression")


def test_feel_condition_gets_a_hint():
    doc = bpmn(GATEWAY.format(default='default="no"', yes=cond("${approved}"), no=""))
    [problem] = refused({"feel.bpmn": doc})
    assert "usa sintaxis JUEL/FEEL («${approved}»)" in problem.message and "«approved»" in problem.message


def test_exclusive_gateway_flows_without_condition_or_default_are_errors():
    problems = refused({"gw.bpmn": bpmn(GATEWAY.format(default="", yes="", no=""))})
    assert sorted(p.element_id for p in errors(problems)) == ["no", "yes"]
    assert all("decide" in p.message for p in problems)


def test_exclusive_gateway_with_a_single_branch_is_only_a_warning():
    body = GATEWAY.format(default="", yes="", no="").replace(
        '<bpmn:sequenceFlow id="no" sourceRef="decide" targetRef="end_no"></bpmn:sequenceFlow>\n', "").replace(
        '<bpmn:endEvent id="end_no"/>', "")
    bundle = parse_bundle({"one.bpmn": bpmn(body)})
    [warning] = bundle.warnings
    assert warning.severity == "warning" and warning.element_id == "decide"


TIMER = ('<bpmn:intermediateCatchEvent id="{id}"><bpmn:timerEventDefinition>'
         '<bpmn:timeDuration>{expr}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def timer_process(expr: str) -> bytes:
    return bpmn(f"""<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
{TIMER.format(id="wait", expr=expr)}
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
<bpmn:endEvent id="end"/>""")


def test_quoted_timer_expression_parses():
    assert "proc" in parse_bundle({"t.bpmn": timer_process('"PT1H"')}).processes


def test_bad_timer_expression_is_refused():
    doc = timer_process('"PT1H" +')
    [problem] = refused({"t.bpmn": doc})
    assert problem.element_id == "wait" and problem.message.startswith(
        "La expresión del temporizador del evento intermedio de captura sin nombre (wait)")
    assert problem.line == line_of(doc, "<bpmn:timeDuration>")


def test_unquoted_iso_duration_is_refused_with_the_fix():
    [problem] = refused({"t.bpmn": timer_process("PT1H")})
    assert problem.element_id == "wait" and '"PT1H"' in problem.message


def test_event_gateway_with_two_timers_is_refused():
    doc = bpmn(f"""<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="race"/>
<bpmn:eventBasedGateway id="race"/>
<bpmn:sequenceFlow id="f2" sourceRef="race" targetRef="soon"/>
<bpmn:sequenceFlow id="f3" sourceRef="race" targetRef="late"/>
{TIMER.format(id="soon", expr='"PT1H"')}
{TIMER.format(id="late", expr='"PT2H"')}
<bpmn:sequenceFlow id="f4" sourceRef="soon" targetRef="end"/>
<bpmn:sequenceFlow id="f5" sourceRef="late" targetRef="end"/>
<bpmn:endEvent id="end"/>""")
    [problem] = refused({"race.bpmn": doc})
    assert problem.element_id == "race" and "2 eventos de temporizador" in problem.message


def call_process(called: str, process_id: str = "caller") -> bytes:
    return bpmn(f"""<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
<bpmn:callActivity id="call" calledElement="{called}"/>
<bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
<bpmn:endEvent id="end"/>""", process_id=process_id)


def test_missing_called_element_is_refused():
    [problem] = refused({"caller.bpmn": call_process("nowhere")})
    assert problem.element_id == "call" and "«nowhere»" in problem.message


def test_call_activity_resolves_across_two_files():
    called = bpmn(LINEAR.replace("userTask", "manualTask"), process_id="child")
    bundle = parse_bundle({"caller.bpmn": call_process("child"), "child.bpmn": called})
    assert set(bundle.processes) == {"caller", "child"}
    caller = bundle.processes["caller"]
    assert set(caller.subprocess_specs) == {"child"}
    wf = BpmnWorkflow(caller.spec, caller.subprocess_specs)
    wf.do_engine_steps()
    [manual] = wf.get_tasks(state=TaskState.READY)
    manual.run()
    wf.do_engine_steps()
    assert wf.is_completed()


def test_call_to_non_executable_process_is_refused():
    called = bpmn(LINEAR, process_id="child", executable="false")
    problems = refused({"caller.bpmn": call_process("child"), "child.bpmn": called})
    assert [p.element_id for p in errors(problems)] == ["call"]


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="fees" name="Fees" namespace="http://example.org">
  <decision id="fee_decision" name="Fee">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in_kind" label="Kind">
        <inputExpression id="in_kind_expr" typeRef="string"><text>kind</text></inputExpression>
      </input>
      <output id="out_fee" label="Fee" name="fee" typeRef="integer"/>
      <rule id="rule_a">
        <inputEntry id="rule_a_in"><text>"A"</text></inputEntry>
        <outputEntry id="rule_a_out"><text>10</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
""".encode()


def rule_process(decision: str) -> bytes:
    return bpmn(f"""<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rule"/>
<bpmn:businessRuleTask id="rule"><bpmn:extensionElements>
<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>
</bpmn:extensionElements></bpmn:businessRuleTask>
<bpmn:sequenceFlow id="f2" sourceRef="rule" targetRef="end"/>
<bpmn:endEvent id="end"/>""")


def test_dmn_and_business_rule_task_bundle_parses_and_decides():
    bundle = parse_bundle({"fees.dmn": DMN, "fees.bpmn": rule_process("fee_decision")})
    proc = bundle.processes["proc"]
    wf = BpmnWorkflow(proc.spec, proc.subprocess_specs)
    wf.get_tasks()[0].data["kind"] = "A"
    wf.do_engine_steps()
    assert wf.is_completed() and wf.data["fee"] == 10


def test_dmn_schema_error_names_the_dmn_element():
    dmn = DMN.replace(b"<output id", b'<bogus id="stray"/><output id')
    [problem] = refused({"fees.dmn": dmn, "fees.bpmn": rule_process("fee_decision")})
    assert problem.file == "fees.dmn" and problem.element_id == "stray" and "dmn:bogus" in problem.message


def test_dmn_cell_that_is_not_python_names_the_cell():
    dmn = DMN.replace(b"<text>10</text>", b"<text>10 +</text>")
    [problem] = refused({"fees.dmn": dmn, "fees.bpmn": rule_process("fee_decision")})
    assert problem.element_id == "rule_a_out" and problem.line == 11 and "{http" not in problem.message


def test_dmn_without_decision_is_refused():
    dmn = b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="x" namespace="n"/>'
    problems = refused({"empty.dmn": dmn, "fees.bpmn": rule_process("fee_decision")})
    assert any(p.file == "empty.dmn" and "ninguna decisión" in p.message for p in problems)


def test_business_rule_task_with_unknown_decision_is_refused():
    [problem] = refused({"fees.dmn": DMN, "fees.bpmn": rule_process("other")})
    assert problem.element_id == "rule" and "«other»" in problem.message and "fee_decision" in problem.message


def test_unsupported_elements_the_schema_allows_are_refused():
    doc = bpmn(LINEAR.replace('<bpmn:userTask id="review" name="Review"/>', '<bpmn:complexGateway id="review"/>'))
    [problem] = refused({"cx.bpmn": doc})
    assert problem.element_id == "review" and "complexGateway" in problem.message


def test_unreachable_task_is_a_warning():
    doc = bpmn(LINEAR + '\n<bpmn:userTask id="orphan"/>')
    [warning] = parse_bundle({"orphan.bpmn": doc}).warnings
    assert warning.element_id == "orphan" and warning.severity == "warning"


def test_duplicate_process_ids_across_files_are_refused():
    problems = refused({"a.bpmn": bpmn(LINEAR, process_id="same"), "b.bpmn": bpmn(LINEAR, process_id="same")})
    assert any("«same»" in p.message and "dos veces" in p.message for p in problems)


def test_no_input_bytes_can_raise_anything_but_spec_invalid():
    rng = random.Random(419)
    doc = bpmn(GATEWAY.format(default='default="no"', yes=cond("a"), no=""))
    samples = [doc[:n] for n in range(0, len(doc), 37)]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(50)]
    samples += [b"<" + doc, doc.replace(b'id="decide"', b'id="dec\'ide"'), doc.replace(b"decide", b"")]
    for index, sample in enumerate(samples):
        try:
            parse_bundle({f"s{index}.bpmn": sample})
        except SpecInvalid as exc:
            assert exc.problems and all(p.file and p.message for p in exc.problems)


def test_non_bytes_content_is_a_problem_not_a_crash():
    [problem] = refused({"x.bpmn": "<text/>"})
    assert "bytes" in problem.message


def test_validate_paths_returns_problems_instead_of_raising(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    (good / "nested").mkdir(parents=True)
    bad.mkdir()
    (good / "nested" / "child.bpmn").write_bytes(bpmn(LINEAR, process_id="child"))
    (good / "caller.bpmn").write_bytes(call_process("child"))
    (good / "notes.txt").write_text("ignored")
    (bad / "broken.bpmn").write_bytes(b"<bpmn:definitions")
    (bad / "script.bpmn").write_bytes(timer_process("PT1H"))
    missing = tmp_path / "missing"
    assert validate_paths([good]) == []
    problems = validate_paths([good, bad, missing, os.fspath(good / "caller.bpmn")])
    files = {p.file for p in problems}
    assert str(bad / "broken.bpmn") in files and str(missing) in files
    # A lone caller file cannot resolve its call activity; a directory bundles its files.
    assert str(good / "caller.bpmn") in files and str(good / "nested" / "child.bpmn") not in files
    assert all(isinstance(p, Problem) for p in problems)


def test_ids_and_lane_names_wider_than_their_columns_are_refused():
    from tests.bpmn import definitions
    long_id = "p" * 101
    with pytest.raises(SpecInvalid) as refused:
        parse_bundle({"long.bpmn": definitions('<bpmn:startEvent id="start"/>', long_id)})
    assert any("más de 100 caracteres" in p.message and p.element_id == long_id for p in refused.value.problems)
