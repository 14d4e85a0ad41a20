"""Decision tables (DMN) edited within a process draft, checked on every save and tried with sample inputs.

Opening a table of a draft shows the draft's own copy if it was edited, else the file of the version the draft
started from (its files_json), else the file of processes/ of that name. Saving stores the draft's copy
(draft_decisions, one row per file, a revision per save: a stale save is refused) after SpiffWorkflow's DMN parser
accepted it and every cell compiled in the sandbox as the workflow will evaluate it. Publishing the draft deploys
its copies instead of the version's files, so the new version pins them (engine.usecases.drafts); discarding the
draft discards them. Trying inputs evaluates the draft's table with SpiffWorkflow's DMN engine and the office's
sandboxed script engine (svc.runtime), as a business rule task of a case would.
"""
from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Mapping
from xml.sax.saxutils import escape

import orjson
from lxml import etree
from sqlalchemy import select
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.accounts.permissions import Principal, use_case
from engine.config import PROJECT_ROOT
from engine.errors import Conflict, ExpedienteError, InvalidInput, NotFound, Problem, SpecInvalid
from engine.language.expressions import python_error
from engine.language.folders import validate_files
from engine.language.specs import MAX_DOCUMENT_BYTES, parse_bundle
from engine.messages import msg
from engine.sandbox.restricted import check_script
from engine.storage import models
from engine.storage.concurrency import save_revision
from engine.usecases import drafts

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_decisions = models.draft_decisions
_versions = models.process_versions
PROCESSES_DIR = PROJECT_ROOT / "processes"
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,95}\.dmn")  # a URL segment (api.openapi's name)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# SpiffWorkflow's DMN engine replaces a '?' outside quotes by the input's value (engine/DMNEngine.py).
_QUESTION = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')
# What SpiffWorkflow's DMN engine does: UNIQUE and FIRST give the first rule that matches, COLLECT lists them all.
SUPPORTED_HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")
_TRY_PROCESS = "prueba_de_decision"
_TRY_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="definiciones_prueba"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="prueba_de_decision" isExecutable="true">
    <bpmn:startEvent id="inicio"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="inicio" targetRef="decidir"/>
    <bpmn:businessRuleTask id="decidir" name="Probar la decisión">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decidir" targetRef="fin"/>
    <bpmn:endEvent id="fin"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
_TRUE, _FALSE = {"true", "verdadero", "sí", "si", "1"}, {"false", "falso", "no", "0"}


class DecisionNotFound(NotFound):
    code = "decision_not_found"


def _check_file_name(file_name: str) -> None:
    if not FILE_NAME.fullmatch(file_name or ""):
        raise InvalidInput(msg("El nombre del archivo de la tabla de decisión no es válido."),
                           errors=[{"field": "file_name", "message": "letras, dígitos, '_', '-' o '.'; termina en .dmn"}])


def _base_files(svc: Services, draft: Mapping) -> dict[str, str]:
    """The DMN files of the version the draft started from (none for a new procedure)."""
    if draft["base_version"] is None:
        return {}
    with svc.uow(write=False) as uow:
        files_json = uow.conn.execute(select(_versions.c.files_json).where(
            _versions.c.process_key == draft["process_key"], _versions.c.version == draft["base_version"])).scalar()
    return {n: t for n, t in orjson.loads(files_json or "{}").items() if n.endswith(".dmn")}


def _edited(svc: Services, process_key: str, file_name: str | None = None) -> list[dict]:
    query = select(_decisions.c.file_name, _decisions.c.xml, _decisions.c.updated_by, _decisions.c.updated_at,
                   _decisions.c.revision).where(_decisions.c.process_key == process_key)
    if file_name is not None:
        query = query.where(_decisions.c.file_name == file_name)
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(query.order_by(_decisions.c.file_name)).mappings()]


def _table(svc: Services, process_key: str, file_name: str) -> dict:
    """The draft's table: its edited copy (revision >= 1) or the base version's or processes/ file (revision 0)."""
    drafts.validate_key(process_key)
    _check_file_name(file_name)
    draft = drafts.get_row(svc, process_key)  # DraftNotFound
    for row in _edited(svc, process_key, file_name):
        return {**row, "edited": True}
    xml = _base_files(svc, draft).get(file_name)
    if xml is None and (PROCESSES_DIR / file_name).is_file():
        xml = (PROCESSES_DIR / file_name).read_text(encoding="utf-8")
    if xml is None:
        raise DecisionNotFound(msg("El borrador de «%(process_key)s» no tiene ninguna tabla de decisión "
                                   "«%(file_name)s».", process_key=process_key, file_name=file_name),
                               process_key=process_key, file_name=file_name)
    return {"file_name": file_name, "xml": xml, "updated_by": None, "updated_at": None, "revision": 0,
            "edited": False}


@use_case("process.draft")
def list_decisions(svc: Services, principal: Principal, process_key: str) -> list[dict]:
    """The draft's decision tables: the files (of its version, else of processes/) of the decisions its business rule
    tasks call, and those edited in the draft."""
    drafts.validate_key(process_key)
    draft = drafts.get_row(svc, process_key)
    edited = {r["file_name"]: r for r in _edited(svc, process_key)}
    called = _called_decisions(draft["xml"])
    candidates = {p.name: p.read_text(encoding="utf-8") for p in sorted(PROCESSES_DIR.glob("*.dmn"))}
    candidates.update(_base_files(svc, draft))
    names = sorted({n for n, text in candidates.items() if _decision_ids(text) & called} | set(edited))
    return [{"file_name": n, "edited": n in edited, "revision": edited[n]["revision"] if n in edited else 0,
             "updated_by": edited[n]["updated_by"] if n in edited else None} for n in names]


def _called_decisions(xml: str) -> set[str]:
    """The decision ids the diagram's business rule tasks call (spiffworkflow:calledDecisionId)."""
    try:
        root = _dmn_root("", xml)
    except etree.XMLSyntaxError:
        return set()
    return {(el.text or "").strip() for el in root.iter(etree.Element)
            if etree.QName(el).localname == "calledDecisionId"}


def _decision_ids(xml: str) -> set[str]:
    try:
        root = _dmn_root("", xml)
    except etree.XMLSyntaxError:
        return set()
    return {el.get("id") for el in root if isinstance(el.tag, str) and etree.QName(el).localname == "decision"}


@use_case("process.draft")
def get_decision(svc: Services, principal: Principal, process_key: str, file_name: str) -> dict:
    """The draft's table with its inputs (what a try asks for) and the problems found in it now."""
    table = _table(svc, process_key, file_name)
    return {"process_key": process_key, **table, **_described(file_name, table["xml"])}


@use_case("process.draft")
def save_decision(svc: Services, principal: Principal, process_key: str, file_name: str, xml: str,
                  revision: int | None = None) -> dict:
    """Store the draft's copy of the table once it parses and every cell compiles (SpecInvalid otherwise, nothing
    written). `revision` is the one the editor opened (0: the version's file); Conflict if it moved on."""
    current = _table(svc, process_key, file_name)
    if len(xml.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(msg("La tabla de decisión es demasiado grande (máximo 2 MiB)."),
                           errors=[{"field": "xml", "message": "más de 2 MiB"}])
    errors = [p for p in decision_problems(file_name, xml) if p.severity == "error"]
    if errors:
        raise SpecInvalid(errors)
    if revision is not None and revision != current["revision"]:
        raise _stale(process_key, file_name, current)
    with svc.uow() as uow:  # a concurrent save between our read and write loses too
        save_revision(uow.conn, _decisions, {"process_key": process_key, "file_name": file_name},
                      current["revision"], dict(xml=xml, updated_by=principal.username, updated_at=svc.clock()),
                      _stale(process_key, file_name, current))
        uow.commit()
    return get_decision(svc, principal, process_key, file_name)


def _stale(process_key: str, file_name: str, current: Mapping) -> Conflict:
    return Conflict(msg("%(who)s guardó la tabla «%(file_name)s» del borrador de «%(process_key)s» después de que "
                        "usted la abrió. Descargue sus cambios si los necesita y vuelva a abrirla.",
                        who=current["updated_by"] or "—", file_name=file_name, process_key=process_key),
                    process_key=process_key, file_name=file_name, revision=current["revision"])


def _dmn_root(file_name: str, xml: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(xml.encode("utf-8", "surrogatepass"), parser)


def _table_parts(root: etree._Element) -> tuple[etree._Element | None, etree._Element | None, dict]:
    ns = {"dmn": etree.QName(root).namespace or ""}
    decision = root.find("dmn:decision", ns)
    table = decision.find("dmn:decisionTable", ns) if decision is not None else None
    return decision, table, ns


def _text(el, path: str, ns: dict) -> str | None:
    found = el.find(path, ns)
    return found.text if found is not None else None


def decision_problems(file_name: str, xml: str) -> list[Problem]:
    """SpiffWorkflow's parse and lint of the file alone, then each cell compiled in the sandbox as the DMN engine
    will evaluate it; each problem names the decision, the rule (its row and description) and the column."""
    problems = validate_files({file_name: xml.encode("utf-8", "surrogatepass")})
    try:
        root = _dmn_root(file_name, xml)
    except etree.XMLSyntaxError:
        return problems  # said by the parser
    if any(p.severity == "error" and p.element_id is None for p in problems):
        return problems
    if "/DMN/" not in (etree.QName(root).namespace or ""):
        return [Problem(file_name, msg("Se esperaba una tabla de decisión DMN."), line=1)]
    decision, table, ns = _table_parts(root)
    if table is None:
        return [Problem(file_name, msg("La decisión no tiene ninguna tabla de decisión."),
                        decision.get("id") if decision is not None else None, root.sourceline)]
    found, problems = problems, []  # the parser's; a cell said below replaces what the parser said of it
    name = decision.get("name") or decision.get("id")
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in SUPPORTED_HIT_POLICIES or table.get("aggregation"):
        problems.append(Problem(file_name, msg(
            "Decisión «%(decision)s»: el motor no admite la política de coincidencia «%(policy)s»; use Única, "
            "Primera o Reunir todas (sin suma, mínimo, máximo ni cuenta).", decision=name,
            policy=" ".join(filter(None, [policy, table.get("aggregation")]))), table.get("id"), table.sourceline))
    inputs = table.findall("dmn:input", ns)
    outputs = table.findall("dmn:output", ns)
    for column in inputs:
        text = _text(column, "dmn:inputExpression/dmn:text", ns)
        error = check_script(text or "", "eval")
        if error:
            problems.append(Problem(file_name, msg(
                "Decisión «%(decision)s», columna de entrada «%(column)s»: la expresión «%(text)s» no es válida: "
                "%(error)s", decision=name, column=_label(column), text=(text or "")[:100], error=python_error(error)),
                column.get("id"), column.sourceline))
    for row, rule in enumerate(table.findall("dmn:rule", ns), start=1):
        where = _rule_name(rule, row, ns)
        for column, entry in zip(inputs, rule.findall("dmn:inputEntry", ns)):
            text = _text(entry, "dmn:text", ns)
            error = None if text is None or text == "-" else _condition_error(text)
            if error:
                problems.append(Problem(file_name, msg(
                    "Decisión «%(decision)s», %(rule)s, columna «%(column)s»: la condición «%(text)s» no es válida: "
                    "%(error)s", decision=name, rule=where, column=_label(column), text=text[:100], error=python_error(error)),
                    entry.get("id"), entry.sourceline))
        for column, entry in zip(outputs, rule.findall("dmn:outputEntry", ns)):
            text = _text(entry, "dmn:text", ns)
            error = check_script(text, "eval") if text else None
            if error:
                problems.append(Problem(file_name, msg(
                    "Decisión «%(decision)s», %(rule)s, columna «%(column)s»: el resultado «%(text)s» no es válido: "
                    "%(error)s", decision=name, rule=where, column=_label(column), text=text[:100], error=python_error(error)),
                    entry.get("id"), entry.sourceline))
    said = {p.element_id for p in problems}
    return [p for p in found if p.element_id not in said] + problems


def _condition_error(text: str) -> str | None:
    """None if the DMN engine can evaluate this input entry: an expression compared with ==, a '?' standing for the
    input's value, or an operator and its right side (`>= 50`, `in ("a", "b")`)."""
    if _QUESTION.search(text):
        return check_script(_QUESTION.sub("dmninputexpr", text), "eval")
    error = check_script(text, "eval")
    if error and check_script(f"v {text}", "eval") is None:
        return None
    return error


def _label(column) -> str:
    return column.get("label") or column.get("name") or column.get("id") or "?"


def _rule_name(rule, row: int, ns: dict) -> str:
    description = " ".join((_text(rule, "dmn:description", ns) or "").split())
    if description:
        return msg("regla %(row)s («%(description)s»)", row=row, description=description[:80])
    return msg("regla %(row)s", row=row)


def _described(file_name: str, xml: str) -> dict:
    """The table's decision, inputs and outputs (what the try form shows), and its problems now."""
    problems = decision_problems(file_name, xml)
    shown = {"decision_id": None, "decision_name": None, "hit_policy": None, "inputs": [], "outputs": [],
             "valid": not any(p.severity == "error" for p in problems),
             "problems": [{"file": p.file, "message": p.message, "element_id": p.element_id, "line": p.line,
                           "severity": p.severity} for p in problems]}
    try:
        decision, table, ns = _table_parts(_dmn_root(file_name, xml))
    except etree.XMLSyntaxError:
        return shown
    if decision is None or table is None:
        return shown
    shown.update(decision_id=decision.get("id"), decision_name=decision.get("name") or decision.get("id"),
                 hit_policy=table.get("hitPolicy") or "UNIQUE")
    for column in table.findall("dmn:input", ns):
        expression = (_text(column, "dmn:inputExpression/dmn:text", ns) or "").strip()
        shown["inputs"].append({
            "id": column.get("id"), "label": _label(column), "expression": expression,
            "type_ref": column.find("dmn:inputExpression", ns).get("typeRef") if column.find(
                "dmn:inputExpression", ns) is not None else None,
            "name": expression if _IDENTIFIER.fullmatch(expression) else None})
    shown["outputs"] = [{"id": c.get("id"), "label": _label(c), "name": c.get("name") or c.get("label") or ""}
                        for c in table.findall("dmn:output", ns)]
    return shown


def _typed(value, type_ref: str | None, field: str):
    """A form's text as the input's typeRef says (API clients may send JSON values); InvalidInput naming it."""
    if not isinstance(value, str):
        return value
    text, kind = value.strip(), (type_ref or "string").lower()
    if text == "":
        return None

    def refuse(expected: str):
        return InvalidInput(msg("El valor de «%(field)s» no es %(expected)s.", field=field, expected=expected),
                            errors=[{"field": field, "message": str(expected)}])
    if kind in ("integer", "int", "long"):
        try:
            return int(text)
        except ValueError:
            raise refuse(msg("un número entero")) from None
    if kind in ("number", "double", "decimal", "float"):
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise refuse(msg("un número")) from None
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        if text.lower() in _TRUE or text.lower() in _FALSE:
            return text.lower() in _TRUE
        raise refuse(msg("sí o no"))
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise refuse(msg("una fecha AAAA-MM-DD")) from None
    return value


@use_case("process.draft")
def try_decision(svc: Services, principal: Principal, process_key: str, file_name: str, values: Mapping,
                 xml: str | None = None) -> dict:
    """Evaluate the draft's table (or `xml`, the editor's unsaved one) on `values` (by input column id) with the
    workflow's DMN engine and sandbox: the rules that matched and the outputs, or the error, in Spanish."""
    table = _table(svc, process_key, file_name)
    xml = table["xml"] if xml is None else xml
    shown = _described(file_name, xml)
    if not shown["valid"]:
        raise SpecInvalid([Problem(p["file"], p["message"], p["element_id"], p["line"]) for p in shown["problems"]
                           if p["severity"] == "error"])
    data = {}
    for column in shown["inputs"]:
        if column["name"] is None:
            raise InvalidInput(msg("La columna «%(column)s» se calcula con la expresión «%(expression)s»: solo se "
                                   "pueden probar columnas que leen un dato por su nombre.",
                                   column=column["label"], expression=column["expression"][:100]),
                               errors=[{"field": column["id"], "message": "la expresión no es un nombre de dato"}])
        data[column["name"]] = _typed(values.get(column["id"], values.get(column["name"])), column["type_ref"],
                                      column["id"])
    unknown = sorted(set(values) - {c["id"] for c in shown["inputs"]} - {c["name"] for c in shown["inputs"]})
    if unknown:
        raise InvalidInput(msg("La tabla no tiene ninguna columna de entrada «%(field)s».", field=unknown[0]),
                           errors=[{"field": unknown[0], "message": "no es una columna de entrada"}])
    bundle = parse_bundle({f"{_TRY_PROCESS}.bpmn": _TRY_BPMN.replace("{decision}",
                                                                      escape(shown["decision_id"])).encode("utf-8"),
                           file_name: xml.encode("utf-8", "surrogatepass")})
    process = bundle.processes[_TRY_PROCESS]
    wf = svc.runtime.new_workflow(process.spec, process.subprocess_specs, data)
    task = next(t for t in wf.get_tasks() if getattr(t.task_spec, "bpmn_id", None) == "decidir")
    task.data = dict(data)
    engine = task.task_spec.dmnEngine  # the DMN engine a case's business rule task runs
    answer = {"process_key": process_key, "file_name": file_name, "inputs": data, "matched": [], "outputs": [],
              "error": None}
    try:
        rules = engine.decide(task)
        result = engine.result(task)
    except (SpiffWorkflowException, ExpedienteError) as exc:
        answer["error"] = _failure(exc)
        return answer
    answer["matched"] = [{"id": r.id, "row": r.row_number, "description": r.description} for r in rules]
    answer["outputs"] = [{**column, "value": _plain(result.get(column["name"]))}
                         for column in shown["outputs"] if column["name"] in result]
    if not rules:
        answer["error"] = msg("Ninguna regla se cumple con estos datos: el trámite no obtendría ningún resultado.")
    return answer


def _failure(exc: Exception):
    """What stopped the evaluation: the sandbox's own (Spanish) message when it has one, and the rule's row."""
    cause = exc if isinstance(exc, ExpedienteError) else (exc.__cause__ or exc.__context__ or exc)
    error = cause.message if isinstance(cause, ExpedienteError) else f"{type(cause).__name__}: {cause}"
    notes = [*getattr(exc, "notes", []), *getattr(exc, "__notes__", [])]  # SpiffWorkflow's: "... on row 3"
    row = next((n.rsplit(" ", 1)[-1] for n in notes if " row " in n), None)
    if row:
        return msg("La regla %(row)s no se pudo evaluar: %(error)s", row=row, error=str(error)[:300])
    return msg("La tabla no se pudo evaluar: %(error)s", error=str(error)[:300])


def _plain(value):
    """An output as JSON can carry it."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
