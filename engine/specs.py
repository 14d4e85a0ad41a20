"""The only module that parses BPMN/DMN XML: safety checks, SpiffWorkflow parsing, lint, and a parse cache."""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.errors import Problem, SpecInvalid
from engine.lint import BPMN_NS, NS, SPIFF_NS, dangling_flow_problem, lint
from engine.messages import msg, one_line

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
_CACHE_SIZE = 32
_BUNDLE = "<bundle>"  # Problem.file for problems that belong to no single file

# Encodings whose bytes cannot hide markup from the prolog scan below (UTF-7 or EBCDIC could).
_SAFE_ENCODINGS = re.compile(r"utf-?8|utf-?16(le|be)?|(us-)?ascii|iso-?8859-\d+|latin-?1|(windows|cp)-?125\d", re.I)
_XML_DECL_ENCODING = re.compile(r"""^<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_PREFIXES = {BPMN_NS: "bpmn:", SPIFF_NS: "spiffworkflow:", **{ns: "dmn:" for ns in DMN_SCHEMAS}}


@dataclass(frozen=True)
class ProcessSpec:
    """One executable process, ready to run."""

    process_id: str
    name: str
    spec: object
    subprocess_specs: dict


@dataclass(frozen=True)
class Bundle:
    """Files parsed together: their executable processes, original bytes and lint warnings."""

    processes: dict[str, ProcessSpec]
    files: dict[str, bytes]
    warnings: list[Problem]
    texts: dict[str, str]  # each document as Unicode text, whatever encoding it was sent in


_cache: OrderedDict[str, Bundle | tuple[Problem, ...]] = OrderedDict()
_cache_lock = threading.Lock()
# VALIDATOR is one shared lxml XMLSchema whose error_log we read after a failure: one parse at a time.
_parse_lock = threading.Lock()


def parse_bundle(files: Mapping[str, bytes]) -> Bundle:
    """Parse several .bpmn/.dmn files together (call activities resolve among them); raise SpecInvalid listing every problem."""
    try:
        items = sorted((str(name), data) for name, data in files.items())
        bad = [Problem(name or _BUNDLE, msg("Se esperaba el contenido del archivo en bytes, pero llegó un valor de "
                                             "tipo %(type)s.", type=type(data).__name__))
               for name, data in items if not isinstance(data, (bytes, bytearray))]
        if bad:
            raise SpecInvalid(bad)
        items = [(name, bytes(data)) for name, data in items]
    except SpecInvalid:
        raise
    except Exception as exc:  # e.g. a Mapping whose items() fails or names that cannot be sorted
        raise SpecInvalid([Problem(_BUNDLE, msg("No se pudo leer el conjunto de archivos: %(error)s: %(detail)s",
                                                error=type(exc).__name__, detail=str(exc)))]) from None
    key = _content_key(items)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is None:
        try:
            with _parse_lock:
                hit = _parse(items)
        except Exception as exc:  # last net: no input may produce anything but SpecInvalid
            hit = (Problem(items[0][0] if items else _BUNDLE, _unexpected(exc)),)
        with _cache_lock:
            _cache[key] = hit
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    if isinstance(hit, Bundle):
        return hit
    raise SpecInvalid(list(hit))


def validate_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """Parse and lint files and directories (recursively *.bpmn, *.dmn) as bundles; return problems, never raise."""
    problems: list[Problem] = []
    groups: list[dict[str, bytes]] = []
    loose: dict[str, bytes] = {}  # files named one by one form a single bundle
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn") and p.is_file())
            if not found:
                problems.append(Problem(str(path), msg("No hay archivos .bpmn ni .dmn en esta carpeta.")))
            group: dict[str, bytes] = {}
            for file in found:
                _read_into(file, group, problems)
            if group:
                groups.append(group)
        elif path.is_file():
            _read_into(path, loose, problems)
        else:
            problems.append(Problem(str(path), msg("No existe ningún archivo ni carpeta con ese nombre.")))
    if loose:
        groups.append(loose)
    for group in groups:
        try:
            problems.extend(parse_bundle(group).warnings)
        except SpecInvalid as exc:
            problems.extend(exc.problems)
            # An unreadable file stops the bundle early; check the others without it so that one
            # run shows every file's problems.
            rest = {n: b for n, b in group.items() if n not in {p.file for p in exc.problems}}
            if rest and len(rest) < len(group):
                try:
                    problems.extend(parse_bundle(rest).warnings)
                except SpecInvalid as again:
                    problems.extend(p for p in again.problems if p not in problems)
    return problems


def _read_into(path: Path, group: dict[str, bytes], problems: list[Problem]) -> None:
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:  # don't read a huge file only to refuse it
            problems.append(_too_big(str(path), size))
        else:
            group[str(path)] = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(str(path), msg("No se puede leer el archivo: %(detail)s.",
                                               detail=str(exc.strerror or exc))))


def _content_key(items: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in items:  # length prefixes keep ("ab", "c") and ("a", "bc") apart
        encoded = name.encode("utf-8", "surrogatepass")
        for part in (encoded, data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def _too_big(name: str, size: int) -> Problem:
    return Problem(name, msg("El archivo ocupa %(size)s bytes; el límite es %(limit)s bytes (2 MiB).",
                             size=f"{size:,}", limit=f"{MAX_DOCUMENT_BYTES:,}"))


def _unexpected(exc: Exception) -> str:
    return msg("Error inesperado al leer los archivos: %(error)s: %(detail)s", error=type(exc).__name__,
               detail=str(exc))


# -- safe XML reading ---------------------------------------------------------------------------------------------

def _prolog_problem(name: str, data: bytes) -> Problem | None:
    """Refuse a DOCTYPE (hence any entity) before lxml sees the bytes, whatever the encoding tricks."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data[:65536].decode("utf-16", "replace")
    elif data.startswith((b"<\x00", b"\x00<")):  # UTF-16 without BOM
        text = data[:65536].decode("utf-16-le" if data[0] == 0x3C else "utf-16-be", "replace")
    else:  # every allowed 8-bit encoding is ASCII-compatible for markup
        text = data[:65536].decode("latin-1").removeprefix("\xef\xbb\xbf")
    declared = _XML_DECL_ENCODING.match(text)
    if declared and not _SAFE_ENCODINGS.fullmatch(declared.group(1).strip()):
        return Problem(name, msg("La codificación «%(encoding)s» no se admite: guarde el archivo como UTF-8.",
                                 encoding=declared.group(1)), line=1)
    pos = 0
    while (m := _PROLOG_ITEM.match(text, pos)) and m.end() > pos:
        pos = m.end()
    line = text.count("\n", 0, pos) + 1
    if text.startswith("<!DOCTYPE", pos):
        return Problem(name, msg("Se rechazan los documentos con DOCTYPE: los archivos BPMN/DMN no pueden tener DTD "
                                 "ni entidades. Quite la declaración <!DOCTYPE ...>."), line=line)
    if not re.match(r"<[A-Za-z_:]", text[pos:pos + 2]):
        what = msg("El archivo está vacío.") if not data.strip() else \
            msg("El archivo no empieza con una declaración XML ni con el elemento raíz (se esperaba XML en UTF-8).")
        return Problem(name, what, line=line)
    return None


def _read_xml(name: str, data: bytes) -> tuple[str, etree._Element] | Problem:
    """('bpmn'|'dmn', root) or the Problem that refuses the document."""
    if len(data) > MAX_DOCUMENT_BYTES:
        return _too_big(name, len(data))
    problem = _prolog_problem(name, data)
    if problem:
        return problem
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        message = exc.msg
        if "Excessive depth" in message:  # lxml suggests XML_PARSE_HUGE, which is refused on purpose
            message = msg("hay elementos anidados a más de 256 niveles de profundidad")
        return Problem(name, msg("El XML no está bien formado: %(detail)s", detail=message), line=exc.lineno)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # belt and braces after the prolog scan
        return Problem(name, msg("Se rechazan los documentos con DOCTYPE: no se permiten DTD ni entidades."), line=1)
    qname = etree.QName(root)
    if qname.localname == "definitions" and qname.namespace == BPMN_NS:
        return "bpmn", root
    if qname.localname == "definitions" and qname.namespace in DMN_SCHEMAS:
        return "dmn", root
    if qname.localname == "definitions" and "/DMN/" in (qname.namespace or ""):
        return Problem(name, msg("La versión de DMN «%(version)s» no se admite: guarde el archivo como DMN 1.1, "
                                 "1.2 o 1.3.", version=qname.namespace), line=root.sourceline)
    return Problem(name, msg("El elemento raíz es «%(tag)s»; se esperaba bpmn:definitions (%(namespace)s) o "
                             "dmn:definitions.", tag=root.tag, namespace=BPMN_NS), line=root.sourceline)


# -- parsing ------------------------------------------------------------------------------------------------------

def _parse(items: list[tuple[str, bytes]]) -> Bundle | tuple[Problem, ...]:
    problems: list[Problem] = []
    docs: dict[str, dict[str, etree._Element]] = {"bpmn": {}, "dmn": {}}
    for name, data in items:
        result = _read_xml(name, data)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            docs[result[0]][name] = result[1]
    if problems:
        return tuple(_dedupe(problems))
    if not items:
        return (Problem(_BUNDLE, msg("No hay archivos para publicar.")),)
    bpmn, dmn = docs["bpmn"], docs["dmn"]
    if not bpmn:
        return tuple(Problem(name, msg("El conjunto de archivos solo tiene archivos DMN; agregue el proceso BPMN "
                                       "que los usa.")) for name in dmn)

    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, root in dmn.items():
        if root.find("dmn:decision", {"dmn": etree.QName(root).namespace}) is None:  # Spiff: IndexError
            problems.append(Problem(name, msg("El archivo DMN no contiene ninguna decisión."), line=root.sourceline))
            continue
        try:
            parser.add_dmn_xml(root, filename=name)
        except Exception as exc:
            problems.extend(_problems_from(exc, name, bpmn, dmn, xsd_log=None))
    for name, root in bpmn.items():
        try:
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        except Exception as exc:
            problems.extend(_problems_from(exc, name, bpmn, dmn, xsd_log=VALIDATOR.validator.error_log))
    if problems:  # an invalid document would only produce noise further on
        return tuple(_dedupe(problems))

    executable = list(parser.get_process_ids())  # read before get_spec adds embedded sub-processes
    if not executable:
        return tuple(_dedupe(_nothing_executable(bpmn)))
    found = lint(bpmn, dmn)
    calls_broken = any(p.severity == "error" and _element_tag(p, bpmn) == "callActivity" for p in found)
    spiff: list[Problem] = []
    processes: dict[str, ProcessSpec] = {}
    for pid in executable:
        process_parser = parser.get_process_parser(pid)
        try:
            spec = parser.get_spec(pid)
            # Unresolvable call activities are already reported by lint; Spiff's own error names no element.
            subs = {} if calls_broken else parser.get_subprocess_specs(pid)
            name = " ".join((process_parser.node.get("name") or "").split()) or pid  # modelers wrap long names
            processes[pid] = ProcessSpec(pid, name, spec, subs)
        except Exception as exc:
            spiff.extend(_problems_from(exc, process_parser.filename, bpmn, dmn, xsd_log=None))
    errors = [p for p in found if p.severity == "error"]
    located = {(p.file, p.element_id) for p in errors}
    errors += [p for p in spiff if (p.file, p.element_id) not in located]  # lint's message is the precise one
    warnings = [p for p in found if p.severity != "error"]
    if errors:
        return tuple(_dedupe(errors + warnings))
    texts = {name: etree.tostring(root, encoding="unicode") for kind in docs.values() for name, root in kind.items()}
    return Bundle(processes=processes, files=dict(items), warnings=_dedupe(warnings), texts=texts)


def _nothing_executable(bpmn: Mapping[str, etree._Element]) -> list[Problem]:
    out = []
    for name, root in bpmn.items():
        procs = root.findall("bpmn:process", NS)
        if not procs:
            out.append(Problem(name, msg("El archivo no contiene ningún bpmn:process (¿solo una colaboración o un "
                                         "diagrama?)."), line=root.sourceline))
            continue
        found = ", ".join(f"{p.get('id')} (isExecutable=\"{p.get('isExecutable')}\")" for p in procs)
        out.append(Problem(name, msg("Ningún proceso de este archivo es ejecutable: %(found)s. Ponga "
                                     "isExecutable=\"true\" en el proceso que debe ejecutarse.", found=found),
                           procs[0].get("id"), procs[0].sourceline))
    return out


def _element_tag(problem: Problem, bpmn: Mapping[str, etree._Element]) -> str | None:
    el = _find(bpmn.get(problem.file), problem.element_id)
    return etree.QName(el).localname if el is not None else None


def _find(root, element_id):
    if root is None or not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0] if found else None


def _dedupe(problems: list[Problem]) -> list[Problem]:
    # One line per message (diagram names carry line breaks), each problem once.
    return list(dict.fromkeys(replace(p, message=one_line(p.message)) for p in problems))


def _short(text: str) -> str:
    """Spiff/lxml messages carry '{namespace}tag' and stray whitespace; make them readable."""
    for ns, prefix in _PREFIXES.items():
        text = text.replace("{%s}" % ns, prefix)
    return " ".join(text.split())


def _xsd_message(message: str) -> str:
    message = _short(message)
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


def _problems_from(exc: Exception, current: str | None, bpmn, dmn, xsd_log) -> list[Problem]:
    """Turn anything SpiffWorkflow or lxml raised into Problems a supervisor can act on."""
    docs = {**dmn, **bpmn}
    if not isinstance(exc, ValidationException):
        return [Problem(current or _BUNDLE, _unexpected(exc))]
    raw = str(exc.args[0]) if exc.args else str(exc)
    file = exc.file_name or current or _BUNDLE
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
    tag = _short(exc.tag or "")
    name = exc.name or exc.id
    what = msg("El elemento %(tag)s «%(name)s»", tag=tag, name=name) if tag else msg("Este elemento")
    detail = _short(raw)
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


# -- element facts (for drafts and diffs) -------------------------------------------------------------------------

_TEXT_CHILDREN = ("documentation", "script", "conditionExpression", "loopCardinality", "completionCondition")
_TIMER_CHILDREN = ("timeDuration", "timeDate", "timeCycle")


def elements_of(xml_text: str | bytes, name: str = "diagram.bpmn") -> dict[str, dict]:
    """Every BPMN element with an id, as plain facts: type, name, lane and a flat map of what it says.

    `values` keys: 'attribute:<name>', 'property:<name>' (spiffworkflow:property), 'extension:<tag>'
    (other spiffworkflow extensions), 'documentation', 'script', 'condition', 'timer:<kind>', 'event'.
    Raise SpecInvalid if the document cannot be read safely or is not BPMN.
    """
    data = xml_text.encode("utf-8") if isinstance(xml_text, str) else bytes(xml_text)
    result = _read_xml(name, data)
    if isinstance(result, Problem):
        raise SpecInvalid([result])
    kind, root = result
    if kind != "bpmn":
        raise SpecInvalid([Problem(name, msg("Se esperaba un documento BPMN, pero este es DMN."), line=1)])
    lanes: dict[str, str] = {}
    for lane in root.iter("{%s}lane" % BPMN_NS):  # nested lanes come later: the innermost wins
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    found: dict[str, dict] = {}
    for el in root.iter("{%s}*" % BPMN_NS):
        element_id = el.get("id")
        if not element_id or el is root or element_id in found:
            continue
        found[element_id] = {"type": etree.QName(el).localname, "name": el.get("name"),
                             "lane": lanes.get(element_id), "values": _values_of(el)}
    return found


def _values_of(el) -> dict[str, str]:
    values: dict[str, str] = {}
    for attr, value in sorted(el.attrib.items()):
        if attr not in ("id", "name"):
            values[f"attribute:{_short(attr)}"] = value
    for child in el:
        if not isinstance(child.tag, str):
            continue
        local, ns = etree.QName(child).localname, etree.QName(child).namespace
        if ns == BPMN_NS and local in _TEXT_CHILDREN:
            key = "condition" if local == "conditionExpression" else local
            values[key] = (child.text or "").strip()
        elif ns == BPMN_NS and local.endswith("EventDefinition"):
            values["event"] = ", ".join(filter(None, [values.get("event"), local]))
            for timer in child:
                if isinstance(timer.tag, str) and etree.QName(timer).localname in _TIMER_CHILDREN:
                    values[f"timer:{etree.QName(timer).localname}"] = (timer.text or "").strip()
            for attr, value in child.attrib.items():
                if attr != "id":
                    values[f"event:{_short(attr)}"] = value
        elif ns == BPMN_NS and local == "extensionElements":
            for ext in child:
                if not isinstance(ext.tag, str):
                    continue
                ext_local = etree.QName(ext).localname
                if etree.QName(ext).namespace == SPIFF_NS and ext_local == "properties":
                    for prop in ext.iterfind("spiffworkflow:property", NS):
                        values[f"property:{prop.get('name')}"] = prop.get("value") or ""
                else:
                    text = (ext.text or "").strip()
                    attrs = " ".join(f'{_short(k)}="{v}"' for k, v in sorted(ext.attrib.items()))
                    values[f"extension:{_short(ext.tag)}"] = " ".join(filter(None, [attrs, text]))
    return values
