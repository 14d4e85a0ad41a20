"""How problem messages name a diagram's elements and quote its values, so a supervisor finds what to fix.

Every element is said by its kind, its name and its id ("la compuerta exclusiva «¿Completo?» (gw_1)"): modelers
show names, and the id is what a search in the file finds. Values (an expression, a name) are quoted on one line,
without markup, and shortened at a word boundary so that no message carries a page of XML.
"""
from __future__ import annotations

import re

from lxml import etree

from engine.messages import Message, msg, one_line

MAX_VALUE_CHARS = 120
MAX_NAME_CHARS = 80

# What a supervisor calls each kind of element, and its grammatical gender (for "el"/"la", "del"/"de la").
KINDS: dict[str, tuple[Message, str]] = {
    "task": (msg("tarea"), "f"),
    "userTask": (msg("tarea de usuario"), "f"),
    "manualTask": (msg("tarea manual"), "f"),
    "scriptTask": (msg("tarea de script"), "f"),
    "serviceTask": (msg("tarea de servicio"), "f"),
    "sendTask": (msg("tarea de envío"), "f"),
    "receiveTask": (msg("tarea de recepción"), "f"),
    "businessRuleTask": (msg("tarea de regla de negocio"), "f"),
    "callActivity": (msg("actividad de llamada"), "f"),
    "subProcess": (msg("subproceso"), "m"),
    "transaction": (msg("transacción"), "f"),
    "adHocSubProcess": (msg("subproceso ad hoc"), "m"),
    "exclusiveGateway": (msg("compuerta exclusiva"), "f"),
    "inclusiveGateway": (msg("compuerta inclusiva"), "f"),
    "parallelGateway": (msg("compuerta paralela"), "f"),
    "eventBasedGateway": (msg("compuerta basada en eventos"), "f"),
    "complexGateway": (msg("compuerta compleja"), "f"),
    "startEvent": (msg("evento de inicio"), "m"),
    "endEvent": (msg("evento de fin"), "m"),
    "intermediateCatchEvent": (msg("evento intermedio de captura"), "m"),
    "intermediateThrowEvent": (msg("evento intermedio de lanzamiento"), "m"),
    "boundaryEvent": (msg("evento de borde"), "m"),
    "implicitThrowEvent": (msg("evento implícito de lanzamiento"), "m"),
    "callChoreography": (msg("coreografía de llamada"), "f"),
    "choreographyTask": (msg("tarea de coreografía"), "f"),
    "subChoreography": (msg("subcoreografía"), "f"),
    "sequenceFlow": (msg("flujo de secuencia"), "m"),
    "process": (msg("proceso"), "m"),
    "lane": (msg("carril"), "m"),
    "dataStoreReference": (msg("almacén de datos"), "m"),
    "dataObjectReference": (msg("objeto de datos"), "m"),
    "participant": (msg("participante"), "m"),
}
_ELEMENT = (msg("elemento"), "m")

# (form, gender, named) -> template. Forms: "the" (in a sentence), "The" (starting one), "of" (de + article),
# "to" (a + article).
_TEMPLATES = {
    ("the", "m", True): msg("el %(kind)s «%(name)s» (%(id)s)"),
    ("the", "f", True): msg("la %(kind)s «%(name)s» (%(id)s)"),
    ("the", "m", False): msg("el %(kind)s sin nombre (%(id)s)"),
    ("the", "f", False): msg("la %(kind)s sin nombre (%(id)s)"),
    ("The", "m", True): msg("El %(kind)s «%(name)s» (%(id)s)"),
    ("The", "f", True): msg("La %(kind)s «%(name)s» (%(id)s)"),
    ("The", "m", False): msg("El %(kind)s sin nombre (%(id)s)"),
    ("The", "f", False): msg("La %(kind)s sin nombre (%(id)s)"),
    ("of", "m", True): msg("del %(kind)s «%(name)s» (%(id)s)"),
    ("of", "f", True): msg("de la %(kind)s «%(name)s» (%(id)s)"),
    ("of", "m", False): msg("del %(kind)s sin nombre (%(id)s)"),
    ("of", "f", False): msg("de la %(kind)s sin nombre (%(id)s)"),
    ("to", "m", True): msg("al %(kind)s «%(name)s» (%(id)s)"),
    ("to", "f", True): msg("a la %(kind)s «%(name)s» (%(id)s)"),
    ("to", "m", False): msg("al %(kind)s sin nombre (%(id)s)"),
    ("to", "f", False): msg("a la %(kind)s sin nombre (%(id)s)"),
}


def local_name(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def kind(local: str) -> str:
    """'scriptTask' -> 'tarea de script' (translatable); an unknown tag as 'bpmn:tag'."""
    found = KINDS.get(local)
    return found[0] if found else f"bpmn:{local}"


def describe(el, form: str = "the") -> str:
    """The element as a message names it: 'la compuerta exclusiva «¿Completo?» (gw_1)'."""
    qname = etree.QName(el)
    if qname.namespace != PREFIXES_BPMN:  # DMN, diagram interchange, a vendor's extension
        tag = strip_namespaces("{%s}%s" % (qname.namespace, qname.localname)) if qname.namespace else qname.localname
        return describe_parts(tag, el.get("name"), el.get("id"), form)
    return describe_parts(local_name(el), el.get("name"), el.get("id"), form)


def describe_parts(local: str, name: str | None, element_id: str | None, form: str = "the") -> str:
    """describe() for an element known by its tag, name and id (e.g. from a SpiffWorkflow exception)."""
    noun, gender = KINDS.get(local, _ELEMENT)
    if local and local not in KINDS:
        noun = msg("elemento %(tag)s", tag=local if ":" in local else f"bpmn:{local}")
    name = shorten(name or "", MAX_NAME_CHARS)
    return Message(_TEMPLATES[(form, gender, bool(name))].msgid,
                   {"kind": noun, "name": name, "id": shorten(element_id or "?", MAX_NAME_CHARS)})


PREFIXES_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_TAG = re.compile(r"</?[A-Za-z_][\w.\-]*(?::[\w.\-]+)?(?:\s[^<>]*)?/?>")
_CLARK = re.compile(r"\{([^{}\s]+)\}([A-Za-z_][\w.\-]*|\*)")
# Prefixes for namespaces seen in other modelers' files; any other namespace is dropped, keeping the local name.
PREFIXES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    "http://www.w3.org/2001/XMLSchema": "xs",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://activiti.org/bpmn": "activiti",
    "http://flowable.org/bpmn": "flowable",
}


def strip_namespaces(text: str, nsmap: dict | None = None) -> str:
    """'{http://www.omg.org/spec/DD/20100524/DC}Bounds' -> 'dc:Bounds' (a namespace we don't know: 'Bounds')."""
    known = {**PREFIXES, **{uri: prefix for prefix, uri in (nsmap or {}).items() if prefix}}

    def one(m):
        prefix = known.get(m.group(1))
        if prefix is None and "/DMN/" in m.group(1):
            prefix = "dmn"
        return f"{prefix}:{m.group(2)}" if prefix else m.group(2)

    return _CLARK.sub(one, text)


def plain(text: str) -> str:
    """One line without markup or namespace URIs (a name or value as a message quotes it)."""
    text = strip_namespaces(str(text))
    if "<" in text:
        text = _TAG.sub(" ", text)
    return " ".join(text.split())


def shorten(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """plain(text), cut at a word boundary with '…' when longer than `limit` characters."""
    text = plain(text)
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def tidy(message: str) -> str:
    """A problem's message on one line, its quoted values plain and short; a Message stays translatable."""
    if isinstance(message, Message):
        params = {k: (tidy(v) if isinstance(v, Message) else shorten(v) if isinstance(v, str) else v)
                  for k, v in message.params.items()}
        return Message(message.msgid, params)
    return plain(one_line(message))
