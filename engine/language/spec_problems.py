"""What lxml's schema validation and SpiffWorkflow's parser raise, said as Problems a supervisor can act on.

engine.language.specs parses; this module only reads the trees it already parsed (to find the element an error is
about and its line) and rewrites the libraries' English messages as translatable ones (engine.messages).
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from engine.errors import Problem
from engine.language.lint import BPMN_NS, NS, SPIFF_NS, dangling_flow_problem
from engine.messages import msg, one_line
from engine.language.tree_index import TreeIndex

BUNDLE = "<bundle>"  # Problem.file for problems that belong to no single file
_PREFIXES = {BPMN_NS: "bpmn:", SPIFF_NS: "spiffworkflow:", **{ns: "dmn:" for ns in DMN_SCHEMAS}}


def unexpected(exc: Exception) -> str:
    return msg("Error inesperado al leer los archivos: %(error)s: %(detail)s", error=type(exc).__name__,
               detail=str(exc))


def element_tag(problem: Problem, ids: TreeIndex) -> str | None:
    """The local tag of the element a problem is about ('callActivity'), looked up in the bundle's index."""
    el = ids.get(problem.file, problem.element_id)
    return etree.QName(el).localname if el is not None else None


def _find(root, element_id):
    if root is None or not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0] if found else None


def dedupe(problems: list[Problem]) -> list[Problem]:
    # One line per message (diagram names carry line breaks), each problem once.
    return list(dict.fromkeys(replace(p, message=one_line(p.message)) for p in problems))


def readable(text: str) -> str:
    """Spiff/lxml messages carry '{namespace}tag' and stray whitespace; make them readable."""
    for ns, prefix in _PREFIXES.items():
        text = text.replace("{%s}" % ns, prefix)
    return " ".join(text.split())


def _xsd_message(message: str) -> str:
    message = readable(message)
    m = re.search(r"attribute 'isExecutable': '([^']*)' is not a valid value", message)
    if m:
        return msg('El atributo isExecutable de bpmn:process debe ser "true" o "false", no "%(value)s".',
                   value=m.group(1))
    m = re.search(r"attribute '(\w+)': '([^']*)' is not a valid value of the atomic type 'xs:ID'", message)
    if m:
        return msg("El %(attribute)s «%(value)s» ya lo usa otro elemento de este archivo o no es un id XML válido "
                   "(letras, dígitos, '-', '_' y '.', sin empezar con un dígito). Los id deben ser únicos.",
                   attribute=m.group(1), value=m.group(2))
    # lxml's own text stays as it is (a parameter); only the parts we recognise are said in the reader's language.
    allowed = None
    m = re.search(r"Expected is (?:one of )?\( ?(.*?) ?\)\.?$", message)
    if m:
        options = [o.strip() for o in m.group(1).split(",")]
        allowed = ", ".join(options[:6])
        if len(options) > 6:
            allowed = msg("%(options)s, … (%(count)s más)", options=allowed, count=len(options) - 6)
        message = message[:m.start()]
    not_here = "This element is not expected." in message
    detail = " ".join(message.replace("This element is not expected.", " ").split())
    if not_here and allowed:
        return msg("El documento no cumple el esquema XML de BPMN/DMN: %(detail)s este elemento no se permite "
                   "aquí. Aquí se permite: %(allowed)s.", detail=detail, allowed=allowed)
    if not_here:
        return msg("El documento no cumple el esquema XML de BPMN/DMN: %(detail)s este elemento no se permite "
                   "aquí.", detail=detail)
    if allowed:
        return msg("El documento no cumple el esquema XML de BPMN/DMN: %(detail)s Aquí se permite: %(allowed)s.",
                   detail=detail, allowed=allowed)
    return msg("El documento no cumple el esquema XML de BPMN/DMN: %(detail)s", detail=detail)


def _xsd_problem(name: str, root, message: str, line) -> Problem:
    element_id = None
    tag = re.match(r"Element '([^']+)'", message)
    if tag and line and root is not None:  # the element meant is the one of that tag on that line
        for el in root.iter(tag.group(1)):
            if el.sourceline == line:
                element_id = el.get("id")
                break
    return Problem(name, _xsd_message(message), element_id, line or None)


def problems_from(exc: Exception, current: str | None, bpmn, dmn, xsd_log) -> list[Problem]:
    """Turn anything SpiffWorkflow or lxml raised into Problems a supervisor can act on."""
    docs = {**dmn, **bpmn}
    if not isinstance(exc, ValidationException):
        return [Problem(current or BUNDLE, unexpected(exc))]
    raw = str(exc.args[0]) if exc.args else str(exc)
    file = exc.file_name or current or BUNDLE
    if exc.line_number and not exc.id:  # the validator's failure: schema errors carry a line, never an id
        entries = [e for e in (xsd_log or []) if e.line] or [None]
        if entries[0] is None:
            return [_xsd_problem(file, docs.get(file), raw, exc.line_number)]
        return [_xsd_problem(file, docs.get(file), e.message, e.line) for e in entries[:20]]
    if file not in docs and exc.id:  # Spiff sometimes forgets the file name: find the id
        file = next((n for n, r in bpmn.items() if _find(r, exc.id) is not None), file)
    root = docs.get(file)
    el = _find(root, exc.id)
    line = el.sourceline if el is not None else None
    if raw.startswith("When looking for a task spec") and el is not None:
        target = re.search(r"\(([^()]*)\)\s*$", raw)
        for flow in el.getparent().iterfind("bpmn:sequenceFlow", NS):
            if flow.get("sourceRef") == exc.id and (target is None or flow.get("targetRef") == target.group(1)):
                problem = dangling_flow_problem(file, flow, "targetRef", bpmn)
                if problem:
                    return [problem]
    if raw.startswith("Data Store with name") and root is not None:
        return [Problem(file, msg("Los almacenes de datos no se admiten (almacén de datos «%(name)s»): quítelo "
                                  "junto con sus referencias, o use un objeto de datos en su lugar.",
                                  name=ds.get("name") or ds.get("id")),
                        ds.get("id"), ds.sourceline) for ds in root.iter("{%s}dataStore" % BPMN_NS)]
    message = _rewrite(raw, exc, el)
    return [Problem(file, message, exc.id or None, line)]


def _rewrite(raw: str, exc: ValidationException, el) -> str:
    tag = readable(exc.tag or "")
    name = exc.name or exc.id
    what = msg("El elemento %(tag)s «%(name)s»", tag=tag, name=name) if tag else msg("Este elemento")
    detail = readable(raw)
    if raw.startswith("A Service Task must have an operator"):
        return msg("La tarea de servicio «%(name)s» no indica qué servicio llamar: agregue una extensión "
                   "spiffworkflow:serviceTaskOperator que nombre el servicio.", name=name)
    m = re.match(r"Cannot resolve data(Input|Output)Association", raw)
    if m and el is not None:
        end = "sourceRef" if m.group(1) == "Input" else "targetRef"
        refs = ", ".join(el.xpath(f"./bpmn:data{m.group(1)}Association/bpmn:{end}/text()", namespaces=NS)) or "?"
        if m.group(1) == "Input":
            return msg("%(what)s tiene una asociación de entrada de datos con «%(refs)s», que no es una referencia "
                       "a un objeto de datos de este proceso (no se admiten almacenes de datos ni entradas o salidas "
                       "de datos de otros pools).", what=what, refs=refs)
        return msg("%(what)s tiene una asociación de salida de datos con «%(refs)s», que no es una referencia a un "
                   "objeto de datos de este proceso (no se admiten almacenes de datos ni entradas o salidas de "
                   "datos de otros pools).", what=what, refs=refs)
    if raw.startswith("No DMN Diagram available"):
        return msg("%(what)s evalúa una decisión que no está en ningún archivo DMN de este conjunto de archivos: "
                   "%(detail)s", what=what, detail=detail)
    if re.match(r"Process .* is not executable", raw):
        return msg('El proceso «%(process)s» está marcado isExecutable="false", así que no se puede ejecutar ni '
                   'llamar.', process=exc.id)
    m = re.match(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)", raw)
    if m:
        return msg("El subproceso «%(name)s» debe contener exactamente un evento de inicio (tiene %(count)s).",
                   name=name, count=m.group(1))
    if raw.startswith("A SubWorkflow Must contain an End event"):
        return msg("El subproceso «%(name)s» debe contener un evento de fin.", name=name)
    if raw.startswith("A multiinstance task must specify a cardinality"):
        return msg("La actividad multiinstancia «%(name)s» (%(tag)s) debe indicar cuántas instancias crear: agregue "
                   "una expresión loopCardinality o un loopDataInputRef que nombre la colección que se recorre.",
                   name=name, tag=tag)
    if raw.startswith("No start event found"):
        return msg("El proceso «%(process)s» no tiene evento de inicio: agregue uno para que un expediente pueda "
                   "comenzar.", process=exc.id)
    if raw.startswith("There is no support implemented for this task type"):
        return msg("El motor no admite elementos de tipo %(tag)s.", tag=tag)
    if raw.startswith("Duplicate process ID"):
        return msg("El id de proceso «%(process)s» se usa dos veces en este conjunto de archivos (¿dos versiones del "
                   "mismo archivo?); los id de proceso deben ser únicos.", process=exc.id)
    if raw.startswith("RecursionError"):
        return msg("%(what)s: la cadena de pasos que empieza aquí es demasiado larga para que el motor la lea "
                   "(cientos de pasos seguidos); divida el proceso con actividades de llamada o subprocesos.",
                   what=what)
    if raw.startswith(("KeyError", "AttributeError", "TypeError", "ValueError", "IndexError")):
        return msg("%(what)s: el motor no pudo leerlo (%(detail)s); revise sus atributos y referencias.",
                   what=what, detail=detail)
    if tag:
        return msg("%(what)s no es válido para el motor: %(detail)s", what=what, detail=detail)
    return msg("El motor rechaza el diagrama: %(detail)s", detail=detail)
