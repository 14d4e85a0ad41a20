"""processes/, forms/ and lanes.json agree with each other and with docs/PROCESS_CONVENTIONS.md.

Every diagram that appears in processes/ is checked automatically; each check names the file and element.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
from lxml import etree

from engine.usecases.deploy import read_paths
from engine.language.specs import parse_bundle
from forms.registry import CITIZEN_EMAIL, FORMS_DIR, FormRegistry
from tests.processes.driver import PROCESSES

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd")
FLOW_NODES = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway")
BPMN_FILES = sorted(PROCESSES.rglob("*.bpmn"))  # as engine.usecases.deploy.read_paths finds them
FORM_KEYS = set(FormRegistry().keys())
# Words that give away an English (or placeholder) name; clerks read these names.
ENGLISH = re.compile(r"\b(the|task|review|approve|send|check|start|end|user|form|request|todo|gateway|event)\b", re.I)


@lru_cache(maxsize=None)
def tree(path: Path):
    return etree.parse(str(path)).getroot()


def processes(path: Path):
    return tree(path).findall("bpmn:process", NS)


def flow_nodes(process):
    """Every flow node of a process, sub-processes included."""
    return [el for name in FLOW_NODES for el in process.iter(f"{{{NS['bpmn']}}}{name}")]


def form_of(el) -> str | None:
    prop = el.find("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='form']", NS)
    return prop.get("value") if prop is not None else None


def all_processes():
    return {p.get("id"): (path, p) for path in BPMN_FILES for p in processes(path)}


def called_ids() -> set[str]:
    return {ca.get("calledElement") for path in BPMN_FILES for ca in tree(path).iter(f"{{{NS['bpmn']}}}callActivity")}


def decision_ids() -> set[str]:
    found = set()
    for path in PROCESSES.rglob("*.dmn"):
        root = tree(path)
        found |= {d.get("id") for ns in DMN_NAMESPACES for d in root.findall(f"{{{ns}}}decision")}
    return found


def where(path: Path, el) -> str:
    return f"{path.name}:{el.sourceline} [{el.get('id')}]"


files = pytest.mark.parametrize("path", BPMN_FILES, ids=[p.name for p in BPMN_FILES])


def test_every_diagram_parses_and_lints_clean_as_one_bundle():
    bundle = parse_bundle(read_paths([PROCESSES]))  # raises SpecInvalid listing every error
    assert [str(w) for w in bundle.warnings] == []
    assert set(bundle.processes) == {pid for pid, (_path, p) in all_processes().items()
                                     if p.get("isExecutable") == "true"}


@files
def test_one_executable_process_per_file_named_like_the_file(path):
    executable = [p.get("id") for p in processes(path) if p.get("isExecutable") == "true"]
    assert executable == [path.stem]


@files
def test_every_user_task_has_a_spanish_name_documentation_and_an_existing_form(path):
    problems = []
    for process in processes(path):
        for task in process.iter(f"{{{NS['bpmn']}}}userTask"):
            name = " ".join((task.get("name") or "").split())
            if not name or name == task.get("id") or re.fullmatch(r"[a-z0-9_]+", name) or ENGLISH.search(name):
                problems.append(f"{where(path, task)}: name {name!r} is not a Spanish name")
            if not (task.findtext("bpmn:documentation", namespaces=NS) or "").strip():
                problems.append(f"{where(path, task)}: no documentation (instructions for the clerk)")
            form = form_of(task)
            if form not in FORM_KEYS:
                problems.append(f"{where(path, task)}: form {form!r} is not in forms/")
    assert not problems, "\n".join(problems)


@files
def test_every_flow_node_has_a_name(path):
    unnamed = [f"{where(path, el)}: no name" for process in processes(path) for el in flow_nodes(process)
               if not (el.get("name") or "").strip()]
    assert not unnamed, "\n".join(unnamed)


def top_level_starts() -> dict[str, tuple[Path, list]]:
    """Each top-level executable process's plain start events (no timer, no message): where its intake is filed."""
    called = called_ids()
    return {pid: (path, [s for s in process.findall("bpmn:startEvent", NS)
                         if s.find("bpmn:timerEventDefinition", NS) is None
                         and s.find("bpmn:messageEventDefinition", NS) is None])
            for pid, (path, process) in all_processes().items()
            # a called process receives the caller's data; it has no intake
            if pid not in called and process.get("isExecutable") == "true"}


def intake_forms() -> dict[str, str]:
    """The intake form of every top-level procedure, by process id."""
    return {pid: form_of(start) for pid, (_path, starts) in top_level_starts().items() for start in starts}


def test_every_top_level_process_names_its_intake_form_on_its_start_event():
    problems = []
    for pid, (path, starts) in top_level_starts().items():
        for start in starts:
            if form_of(start) not in FORM_KEYS:
                problems.append(f"{where(path, start)}: intake form {form_of(start)!r} is not in forms/")
        if not starts:
            problems.append(f"{path.name} [{pid}]: no start event")
    assert not problems, "\n".join(problems)


def test_every_intake_form_with_an_email_field_declares_exactly_one_citizen_address():
    """Mail to the citizen goes to the one field the intake form marks "x-correo-ciudadano" (forms.registry)."""
    intakes = set(intake_forms().values())
    problems = []
    for key in sorted(FORM_KEYS):
        properties = json.loads((FORMS_DIR / f"{key}.schema.json").read_text(encoding="utf-8"))["properties"]
        emails = [name for name, prop in properties.items() if prop.get("format") == "email"]
        marked = [name for name, prop in properties.items() if CITIZEN_EMAIL in prop]
        if key not in intakes:
            if marked:
                problems.append(f"{key}: {CITIZEN_EMAIL} on {marked}, but it is no procedure's intake form")
            continue
        if emails and len(marked) != 1:
            problems.append(f"{key}: e-mail fields {emails}, {len(marked)} marked {CITIZEN_EMAIL} (mark one)")
        for name in marked:
            prop = properties[name]
            if prop[CITIZEN_EMAIL] is not True or prop.get("type") != "string" or prop.get("format") != "email":
                problems.append(f"{key}: {name} is marked {CITIZEN_EMAIL} but is not a string of format email")
        if len(marked) == 1 and FormRegistry().citizen_email_field(key) != marked[0]:
            problems.append(f"{key}: the registry does not read {marked[0]} as the citizen's address")
    assert not problems, "\n".join(problems)


# Forms no diagram of today uses, kept for what was published with them: `subsanacion` received the fix with the
# clerk's verdict in one task (comun_revision_completitud before verificar_subsanacion); its cases keep it with their
# version, and a diagram of that time still passes the modeler's check that its forms exist in forms/.
# What institutions answered, typed by a clerk, and the oficios that asked them, drafted by one, before they were
# asked by a service task (solicitar_institucion) and answered by link: oficio_consulta and
# oficio_respuesta_institucion (D1's consultation); mediacion_oficios_certificacion, mediacion_certificaciones and
# mediacion_reiteracion (the mediation's certificates from the RIC and the property registry);
# licencia_solicitud_opiniones, licencia_opinion_pnc and licencia_opinion_coordinador (the licence's opinions).
RETIRED_FORMS = {"subsanacion", "oficio_consulta", "oficio_respuesta_institucion", "mediacion_oficios_certificacion",
                 "mediacion_certificaciones", "mediacion_reiteracion", "licencia_solicitud_opiniones",
                 "licencia_opinion_pnc", "licencia_opinion_coordinador"}


def test_every_form_file_is_used_by_some_diagram():
    used = {form_of(el) for path in BPMN_FILES for process in processes(path) for el in flow_nodes(process)}
    unused = sorted(FORM_KEYS - used - RETIRED_FORMS)
    assert not unused, f"forms no diagram uses: {unused}"
    assert RETIRED_FORMS <= FORM_KEYS and not RETIRED_FORMS & used, "a retired form is gone or used again"


@pytest.mark.parametrize("key", sorted(FORM_KEYS))
def test_every_form_follows_the_conventions(key):
    schema = json.loads((FORMS_DIR / f"{key}.schema.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"[a-z0-9_]+", key)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("type") == "object" and schema.get("title")
    assert schema.get("additionalProperties") is False
    untitled = [name for name, prop in schema.get("properties", {}).items() if not prop.get("title")]
    assert not untitled, "\n".join(untitled)
    assert set(schema.get("required", [])) <= set(schema.get("properties", {}))
    for name, prop in schema.get("properties", {}).items():
        if "x-etiquetas" in prop:
            assert set(prop["x-etiquetas"]) == set(prop.get("enum") or prop.get("items", {}).get("enum", [])), name
    for column, field in schema.get("x-resumen", {}).items():
        assert field.split("/")[0] in schema["properties"], f"x-resumen {column} → {field}"


@files
def test_every_flow_node_is_in_exactly_one_lane_and_every_lane_is_mapped_to_a_group(path):
    table = json.loads((PROCESSES / "lanes.json").read_text(encoding="utf-8"))
    problems = []
    for process in processes(path):
        lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
        if not lanes:
            problems.append(f"{path.name} [{process.get('id')}]: no laneSet")
        mapped = {**table.get("*", {}), **table.get(process.get("id"), {})}
        for lane in lanes:
            if lane.get("name") not in mapped:
                problems.append(f"{where(path, lane)}: lane {lane.get('name')!r} is not in lanes.json")
        refs = [r.text.strip() for lane in lanes for r in lane.findall("bpmn:flowNodeRef", NS)]
        for el in process.findall("*"):
            if etree.QName(el).localname in FLOW_NODES and lanes and refs.count(el.get("id")) != 1:
                problems.append(f"{where(path, el)}: in {refs.count(el.get('id'))} lanes")
    assert not problems, "\n".join(problems)


def test_every_called_element_and_decision_exists():
    executable = {pid for pid, (_path, p) in all_processes().items() if p.get("isExecutable") == "true"}
    decisions = decision_ids()
    problems = []
    for path in BPMN_FILES:
        for ca in tree(path).iter(f"{{{NS['bpmn']}}}callActivity"):
            if ca.get("calledElement") not in executable:
                problems.append(f"{where(path, ca)}: calls missing process {ca.get('calledElement')!r}")
        for rule in tree(path).iter(f"{{{NS['bpmn']}}}businessRuleTask"):
            decision = (rule.findtext("bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS) or "").strip()
            if decision not in decisions:
                problems.append(f"{where(path, rule)}: decision {decision!r} has no DMN in processes/")
    assert not problems, "\n".join(problems)


@files
def test_every_shape_and_edge_has_diagram_coordinates(path):
    root = tree(path)
    drawn = {el.get("bpmnElement") for el in root.iter(f"{{{NS['bpmndi']}}}BPMNShape", f"{{{NS['bpmndi']}}}BPMNEdge")}
    missing = [where(path, el) for process in processes(path)
               for el in [*flow_nodes(process), *process.iter(f"{{{NS['bpmn']}}}sequenceFlow")]
               if el.get("id") not in drawn]
    assert not missing, "\n".join(missing)
