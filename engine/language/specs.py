"""The only module that parses BPMN/DMN XML: safety checks, SpiffWorkflow parsing, lint, and a parse cache."""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD, SpiffBpmnParser, SpiffProcessParser

from engine.errors import Problem, SpecInvalid
from engine.language.lint import BPMN_NS, NS, SPIFF_NS, lint
from engine.messages import msg
from engine.language.spec_problems import BUNDLE, dedupe, element_tag, problems_from, qualified, readable, unexpected
from engine.language.tree_index import TreeIndex
from engine.language.naming import describe
from engine.language.xsd_messages import syntax_message

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
_CACHE_SIZE = 32

# Encodings whose bytes cannot hide markup from the prolog scan below (UTF-7 or EBCDIC could).
_SAFE_ENCODINGS = re.compile(r"utf-?8|utf-?16(le|be)?|(us-)?ascii|iso-?8859-\d+|latin-?1|(windows|cp)-?125\d", re.I)
_XML_DECL_ENCODING = re.compile(r"""^<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.S)


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
# Parses under way, by content key. A request for content being parsed waits for that parse's answer instead of
# parsing it again; a request for other content never waits: parses share nothing (each has its own parser and
# trees, and each thread its own schema validator, below), so one big diagram does not hold up the others.
_parsing: dict[str, threading.Event] = {}
_validators = threading.local()


def _validator() -> BpmnValidator:
    """This thread's BPMN schema validator (SpiffWorkflow's VALIDATOR with its spiffworkflow extensions).

    An lxml XMLSchema keeps the errors of its last validation in its own error_log, which is read after a failure:
    one validator shared by every thread (SpiffWorkflow's VALIDATOR) would mix their errors.
    """
    validator = getattr(_validators, "bpmn", None)
    if validator is None:
        validator = _validators.bpmn = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})
    return validator


class _ProcessParser(SpiffProcessParser):
    """SpiffWorkflow's process parser, but its index of the process's elements comes from one walk of the tree.

    SpiffWorkflow collects them with the XPath './/*[@id]', which libxml2 answers in time quadratic in the number
    of elements side by side in a process (0.6 s at 2,000 tasks in sequence, 6 s at 6,000); lxml's iterator gives
    the same elements in the same (document) order.
    """

    def xpath(self, xpath):
        if xpath == ".//*[@id]":
            return [node for node in self.node.iterdescendants(etree.Element) if "id" in node.attrib]
        return super().xpath(xpath)


class _Parser(SpiffBpmnParser):
    PROCESS_PARSER_CLASS = _ProcessParser


def parse_bundle(files: Mapping[str, bytes]) -> Bundle:
    """Parse several .bpmn/.dmn files together (call activities resolve among them); raise SpecInvalid listing every problem."""
    try:
        items = sorted((str(name), data) for name, data in files.items())
        bad = [Problem(name or BUNDLE, msg("Se esperaba el contenido del archivo en bytes, pero llegó un valor de "
                                             "tipo %(type)s.", type=type(data).__name__))
               for name, data in items if not isinstance(data, (bytes, bytearray))]
        if bad:
            raise SpecInvalid(bad)
        items = [(name, bytes(data)) for name, data in items]
    except SpecInvalid:
        raise
    except Exception as exc:  # e.g. a Mapping whose items() fails or names that cannot be sorted
        raise SpecInvalid([Problem(BUNDLE, msg("No se pudo leer el conjunto de archivos: %(error)s: %(detail)s",
                                                error=type(exc).__name__, detail=str(exc)))]) from None
    hit = _parsed(_content_key(items), items)
    if isinstance(hit, Bundle):
        return hit
    raise SpecInvalid(list(hit))


def _parsed(key: str, items: list[tuple[str, bytes]]) -> Bundle | tuple[Problem, ...]:
    """The cached answer for this content, else the answer of the parse of it under way, else parse it."""
    while True:
        with _cache_lock:
            hit = _cache.get(key)
            if hit is not None:
                _cache.move_to_end(key)
                return hit
            under_way = _parsing.get(key)
            if under_way is None:
                under_way = _parsing[key] = threading.Event()
                break
        under_way.wait()  # then the answer is in the cache (unless that parse died or it was evicted: parse it)
    try:
        try:
            hit = _parse(items)
        except Exception as exc:  # last net: no input may produce anything but SpecInvalid
            hit = (Problem(items[0][0] if items else BUNDLE, unexpected(exc)),)
        with _cache_lock:
            _cache[key] = hit
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        return hit
    finally:
        with _cache_lock:
            del _parsing[key]
        under_way.set()


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
        else:
            message = syntax_message(message)
        return Problem(name, msg("El XML no está bien formado: %(detail)s.", detail=message), line=exc.lineno)
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
    return Problem(name, msg("El archivo no es BPMN 2.0 ni DMN: su elemento raíz es «%(tag)s» del espacio de nombres "
                             "«%(namespace)s»; se esperaba bpmn:definitions de BPMN 2.0. Expórtelo como BPMN 2.0 XML.",
                             tag=qname.localname, namespace=qname.namespace or "-"), line=root.sourceline)


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
        return tuple(dedupe(problems))
    if not items:
        return (Problem(BUNDLE, msg("No hay archivos para publicar.")),)
    bpmn, dmn = docs["bpmn"], docs["dmn"]
    if not bpmn:
        return tuple(Problem(name, msg("El conjunto de archivos solo tiene archivos DMN; agregue el proceso BPMN "
                                       "que los usa.")) for name in dmn)

    validator = _validator()
    parser = _Parser(validator=validator)
    for name, root in dmn.items():
        if root.find("dmn:decision", {"dmn": etree.QName(root).namespace}) is None:  # Spiff: IndexError
            problems.append(Problem(name, msg("El archivo DMN no contiene ninguna decisión."), line=root.sourceline))
            continue
        try:
            parser.add_dmn_xml(root, filename=name)
        except Exception as exc:
            problems.extend(problems_from(exc, name, bpmn, dmn, xsd_log=None))
    for name, root in bpmn.items():
        _message_data_into_definitions(root)
        try:
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        except Exception as exc:
            problems.extend(problems_from(exc, name, bpmn, dmn, xsd_log=validator.validator.error_log))
    if problems:  # an invalid document would only produce noise further on
        return tuple(dedupe(problems))

    executable = list(parser.get_process_ids())  # read before get_spec adds embedded sub-processes
    if not executable:
        return tuple(dedupe(_nothing_executable(bpmn)))
    ids = TreeIndex(bpmn)
    found = lint(bpmn, dmn, ids)
    calls_broken = any(p.severity == "error" and element_tag(p, ids) == "callActivity" for p in found)
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
            spiff.extend(problems_from(exc, process_parser.filename, bpmn, dmn, xsd_log=None))
    errors = [p for p in found if p.severity == "error"]
    located = {(p.file, p.element_id) for p in errors}
    errors += [p for p in spiff if (p.file, p.element_id) not in located]  # lint's message is the precise one
    warnings = [p for p in found if p.severity != "error"]
    if errors:
        return tuple(dedupe(errors + warnings))
    texts = {name: etree.tostring(root, encoding="unicode") for kind in docs.values() for name, root in kind.items()}
    return Bundle(processes=processes, files=dict(items), warnings=dedupe(warnings), texts=texts)


_SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
_MESSAGE_DATA = (f"{_SPIFF}messagePayload", f"{_SPIFF}messageVariable")


def _message_data_into_definitions(root: etree._Element) -> None:
    """Our modeler (like other tools) keeps a message event's payload and variable among the event's own extension
    elements; SpiffWorkflow reads them only inside the event's messageEventDefinition and would silently send an
    empty message. Move them there for parsing (the file stored as deployed is unchanged); where the definition has
    its own, those win."""
    ns = etree.QName(root).namespace
    for definition in root.iter(f"{{{ns}}}messageEventDefinition"):
        ext = definition.getparent().find(f"{{{ns}}}extensionElements")
        moving = [c for c in ext if c.tag in _MESSAGE_DATA] if ext is not None else []
        if not moving:
            continue
        own = definition.find(f"{{{ns}}}extensionElements")
        if own is not None and any(c.tag in _MESSAGE_DATA for c in own):
            continue
        if own is None:
            own = etree.Element(f"{{{ns}}}extensionElements")
            definition.insert(0, own)
        for child in moving:
            own.append(child)  # lxml moves the element


def _nothing_executable(bpmn: Mapping[str, etree._Element]) -> list[Problem]:
    out = []
    for name, root in bpmn.items():
        procs = root.findall("bpmn:process", NS)
        if not procs:
            out.append(Problem(name, msg("El archivo no contiene ningún bpmn:process (¿solo una colaboración o un "
                                         "diagrama?)."), line=root.sourceline))
            continue
        found = ", ".join(f"{describe(p)} (isExecutable=\"{p.get('isExecutable')}\")" for p in procs)
        out.append(Problem(name, msg("Ningún proceso de este archivo es ejecutable: %(found)s. Ponga "
                                     "isExecutable=\"true\" en el proceso que debe ejecutarse.", found=found),
                           procs[0].get("id"), procs[0].sourceline))
    return out


# -- element facts (for drafts and diffs) -------------------------------------------------------------------------

_TEXT_CHILDREN = ("documentation", "script", "conditionExpression", "loopCardinality", "completionCondition")
_TIMER_CHILDREN = ("timeDuration", "timeDate", "timeCycle")


def elements_of(xml_text: str | bytes, name: str = "diagram.bpmn") -> dict[str, dict]:
    """Every BPMN element with an id, as plain facts: type, name, lane, line and a flat map of what it says.

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
                             "lane": lanes.get(element_id), "values": _values_of(el), "line": el.sourceline}
    return found


def _values_of(el) -> dict[str, str]:
    values: dict[str, str] = {}
    for attr, value in sorted(el.attrib.items()):
        if attr not in ("id", "name"):
            values[f"attribute:{qualified(attr)}"] = value
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
                    values[f"event:{qualified(attr)}"] = value
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
                    attrs = " ".join(f'{readable(k)}="{v}"' for k, v in sorted(ext.attrib.items()))
                    values[f"extension:{readable(ext.tag)}"] = " ".join(filter(None, [attrs, text]))
    return values
