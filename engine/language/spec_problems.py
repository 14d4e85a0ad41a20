"""What lxml's schema validation and SpiffWorkflow's parser raise, said as Problems a supervisor can act on.

engine.language.specs parses; this module only reads the trees it already parsed (to find the element an error is
about and its line) and rewrites the libraries' English messages as translatable ones (engine.messages).
"""
from __future__ import annotations

import re
from dataclasses import replace

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from engine.errors import Problem
from engine.language.lint import BPMN_NS, NS, SPIFF_NS, dangling_flow_problem
from engine.messages import msg, one_line
from engine.language.tree_index import TreeIndex
from engine.language.naming import describe_parts, kind as describe_kind, plain, shorten, strip_namespaces, tidy
from engine.language.xsd_messages import subject, xsd_message

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
    """Each problem once, its message on one line with its values plain and short (engine.language.naming)."""
    return list(dict.fromkeys(replace(p, message=tidy(one_line(p.message))) for p in problems))


def qualified(name: str) -> str:
    """An attribute's name as a stable key: our namespaces by their prefix, any other kept whole ('{urn:x}color'),
    so two tools' attributes of one local name stay apart (the version diff compares by this key)."""
    for ns, prefix in _PREFIXES.items():
        name = name.replace("{%s}" % ns, prefix)
    return name


def readable(text: str) -> str:
    """Spiff/lxml messages carry '{namespace}tag' and stray whitespace; make them readable."""
    for ns, prefix in _PREFIXES.items():
        text = text.replace("{%s}" % ns, prefix)
    return " ".join(strip_namespaces(text).split())


def _xsd_problem(name: str, root, message: str, line) -> Problem:
    found = None
    tag = re.match(r"Element '([^']+)'", message)
    if tag and line and root is not None:  # the element meant is the one of that tag on that line
        for el in root.iter(tag.group(1)):
            if el.sourceline == line:
                found = el
                break
    nsmap = root.nsmap if root is not None else None
    owner, drawn = subject(found)  # a child without id: its element's id; a shape: the element it draws
    element = drawn if drawn is not None else owner
    return Problem(name, xsd_message(message, found, nsmap), element.get("id") if element is not None else None,
                   line or None)


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


def _outgoing(el) -> list:
    parent = el.getparent()
    if parent is None:
        return []
    return [f for f in parent.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == el.get("id")]


def _rewrite(raw: str, exc: ValidationException, el) -> str:
    tag = readable(exc.tag or "")
    local = tag.rpartition(":")[2]
    what = describe_parts(local, exc.name, exc.id, "The") if (tag or exc.id) else msg("Este elemento")
    detail = shorten(readable(raw))
    if raw.startswith("Multiple outgoing flows are not supported") and el is not None:
        flows = _outgoing(el)
        return msg("%(what)s tiene %(count)s flujos de secuencia salientes (%(flows)s), y el motor no admite más "
                   "de uno en elementos de tipo «%(kind)s»: agregue después una compuerta paralela para seguir por "
                   "todos, o una exclusiva con condiciones para elegir uno.", what=what, count=len(flows),
                   flows=", ".join(f.get("id") or "?" for f in flows), kind=describe_kind(local))
    if raw.startswith("A loopMaximum or loopCondition must be specified"):
        return msg("%(what)s se repite (marcador de ciclo), pero no dice hasta cuándo: agregue una condición del "
                   "ciclo (loopCondition) o un máximo de repeticiones (loopMaximum).", what=what)
    if "Unknown Time Specification" in raw:  # SpiffWorkflow wraps it in "Time Specification Error. "
        return msg("%(what)s es un temporizador sin expresión: agregue una fecha (timeDate), una duración "
                   "(timeDuration) o un ciclo (timeCycle), entre comillas.", what=what)
    if raw.startswith("Time Specification Error"):
        return msg("%(what)s: la expresión del temporizador no se puede leer (%(detail)s).", what=what,
                   detail=shorten(raw.partition(".")[2].strip() or raw))
    if raw.startswith("Conditional event definition with missing condition"):
        return msg("%(what)s es un evento condicional sin condición: escriba la condición como una expresión "
                   "Python.", what=what)
    m = re.match(r"Expected an? (Message|Signal|Error|Escalation) node", raw, re.I)
    if m:
        return msg("%(what)s hace referencia a un elemento bpmn:%(definition)s que no está definido en el archivo: "
                   "defínalo o quite la referencia.", what=what, definition=m.group(1).lower())
    if raw.startswith("Cancel Events may only be used with transactions"):
        return msg("%(what)s es un evento de cancelación, que solo puede estar dentro de una transacción.",
                   what=what)
    m = re.match(r"The loop (input|output) data reference is missing", raw)
    if m:
        return msg("%(what)s recorre una colección (loopData%(which)sRef) que no está declarada en su "
                   "especificación de entradas y salidas (ioSpecification).", what=what,
                   which="Input" if m.group(1) == "input" else "Output")
    if raw.startswith("When looking for a task spec"):
        target = re.search(r"\(([^()]*)\)\s*$", raw)
        return msg("%(what)s tiene un flujo de secuencia hacia «%(target)s», que no existe en su proceso.",
                   what=what, target=target.group(1) if target else "?")
    if raw.startswith("Sequential ordering for ad hoc subprocesses"):
        return msg("%(what)s es un subproceso ad hoc con orden secuencial, que el motor no admite: use orden "
                   "paralelo.", what=what)
    if raw.startswith("Ad hoc subprocesses may not contain start or end events"):
        return msg("%(what)s es un subproceso ad hoc y no puede contener eventos de inicio ni de fin.", what=what)
    if raw.startswith("Non-default exclusive outgoing sequence flow without condition"):
        return msg("%(what)s sale de una compuerta exclusiva sin condición y no es su flujo predeterminado: "
                   "agréguele una condición o hágalo el predeterminado.", what=what)
    if raw.startswith("A multiinstance task must specify exactly one"):
        return msg("%(what)s indica a la vez una cardinalidad y una colección que recorrer: deje solo una.",
                   what=what)
    m = re.match(r"Malformed Output Expression '(.*)'", raw, re.S)
    if m:
        return msg("%(what)s: la salida «%(value)s» de la tabla de decisión no es una expresión Python válida.",
                   what=what, value=shorten(m.group(1)))
    m = re.match(r"Could not find messageRef from message event definition: (.*)$", raw)
    if m:
        return msg("La definición de mensaje «%(definition)s» no dice qué mensaje espera o envía (falta messageRef).",
                   definition=m.group(1) or "?")
    m = re.match(r"(?:Correlation is missing correlation property retrieval expressions|Message identifier is "
                 r"missing from correlation property): (.*)$", raw)
    if m:
        return msg("La propiedad de correlación «%(property)s» está incompleta: cada una necesita una expresión por "
                   "mensaje (correlationPropertyRetrievalExpression con messageRef).", property=m.group(1))
    if raw.startswith("No decisions found"):
        return msg("El archivo DMN no contiene ninguna decisión.")
    if raw.startswith("Multiple decision tables are not current supported"):
        return msg("%(what)s tiene varias tablas de decisión; el motor admite una sola tabla por decisión.",
                   what=what)
    m = re.match(r"Unknown type in decision table: '?(.*?)'?$", raw)
    if m:
        return msg("%(what)s contiene un elemento «%(tag)s» que una tabla de decisión no admite.", what=what,
                   tag=shorten(readable(m.group(1))))
    m = re.match(r"(Message|Signal|Error|Escalation|Correlation|Data Store) (identifier|name) is missing", raw)
    if m:
        return msg("Un elemento bpmn:%(definition)s del archivo no tiene %(attribute)s.",
                   definition=m.group(1)[0].lower() + m.group(1)[1:].replace(" ", ""),
                   attribute="id" if m.group(2) == "identifier" else "name")
    if raw.startswith("A Service Task must have an operator"):
        return msg("%(what)s no indica qué servicio llamar: agregue una extensión "
                   "spiffworkflow:serviceTaskOperator que nombre el servicio.", what=what)
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
        decision = re.search(r'id "([^"]*)"', raw)
        return msg("%(what)s evalúa la decisión «%(decision)s», que no está en ningún archivo DMN de este conjunto "
                   "de archivos.", what=what, decision=decision.group(1) if decision else "?")
    if re.match(r"Process .* is not executable", raw):
        return msg('%(what)s está marcado isExecutable="false", así que no se puede ejecutar ni llamar.',
                   what=describe_parts("process", exc.name, exc.id, "The"))
    m = re.match(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)", raw)
    if m:
        return msg("%(what)s debe contener exactamente un evento de inicio (tiene %(count)s).",
                   what=what, count=m.group(1))
    if raw.startswith("A SubWorkflow Must contain an End event"):
        return msg("%(what)s debe contener un evento de fin.", what=what)
    if raw.startswith("A multiinstance task must specify a cardinality"):
        return msg("%(what)s es multiinstancia y debe indicar cuántas instancias crear: agregue una expresión "
                   "loopCardinality o un loopDataInputRef que nombre la colección que se recorre.", what=what)
    if raw.startswith("No start event found"):
        return msg("%(what)s no tiene evento de inicio: agregue uno para que un expediente pueda comenzar.",
                   what=describe_parts("process", exc.name, exc.id, "The"))
    if raw.startswith("There is no support implemented for this task type"):
        return msg("El motor no admite elementos de tipo %(tag)s: quite o reemplace %(element)s.", tag=tag,
                   element=describe_parts(local, exc.name, exc.id))
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
    if tag or exc.id:
        return msg("%(what)s no es válido para el motor: %(detail)s.", what=what, detail=plain(detail).rstrip("."))
    return msg("El motor rechaza el diagrama: %(detail)s.", detail=plain(detail).rstrip("."))
