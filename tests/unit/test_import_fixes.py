"""Guided fixes for diagrams from other tools: found on the reference models, applied to the XML, JUEL/FEEL said in
Python, every message in Spanish naming its element without raw XML or namespace URIs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.language.import_fixes import OfficeChoices, analyse, apply_fixes, python_suggestion
from engine.language.specs import elements_of

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "bpmn-reference"
FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign" / "a10_carriles_juel.bpmn"
OFFICE = OfficeChoices(forms=["notificacion", "solicitud_ciudadana"],
                       group_lanes={"Ventanilla (ventanilla)": "Ventanilla", "Trámite (tramite)": "Trámite"},
                       mapped_lanes={"Ventanilla", "Trámite"})


@pytest.mark.parametrize("source, python", [
    ("${a > 5 && b == 'x'}", "a > 5 and b == 'x'"),
    ("${!aprobado || monto gt 100}", "not aprobado or monto > 100"),
    ("${monto ge 10 and tipo ne 'rifa'}", "monto >= 10 and tipo != 'rifa'"),
    ("${x lt 3 or y le 4}", "x < 3 or y <= 4"),
    ("${valor eq null}", "valor == None"),
    ("${activo == true && cerrado == false}", "activo == True and cerrado == False"),
    ("${empty faltantes}", "not faltantes"),
    ("${!empty faltantes}", "faltantes"),
    ("#{approved}", "approved"),
    ("=monto > 5", "monto > 5"),
    ("${nombre == 'a && b'}", "nombre == 'a && b'"),  # inside a string nothing changes
])
def test_juel_and_feel_have_a_python_equivalent(source, python):
    assert python_suggestion(source) == python


def reference_files():
    if not REFERENCE.is_dir():
        pytest.skip(f"{REFERENCE} is absent (the shared BPMN reference models)")
    return sorted(REFERENCE.glob("*.bpmn"))


def test_every_reference_model_gets_fixes_in_spanish_naming_elements_without_markup():
    seen = set()
    for path in reference_files():
        fixes = analyse(path.read_bytes(), "tramite_importado", OFFICE)
        assert fixes, path.name  # none of them is ready to run here
        for fix in fixes:
            seen.add(fix["kind"])
            text = fix["message"]
            assert "{http" not in text and "http://" not in text and not re.search(r"</?\w+[:>]", text), text
            if fix["element_id"]:
                assert f"({fix['element_id'][:40]}" in text or fix["element_id"] in text, text
            assert fix["applicable"] == (fix["kind"] != "unsupported"), fix
    assert seen >= {"process_id", "task_type", "lane_group", "no_lane", "form", "expression", "unsupported"}


def test_plain_tasks_become_user_tasks_in_a_lane_with_a_form_and_the_process_takes_the_key():
    [path] = [p for p in reference_files() if p.name == "A.1.0.bpmn"]
    xml = path.read_bytes()
    fixes = analyse(xml, "tramite_importado", OFFICE)
    chosen = [{"id": f["id"], "value": {"task_type": "userTask", "no_lane": "Ventanilla"}.get(f["kind"])}
              for f in fixes if f["kind"] in ("process_id", "task_type", "no_lane")]
    fixed = apply_fixes(xml, "tramite_importado", chosen, OFFICE)
    left = analyse(fixed, "tramite_importado", OFFICE)
    assert {f["kind"] for f in left} == {"form"}  # user tasks now: each needs its form
    fixed = apply_fixes(fixed, "tramite_importado", [{"id": f["id"], "value": "notificacion"} for f in left], OFFICE)
    assert analyse(fixed, "tramite_importado", OFFICE) == []
    elements = elements_of(fixed)
    tasks = [e for e in elements.values() if e["type"] == "userTask"]
    assert len(tasks) == 3 and all(t["lane"] == "Ventanilla" and t["values"]["property:form"] == "notificacion"
                                   for t in tasks)
    assert elements["tramite_importado"]["values"]["attribute:isExecutable"] == "true"


def test_the_foreign_fixture_is_fixed_to_what_the_office_rules_accept():
    xml = FOREIGN.read_bytes()
    fixes = analyse(xml, "importado", OFFICE)
    kinds = {f["kind"] for f in fixes}
    assert {"task_type", "lane_group", "expression", "process_id"} <= kinds
    [juel] = [f for f in fixes if f["kind"] == "expression"]
    assert juel["suggestion"] == "monto > 5000 and not urgente"
    chosen = [{"id": f["id"], "value": {"task_type": "userTask", "lane_group": "Ventanilla"}.get(f["kind"])}
              for f in fixes if f["applicable"]]
    fixed = apply_fixes(xml, "importado", chosen, OFFICE)
    left = analyse(fixed, "importado", OFFICE)
    fixed = apply_fixes(fixed, "importado", [{"id": f["id"], "value": "notificacion"} for f in left], OFFICE)
    assert analyse(fixed, "importado", OFFICE) == []
    assert b"monto &gt; 5000 and not urgente" in fixed


def test_a_choice_that_is_not_an_option_or_an_unknown_fix_is_refused_naming_the_field():
    xml = FOREIGN.read_bytes()
    [task] = [f for f in analyse(xml, "importado", OFFICE) if f["kind"] == "task_type"][:1]
    with pytest.raises(InvalidInput) as refused:
        apply_fixes(xml, "importado", [{"id": task["id"], "value": "scriptTask"}], OFFICE)
    assert refused.value.errors[0]["field"] == "fixes.0.value"
    with pytest.raises(InvalidInput) as refused:
        apply_fixes(xml, "importado", [{"id": "task_type:nada", "value": "userTask"}], OFFICE)
    assert refused.value.errors[0]["field"] == "fixes.0.id"
    with pytest.raises(InvalidInput):
        analyse(b"<not xml", "importado", OFFICE)
