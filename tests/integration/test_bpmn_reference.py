"""The 21 OMG BPMN MIWG reference models: each is deployed or refused with located reasons, never a crash."""
from __future__ import annotations

import re

import pytest

from engine.errors import SpecInvalid
from engine.language.specs import Bundle, parse_bundle
from tests.conftest import SHARED

REFERENCE = SHARED / "bpmn-reference"
if not REFERENCE.is_dir():
    pytest.skip(f"BPMN reference models not available at {REFERENCE} (../shared beside the repository)",
                allow_module_level=True)

# Every error message belongs to one of these reasons; an unknown message fails the table check below.
REASONS = {
    "not-executable": r"^Ningún proceso de este archivo es ejecutable",
    "data-store": r"^Los almacenes de datos no se admiten",
    "condition-not-python": r"^La condición del flujo de secuencia «.*» \(.*\) (no es una expresión Python válida "
                            r"|usa sintaxis JUEL/FEEL)",
    "gateway-flow-without-condition": r"sin condición y no es el flujo predeterminado de la compuerta",
    "service-without-operator": r"no indica qué servicio llamar",
    "timer-unquoted-iso": r"escriba el valor ISO 8601 entre comillas",
    "timer-empty": r"^La expresión del temporizador .* está en blanco",
    "compensation-unsupported": r"no admite bpmn:compensateEventDefinition",
    "data-association-unresolved": r"tiene una asociación de (entrada|salida) de datos con",
    "rule-without-decision": r"no tiene spiffworkflow:calledDecisionId",
    "called-process-missing": r"^La actividad de llamada .* que no está en este conjunto de archivos",
    "subprocess-start-events": r"debe contener exactamente un evento de inicio",
    "multi-instance-without-input": r"es multiinstancia y debe indicar cuántas instancias",
}

# Observed with SpiffWorkflow 3.2.0 and the lint in engine/language/lint.py. None of the MIWG models is executable as
# exported: they are modeler-interchange tests (FEEL/JUEL conditions, data stores, compensation, ...).
EXPECTED: dict[str, set[str]] = {  # file -> reasons it is refused (empty set = deploys)
    "A.1.0.bpmn": {"not-executable"},
    "A.2.0.bpmn": {"not-executable"},
    "A.2.1.bpmn": {"not-executable"},
    "A.3.0.bpmn": {"not-executable"},
    "A.4.0.bpmn": {"not-executable"},
    "A.4.1.bpmn": {"not-executable"},
    "B.1.0.bpmn": {"data-store"},
    "B.2.0.bpmn": {"data-store"},
    "C.1.0.bpmn": {"condition-not-python", "service-without-operator"},
    "C.1.1.bpmn": {"data-store"},
    "C.2.0.bpmn": {"not-executable"},
    "C.3.0.bpmn": {"condition-not-python", "timer-unquoted-iso", "gateway-flow-without-condition",
                   "subprocess-start-events"},
    "C.4.0.bpmn": {"data-store"},
    "C.5.0.bpmn": {"data-store"},
    "C.6.0.bpmn": {"compensation-unsupported", "timer-empty", "data-association-unresolved",
                   "service-without-operator"},
    "C.7.0.bpmn": {"gateway-flow-without-condition", "rule-without-decision", "data-association-unresolved",
                   "service-without-operator"},
    "C.8.0.bpmn": {"not-executable"},
    "C.8.1.bpmn": {"condition-not-python", "rule-without-decision", "service-without-operator"},
    "C.9.0.bpmn": {"condition-not-python", "called-process-missing", "rule-without-decision",
                   "service-without-operator"},
    "C.9.1.bpmn": {"timer-unquoted-iso"},
    "C.9.2.bpmn": {"condition-not-python", "timer-unquoted-iso", "called-process-missing"},
}


def reasons_of(problems) -> set[str]:
    found = set()
    for problem in problems:
        if problem.severity != "error":
            continue
        reason = next((name for name, rx in REASONS.items() if re.search(rx, problem.message)), None)
        found.add(reason or f"unexpected: {problem.message}")
    return found


def outcome(files: dict[str, bytes]) -> Bundle | SpecInvalid:
    """parse_bundle's result; any exception other than SpecInvalid propagates and fails the test."""
    try:
        bundle = parse_bundle(files)
    except SpecInvalid as exc:
        return exc
    return bundle


def test_table_covers_exactly_the_reference_files():
    assert sorted(p.name for p in REFERENCE.glob("*.bpmn")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_model_deploys_or_is_refused_with_located_reasons(name):
    data = (REFERENCE / name).read_bytes()
    result = outcome({name: data})
    if isinstance(result, Bundle):
        assert len(result.processes) >= 1
        assert EXPECTED[name] == set(), f"{name} now deploys; update the table"
        return
    problems = result.problems
    assert problems, "SpecInvalid without problems"
    for problem in problems:
        assert problem.file == name and problem.message.strip()
        assert "\n" not in problem.message and "{http" not in problem.message
        if problem.severity == "error":
            assert problem.line, f"problem without a line: {problem}"
    assert reasons_of(problems) == EXPECTED[name]


def test_call_activity_resolves_when_c91_and_c92_are_deployed_together():
    files = {n: (REFERENCE / n).read_bytes() for n in ("C.9.1.bpmn", "C.9.2.bpmn")}
    result = outcome(files)
    assert isinstance(result, SpecInvalid)
    # With the call resolved, SpiffWorkflow gets further and finds the next problem in C.9.2.
    assert reasons_of(result.problems) == {"condition-not-python", "timer-unquoted-iso",
                                           "multi-instance-without-input"}


def test_all_reference_models_as_one_bundle_are_refused_not_crashed():
    result = outcome({p.name: p.read_bytes() for p in REFERENCE.glob("*.bpmn")})
    assert isinstance(result, SpecInvalid) and result.problems
    assert all(p.file and p.message for p in result.problems)
