"""Guided fixes for a diagram exported by another modeling tool: what keeps it from running here, each with the
change that fixes it (chosen by the supervisor where there is a choice), applied to the XML by `apply_fixes`.

A fix names its element by name and id in Spanish (engine.language.naming) and never quotes raw XML or namespace
URIs. What is known only to the office (its forms, which group works each lane) comes in `OfficeChoices`.
Kinds: process_id (the executable process must be the procedure's), task_type (a plain task: user or manual
task), lane_group (a lane no group works: rename it to one a group works), no_lane (a user task in no lane),
form (a user task without form), expression (JUEL/FEEL written for another engine: its Python equivalent) and
unsupported (explained; fixed by hand).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from engine.errors import InvalidInput
from engine.language.expressions import foreign_body, python_equivalent
from engine.language.lint import BPMN_NS, SPIFF_NS
from engine.language.naming import describe_parts, shorten, strip_namespaces
from engine.messages import msg

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
TASK_TYPES = ("userTask", "manualTask")
_FORM = "form"
# JUEL's `empty` (null, "" or an empty collection) has no operator in expressions.python_equivalent.
_NOT_EMPTY = re.compile(r"(?:!\s*|\bnot\s+)empty\s+")
_EMPTY = re.compile(r"\bempty\s+")
_UNSUPPORTED = {
    "complexGateway": msg("Las compuertas complejas no se ejecutan aquí: use una compuerta exclusiva o inclusiva con "
                      "condiciones."),
    "adHocSubProcess": msg("Los subprocesos ad hoc no se ejecutan aquí: ordene sus tareas con flujos o use un "
                       "subproceso normal."),
    "transaction": msg("Las transacciones no se ejecutan aquí: use un subproceso normal."),
    "compensateEventDefinition": msg("La compensación no se ejecuta aquí: modele la corrección como tareas del flujo."),
    "conditionalEventDefinition": msg("Los eventos condicionales no se ejecutan aquí: use una compuerta o un "
                                  "temporizador."),
}
_FOREIGN_ATTRIBUTES = ("class", "delegateExpression", "expression", "type", "topic", "decisionRef", "formKey",
                       "assignee", "candidateGroups")


@dataclass
class OfficeChoices:
    """What the office offers: its form keys and, per group, a lane name that group works ({group: lane})."""
    forms: list[str] = field(default_factory=list)
    group_lanes: dict[str, str] = field(default_factory=dict)
    mapped_lanes: set[str] = field(default_factory=set)


def _q(local: str) -> str:
    return "{%s}%s" % (BPMN_NS, local)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _is_bpmn(el) -> bool:
    return isinstance(el.tag, str) and etree.QName(el).namespace == BPMN_NS


def _named(el, form: str = "The") -> str:
    return str(describe_parts(_local(el), el.get("name"), el.get("id"), form))


def _root(xml: str | bytes):
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        raise InvalidInput(msg("El archivo no es XML bien formado: ábralo en el modelador para ver los problemas."),
                           errors=[{"field": "xml", "message": "not well-formed"}]) from None


def python_suggestion(source: str) -> str:
    """JUEL/FEEL -> Python, with JUEL's `empty` too: `${a > 5 && b == 'x'}` -> `a > 5 and b == 'x'`."""
    body = foreign_body(source)
    text = body if body is not None else source
    text = _EMPTY.sub("not ", _NOT_EMPTY.sub("", text))  # `!empty x` -> `x`, `empty x` -> `not x`
    return python_equivalent(text)


def _foreign(source: str) -> bool:
    code = re.sub(r"'[^']*'|\"[^\"]*\"", "", source)
    return foreign_body(source) is not None or any(
        token in code for token in ("&&", "||")) or bool(re.search(r"\b(eq|ne|gt|lt|ge|le|empty|null|true|false)\b"
                                                                   r"|!(?!=)", code))


def _fix(kind: str, el, message, options=None, suggestion=None, applicable=True) -> dict:
    return {"id": f"{kind}:{el.get('id')}", "kind": kind, "element_id": el.get("id"), "element_name": el.get("name"),
            "element": _named(el, "the"), "message": str(message), "options": options or [],
            "suggestion": suggestion, "applicable": applicable}


def _processes(root) -> list:
    return [p for p in root.iter(_q("process"))]


def _lanes_of(root) -> dict[str, object]:
    """flow node id -> its innermost lane element."""
    found = {}
    for lane in root.iter(_q("lane")):
        for ref in lane.iterfind(_q("flowNodeRef")):
            found[(ref.text or "").strip()] = lane
    return found


def _properties(el) -> dict[str, str]:
    ext = el.find(_q("extensionElements"))
    if ext is None:
        return {}
    return {p.get("name"): p.get("value") or "" for p in ext.iter("{%s}property" % SPIFF_NS)}


def analyse(xml: str | bytes, process_key: str, office: OfficeChoices) -> list[dict]:
    """The fixes a diagram needs to run here, in document order of their elements."""
    root = _root(xml)
    fixes: list[dict] = []
    processes = _processes(root)
    main = next((p for p in processes if p.get("id") == process_key), None)
    if processes and main is None:
        main = next((p for p in processes if p.get("isExecutable") == "true"), processes[0])
        fixes.append(_fix("process_id", main, msg(
            "El id %(process)s no es el identificador del procedimiento: se cambiará a «%(key)s» para "
            "que se pueda publicar.", process=_named(main, "of"), key=process_key), suggestion=process_key))
    for other in processes:
        if other is not main:
            fixes.append(_fix("unsupported", other, msg(
                "%(process)s es otro proceso (otra piscina) del archivo: se conserva en el diagrama, pero solo se "
                "ejecuta el proceso del procedimiento.", process=_named(other)), applicable=False))
    lanes = _lanes_of(root)
    lane_options = [{"value": lane, "label": group} for group, lane in sorted(office.group_lanes.items())]
    for lane in root.iter(_q("lane")):
        name = lane.get("name") or lane.get("id")
        if name not in office.mapped_lanes:
            fixes.append(_fix("lane_group", lane, msg(
                "%(lane)s no lo atiende ningún grupo de la oficina: elija el grupo que atiende sus tareas (el carril "
                "tomará el nombre con que ese grupo está asignado).", lane=_named(lane)),
                lane_options, applicable=bool(lane_options)))
    for el in root.iter():
        if not _is_bpmn(el):
            continue
        local = _local(el)
        if local == "task":
            fixes.append(_fix("task_type", el, msg(
                "%(task)s es una tarea sin tipo: el motor la daría por hecha sin que nadie la atienda. Conviértala en "
                "tarea de usuario (con formulario) o en tarea manual.", task=_named(el)),
                [{"value": "userTask", "label": str(msg("Tarea de usuario"))},
                 {"value": "manualTask", "label": str(msg("Tarea manual"))}]))
        if local in ("task", "userTask", "manualTask") and el.get("id") not in lanes:
            fixes.append(_fix("no_lane", el, msg(
                "%(task)s no está en ningún carril: elija el grupo que la atiende.", task=_named(el)),
                lane_options, applicable=bool(lane_options)))
        if local == "userTask" and not _properties(el).get(_FORM):
            fixes.append(_fix("form", el, msg(
                "%(task)s no tiene formulario: elija el que llena quien la atiende.", task=_named(el)),
                [{"value": f, "label": f} for f in office.forms], applicable=bool(office.forms)))
        if local == "conditionExpression" or (local == "script" and el.getparent() is not None):
            fixes += _expression_fixes(el)
        if local in _UNSUPPORTED:
            owner = el.getparent() if local.endswith("EventDefinition") else el
            fixes.append(_fix("unsupported", owner, msg("%(element)s: %(why)s", element=_named(owner),
                                                         why=_UNSUPPORTED[local]), applicable=False))
        if local in ("serviceTask", "businessRuleTask", "sendTask", "userTask", "scriptTask"):
            fixes += _foreign_attributes(el)
    return fixes


def _expression_fixes(el) -> list[dict]:
    source = (el.text or "").strip()
    owner = el.getparent()
    if not source or owner is None:
        return []
    if _local(el) == "script":
        language = (owner.get("scriptFormat") or "python").lower()
        if "python" not in language and language not in ("", "text/x-python"):
            return [_fix("unsupported", owner, msg(
                "%(task)s tiene un script en %(language)s («%(value)s»): aquí los scripts son Python; reescríbalo.",
                task=_named(owner), language=shorten(language, 40), value=shorten(source)), applicable=False)]
        if foreign_body(source) is None:
            return []
    elif not _foreign(source):
        return []
    suggestion = python_suggestion(source)
    return [_fix("expression", owner, msg(
        "%(element)s usa sintaxis JUEL/FEEL («%(value)s»); aquí las expresiones son Python: «%(suggestion)s».",
        element=_named(owner), value=shorten(source), suggestion=shorten(suggestion)), suggestion=suggestion)]


def _foreign_attributes(el) -> list[dict]:
    """Another engine's implementation attributes (camunda:class, zeebe's type, a decisionRef…): explained."""
    found = []
    for attr in el.attrib:
        qname = etree.QName(attr)
        if qname.namespace and qname.namespace != BPMN_NS and qname.localname in _FOREIGN_ATTRIBUTES:
            found.append(strip_namespaces(f"{{{qname.namespace}}}{qname.localname}"))
    if not found:
        return []
    return [_fix("unsupported", el, msg(
        "%(element)s usa atributos de otro motor (%(attributes)s) que aquí no tienen efecto: configure la tarea en "
        "el panel de propiedades (formulario, operador o tabla de decisión).", element=_named(el),
        attributes=", ".join(sorted(set(found)))), applicable=False)]


def apply_fixes(xml: str | bytes, process_key: str, chosen: list[dict], office: OfficeChoices) -> bytes:
    """The diagram with the chosen fixes applied ([{"id": fix id, "value": the option or the edited suggestion}]).
    InvalidInput naming the fix for an unknown fix or a value that is not one of its options."""
    root = _root(xml)
    known = {f["id"]: f for f in analyse(xml, process_key, office)}
    by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for i, choice in enumerate(chosen):
        fix = known.get(str(choice.get("id")))
        value = choice.get("value")
        if fix is None or not fix["applicable"]:
            raise InvalidInput(msg("El arreglo «%(id)s» no corresponde al diagrama (vuelva a analizarlo).",
                                   id=shorten(str(choice.get("id")), 80)),
                               errors=[{"field": f"fixes.{i}.id", "message": "unknown fix"}])
        options = {o["value"] for o in fix["options"]}
        if options and value not in options:
            raise InvalidInput(msg("Elija una de las opciones para %(element)s.", element=fix["element"]),
                               errors=[{"field": f"fixes.{i}.value", "message": "not an option"}])
        if not isinstance(value, str) or not value.strip():
            value = fix["suggestion"]
        _APPLY[fix["kind"]](root, by_id, by_id[fix["element_id"]], value.strip(), process_key)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _set_process_id(root, by_id, el, value, process_key):
    old = el.get("id")
    el.set("id", process_key)
    el.set("isExecutable", "true")
    for ref in root.iter():
        if not isinstance(ref.tag, str):
            continue
        for attr in ("processRef", "bpmnElement", "calledElement"):
            if ref.get(attr) == old:
                ref.set(attr, process_key)


def _set_task_type(root, by_id, el, value, process_key):
    el.tag = _q(value if value in TASK_TYPES else "userTask")


def _rename_lane(root, by_id, el, value, process_key):
    el.set("name", value)


def _put_in_lane(root, by_id, el, value, process_key):
    process = next((p for p in el.iterancestors(_q("process"), _q("subProcess")) if _local(p) == "process"), None)
    if process is None:
        return
    lane_set = process.find(_q("laneSet"))
    if lane_set is None:
        lane_set = etree.Element(_q("laneSet"), id=f"{process.get('id')}_carriles")
        process.insert(_insert_at(process), lane_set)
    lane = next((ln for ln in lane_set.iter(_q("lane")) if ln.get("name") == value), None)
    if lane is None:
        ids = {e.get("id") for e in root.iter() if isinstance(e.tag, str)}
        lane_id = "carril_" + re.sub(r"\W", "_", value.lower(), flags=re.ASCII)
        while lane_id in ids:
            lane_id += "_"
        lane = etree.SubElement(lane_set, _q("lane"), id=lane_id, name=value)
    ref = etree.SubElement(lane, _q("flowNodeRef"))
    ref.text = el.get("id")


def _insert_at(process) -> int:
    """After documentation, extensionElements and the other leading children a laneSet follows in the schema."""
    leading = {"documentation", "extensionElements", "auditing", "monitoring", "property"}
    index = 0
    for i, child in enumerate(process):
        if _local(child) in leading:
            index = i + 1
    return index


def _set_form(root, by_id, el, value, process_key):
    ext = el.find(_q("extensionElements"))
    if ext is None:
        ext = etree.Element(_q("extensionElements"))
        el.insert(1 if len(el) and _local(el[0]) == "documentation" else 0, ext)
    props = ext.find("{%s}properties" % SPIFF_NS)
    if props is None:
        props = etree.SubElement(ext, "{%s}properties" % SPIFF_NS, nsmap={"spiffworkflow": SPIFF_NS})
    prop = etree.SubElement(props, "{%s}property" % SPIFF_NS)
    prop.set("name", _FORM)
    prop.set("value", value)


def _set_expression(root, by_id, el, value, process_key):
    for child in el:
        if _local(child) in ("conditionExpression", "script"):
            child.text = value
            for attr in list(child.attrib):
                if etree.QName(attr).localname == "language":
                    del child.attrib[attr]
            return


_APPLY = {"process_id": _set_process_id, "task_type": _set_task_type, "lane_group": _rename_lane,
          "no_lane": _put_in_lane, "form": _set_form, "expression": _set_expression}
