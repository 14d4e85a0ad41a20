"""Checks SpiffWorkflow does not make at parse time, run by engine.language.specs on trees it already parsed safely.

This module never parses XML itself (engine.language.specs is the only parser); it only walks lxml trees, each of them
once: every lookup by id or by a flow's end goes through engine.language.tree_index, never through a scan of the tree per
element (an XPath `//*[@id=...]` walks the whole document), so lint grows with the size of the diagram.
"""
from __future__ import annotations

import keyword
import re
from typing import Callable, Mapping

from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.errors import Problem
from engine.messages import msg, one_line
from engine.language import operators as service_operators
from engine.language.lint_messages import correlation_problems
from engine.language.expressions import expression_problem, timer_value_problem
from engine.language.naming import describe, kind as _kind_name
from engine.language.tree_index import TreeIndex

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# Every BPMN flow node (the flowElement substitution group minus flows and data elements).
FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "implicitThrowEvent", "callChoreography", "choreographyTask", "subChoreography",
})
SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
# Spiff silently ignores a node it has no parser for unless a flow happens to reach it.
SUPPORTED = frozenset(etree.QName(tag).localname
                      for tag in {**SpiffBpmnParser.PARSER_CLASSES, **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES}
                      if tag.startswith("{%s}" % BPMN_NS))
# Spiff parses these as "none" events, so they would silently never fire.
UNSUPPORTED_EVENT_DEFINITIONS = ("linkEventDefinition", "compensateEventDefinition")
# An unquoted ISO-8601 duration/cycle/date compiles as Python (a name or arithmetic) but fails when run.
_BARE_ISO = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.,]+$|^(R\d*/)?\d{4}-\d{2}-\d{2}(T[0-9:.+\-Z]*)?$")

Check = Callable[[str, str], "str | None"]


def _q(name: str, ns: str = BPMN_NS) -> str:
    return "{%s}%s" % (ns, name)


_SEQUENCE_FLOW = _q("sequenceFlow")


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kind(local: str) -> str:
    return _kind_name(local)


def is_executable(process) -> bool:
    """Mirror SpiffWorkflow's own rule exactly (anything but the literal 'true' is not executable)."""
    return process.get("isExecutable", "true") == "true"


def _script_checker() -> Check:
    from engine.sandbox.restricted import check_script  # the sandbox's own compiler: what it refuses, lint reports
    return check_script


def _owner(el):
    """The flow element (task, event, flow...) an expression belongs to."""
    node = el
    while node is not None:
        parent = node.getparent()
        if parent is None or _local(parent) in SCOPES:
            return node
        node = parent
    return el


def _scope(el):
    node = el.getparent()
    while node is not None and _local(node) not in SCOPES:
        node = node.getparent()
    return node


class _Linter:
    def __init__(self, bpmn: Mapping[str, etree._Element], dmn: Mapping[str, etree._Element], check: Check,
                 ids: TreeIndex):
        self.bpmn, self.dmn, self.check, self.ids = bpmn, dmn, check, ids
        self.out: list[Problem] = []
        self.processes = {p.get("id"): p for root in bpmn.values() for p in root.iterfind("bpmn:process", NS)}
        self.decisions: dict[str, str] = {}
        # bpmn:message/signal/error/escalation ids defined anywhere in the bundle, by kind.
        self.defined = {kind: {el.get("id") for root in bpmn.values() for el in root.iterfind(f"bpmn:{kind}", NS)}
                        for kind in ("message", "signal", "error", "escalation")}

    def add(self, file, el, message, severity="error", element_id=None):
        # Names in diagrams often contain line breaks; a message is one line.
        self.out.append(Problem(file, one_line(message), element_id or el.get("id"), el.sourceline, severity))

    def run(self) -> list[Problem]:
        for file, root in self.dmn.items():
            self.lint_dmn(file, root)
        any_executable = any(is_executable(p) for p in self.processes.values())
        for file, root in self.bpmn.items():
            for proc in root.iterfind("bpmn:process", NS):
                value = proc.get("isExecutable")
                if value is not None and value not in ("true", "false"):
                    # The XSD accepts "1"/"0", but SpiffWorkflow only understands the literal "true".
                    self.add(file, proc, msg('El atributo isExecutable %(element)s debe escribirse "true" o "false" '
                                             '(dice "%(value)s", que el motor tomaría como "false").',
                                             element=describe(proc, "of"), value=value))
                elif not is_executable(proc):
                    if any_executable:
                        self.add(file, proc, msg('%(element)s está marcado isExecutable="false": se conserva en el '
                                                 'diagrama, pero no se puede iniciar.', element=describe(proc, "The")),
                                 "warning")
                    continue
                self.lint_process(file, proc)
        return self.out

    def lint_dmn(self, file, root):
        decisions = [d for d in root if _local(d) == "decision"]
        if len(decisions) != 1:
            self.add(file, root, msg("Un archivo DMN debe contener exactamente una decisión (tiene %(count)s).",
                                     count=len(decisions)),
                     element_id=(decisions[1].get("id") if len(decisions) > 1 else None))
            if not decisions:
                return
        did = decisions[0].get("id")
        if did in self.decisions:
            self.add(file, decisions[0], msg("El id de decisión «%(decision)s» también se usa en %(other_file)s; los "
                                             "id de decisión deben ser únicos en un conjunto de archivos.",
                                             decision=did, other_file=self.decisions[did]))
        self.decisions.setdefault(did, file)

    def lint_process(self, file, proc):
        # Ids and lane names become indexed columns of fixed width (engine/storage/models.py).
        if len(proc.get("id", "")) > MAX_PROCESS_ID_CHARS:
            self.add(file, proc, msg("El id %(element)s tiene más de %(limit)s caracteres.",
                                     element=describe(proc, "of"), limit=MAX_PROCESS_ID_CHARS))
        for lane in proc.iterfind(".//bpmn:lane", NS):
            if len(lane.get("name") or "") > MAX_LANE_NAME_CHARS:
                self.add(file, lane, msg("El nombre %(element)s tiene más de %(limit)s caracteres.",
                                         element=describe(lane, "of"), limit=MAX_LANE_NAME_CHARS))
        for el in proc.iter(etree.Element):
            if len(el.get("id") or "") > MAX_ELEMENT_ID_CHARS:
                self.add(file, el, msg("El id %(element)s tiene más de %(limit)s caracteres.",
                                       element=describe(el, "of"), limit=MAX_ELEMENT_ID_CHARS))
        for el in proc.iter(etree.Element):
            local, parent = _local(el), el.getparent()
            if el.tag == _q(local) and local in FLOW_NODES and parent is not None and _local(parent) in SCOPES:
                if local not in SUPPORTED:
                    self.add(file, el, msg("El motor no admite elementos de tipo %(tag)s: quite o reemplace "
                                           "%(element)s.", tag=f"bpmn:{local}", element=describe(el)))
                    continue
                self.lint_reachable(file, el, local, parent)
            if el.tag == _q(local) and local in UNSUPPORTED_EVENT_DEFINITIONS:
                owner = _owner(el)
                self.add(file, owner, msg("El motor no admite bpmn:%(definition)s: %(element)s nunca se "
                                          "dispararía, y sin ningún aviso.",
                                          definition=local, element=describe(owner)),
                         element_id=owner.get("id"))
        self.lint_expressions(file, proc)
        for flow in proc.iter(_SEQUENCE_FLOW):
            for attr in ("sourceRef", "targetRef"):
                problem = dangling_flow_problem(file, flow, attr, self.bpmn, self.ids)
                if problem:
                    self.out.append(problem)
        for gw in proc.iter(_q("exclusiveGateway")):
            self.lint_exclusive_gateway(file, gw)
        for gw in proc.iter(_q("eventBasedGateway")):
            self.lint_event_gateway(file, gw)
        for event in proc.iter(_q("boundaryEvent")):
            if not self.ids.flows(_scope(event)).has_child(event.get("attachedToRef") or ""):
                target = self.ids.anywhere(event.get("attachedToRef") or "")
                activity = describe(target[1]) if target else msg("«%(id)s»", id=event.get("attachedToRef") or "?")
                self.add(file, event, msg("%(event)s está adjunto a %(activity)s, que no es "
                                          "una actividad del mismo proceso o subproceso.",
                                          event=describe(event, "The"), activity=activity))
        self.lint_references(file, proc)
        self.out.extend(correlation_problems(file, proc))  # docs/messages.md
        for ca in proc.iter(_q("callActivity")):
            self.lint_call_activity(file, ca)
        for task in proc.iter(_q("businessRuleTask")):
            self.lint_business_rule(file, task)
        for task in proc.iter(_q("serviceTask")):
            self.lint_service_task(file, task)

    def lint_reachable(self, file, el, local, scope):
        if local in ("startEvent", "boundaryEvent") or el.get("triggeredByEvent") == "true" \
                or el.get("isForCompensation") == "true" or _local(scope) == "adHocSubProcess":
            return
        if (el.get("id") or "") not in self.ids.flows(scope).by_target:
            self.add(file, el, msg("Ningún flujo de secuencia llega %(element)s, así que nunca se "
                                   "ejecutará.", element=describe(el, "to")), "warning")

    def expression(self, file, el, label, mode, required=False, timer=False, source=None, language=None):
        owner = _owner(el)
        what = msg("%(label)s %(element)s", label=label, element=describe(owner, "of"))
        source = (el.text or "") if source is None else source
        if not source.strip():
            if required:
                self.add(file, el, msg("%(what)s está en blanco.", what=what), element_id=owner.get("id"))
            return
        if mode == "eval" and timer and _BARE_ISO.match(source.strip()):
            self.add(file, el, msg('%(what)s se lee como una expresión Python; escriba el valor ISO 8601 entre '
                                   'comillas: "%(value)s".', what=what, value=source.strip()),
                     element_id=owner.get("id"))
            return
        try:
            message = self.check(source, mode)
        except Exception as exc:  # a checker bug must not turn into a crash of the deploy
            message = f"{type(exc).__name__}: {exc}"
        if message:
            self.add(file, el, expression_problem(what, source, mode, message, self.check, language),
                     element_id=owner.get("id"))
        elif timer and (wrong := timer_value_problem(source, _local(el))):
            self.add(file, el, msg("%(what)s no sirve: %(detail)s.", what=what, detail=wrong),
                     element_id=owner.get("id"))

    def lint_expressions(self, file, proc):
        for task in proc.iter(_q("scriptTask")):
            scripts = task.findall("bpmn:script", NS)
            if not scripts or not (scripts[-1].text or "").strip():
                self.add(file, task, msg("%(task)s no tiene script.", task=describe(task, "The")))
            for script in scripts:
                self.expression(file, script, msg("El script"), "exec", language=task.get("scriptFormat"))
        for el in proc.iter(_q("preScript", SPIFF_NS), _q("postScript", SPIFF_NS)):
            label = msg("El pre-script") if _local(el) == "preScript" else msg("El post-script")
            self.expression(file, el, label, "exec")
        for el in proc.iter(_q("conditionExpression")):
            self.expression(file, el, msg("La condición"), "eval")
        for el in proc.iter(_q("timeDate"), _q("timeDuration"), _q("timeCycle")):
            self.expression(file, el, msg("La expresión del temporizador"), "eval", required=True, timer=True)
        for name, label in (("loopCardinality", msg("La cardinalidad del ciclo")),
                            ("completionCondition", msg("La condición de finalización")),
                            ("loopCondition", msg("La condición del ciclo"))):
            for el in proc.iter(_q(name)):
                self.expression(file, el, label, "eval")
        for el in proc.iter(_q("conditionalEventDefinition")):
            for cond in el.iterfind("bpmn:condition", NS):
                self.expression(file, cond, msg("La condición"), "eval", required=True)

    def lint_exclusive_gateway(self, file, gw):
        flows, gid = self.ids.flows(_scope(gw)), gw.get("id")
        outgoing, incoming = flows.by_source.get(gid, []), flows.by_target.get(gid, [])
        default = gw.get("default")
        if default and default not in {f.get("id") for f in outgoing}:
            self.add(file, gw, msg("El flujo predeterminado «%(flow)s» %(gateway)s no es "
                                   "uno de sus flujos de secuencia salientes.", flow=default,
                                   gateway=describe(gw, "of")))

        def has_condition(flow):
            return any((c.text or "").strip() for c in flow.iterfind("bpmn:conditionExpression", NS))

        if len(outgoing) >= 2:
            for flow in outgoing:
                if flow.get("id") != default and not has_condition(flow):
                    self.add(file, flow, msg("%(flow)s sale de "
                                             "%(gateway)s sin condición y no es el flujo predeterminado de la "
                                             "compuerta: agréguele una condición o hágalo el predeterminado.",
                                             flow=describe(flow, "The"), gateway=describe(gw)))
        elif len(outgoing) == 1 and len(incoming) <= 1:  # a merging gateway legitimately has one way out
            flow = outgoing[0]
            if has_condition(flow) and flow.get("id") != default:
                self.add(file, gw, msg("%(gateway)s tiene un solo flujo saliente, "
                                       "%(flow)s, y ese flujo tiene condición: cuando la condición sea falsa, el "
                                       "expediente se detendrá con un error.", gateway=describe(gw, "The"),
                                       flow=describe(flow)),
                         "warning")
            else:
                self.add(file, gw, msg("%(gateway)s tiene un solo flujo saliente y no decide "
                                       "nada.", gateway=describe(gw, "The")), "warning")

    def lint_event_gateway(self, file, gw):
        flows, gid = self.ids.flows(_scope(gw)), gw.get("id")
        targets = {f.get("targetRef") for f in flows.by_source.get(gid, [])}
        timers = [el.get("id") for el in flows.children_with_ids(targets)
                  if el.find("bpmn:timerEventDefinition", NS) is not None]
        if len(timers) >= 2:
            # SpiffWorkflow issue #419: every timer after an event-based gateway gets the first timer's due time.
            self.add(file, gw, msg("%(gateway)s espera %(count)s eventos de "
                                   "temporizador (%(timers)s); el motor les daría a todos el vencimiento del primero. "
                                   "Use un solo temporizador, o temporizadores de borde en una tarea.",
                                   gateway=describe(gw, "The"), count=len(timers), timers=", ".join(timers)))

    def lint_references(self, file, proc):
        # SpiffWorkflow's own check for these crashes with a TypeError that names nothing useful.
        for kind, attr in (("message", "messageRef"), ("signal", "signalRef"), ("error", "errorRef"),
                           ("escalation", "escalationRef")):
            defined = self.defined[kind]
            tags = [_q(f"{kind}EventDefinition")] + ([_q("sendTask"), _q("receiveTask")] if kind == "message" else [])
            for el in proc.iter(*tags):
                if el.get(attr) and el.get(attr) not in defined:
                    owner = _owner(el)
                    self.add(file, el, _undefined_reference(kind, describe(owner, "The"), el.get(attr)),
                             element_id=owner.get("id"))

    def lint_call_activity(self, file, ca):
        called = ca.get("calledElement")
        if not called:
            self.add(file, ca, msg("%(activity)s no tiene calledElement: indique qué proceso llama.",
                                   activity=describe(ca, "The")))
        elif called not in self.processes:
            known = ", ".join(sorted(p for p in self.processes if p)) or msg("ninguno")
            self.add(file, ca, msg("%(activity)s llama al proceso «%(process)s», que no "
                                   "está en este conjunto de archivos (procesos disponibles: %(available)s). Publique "
                                   "el archivo del proceso llamado junto con este.",
                                   activity=describe(ca, "The"), process=called, available=known))
        elif not is_executable(self.processes[called]):
            self.add(file, ca, msg('%(activity)s llama al proceso «%(process)s», que está '
                                   'marcado isExecutable="false" y no se puede ejecutar.',
                                   activity=describe(ca, "The"), process=called))

    def lint_business_rule(self, file, task):
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        decision = (ref.text or "").strip() if ref is not None else ""
        if not decision:
            self.add(file, task, msg("%(task)s no tiene spiffworkflow:calledDecisionId: indique "
                                     "qué decisión DMN evalúa.", task=describe(task, "The")))
        elif decision not in self.decisions:
            known = ", ".join(sorted(self.decisions)) or msg("ninguna")
            self.add(file, task, msg("%(task)s evalúa la decisión «%(decision)s», que "
                                     "no está en ningún archivo DMN de este conjunto de archivos (decisiones "
                                     "disponibles: %(available)s).",
                                     task=describe(task, "The"), decision=decision, available=known))

    def lint_service_task(self, file, task):
        """The operator must be declared (engine/language/operators.py), with its required parameters, only its own,
        each a Python expression the sandbox compiles: SpiffWorkflow checks none of it and fails at run time."""
        tid, the_task, of_task = describe(task, "The"), describe(task), describe(task, "of")
        found = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        name = (found.get("id") or "").strip() if found is not None else ""
        available = ", ".join(o.name for o in service_operators.operators())
        if not name:
            self.add(file, task, msg("%(task)s no indica qué servicio llamar: elija una "
                                     "operación en el panel de propiedades del modelador (operaciones disponibles: "
                                     "%(available)s).",
                                     task=tid, available=available))
            return
        op = service_operators.operator(name)
        if op is None:
            self.add(file, task, msg("%(task)s llama a la operación «%(operator)s», que no "
                                     "existe (operaciones disponibles: %(available)s).",
                                     task=tid, operator=name, available=available))
            return
        result = found.get("resultVariable")
        if result is not None and result.strip() and (not result.isidentifier() or keyword.iskeyword(result)):
            self.add(file, found, msg("La variable de resultado «%(variable)s» %(task)s no "
                                      "es un nombre válido (letras, dígitos y _, sin empezar con un dígito).",
                                      variable=result, task=of_task), element_id=task.get("id"))
        given = set()
        for param in found.iterfind(".//spiffworkflow:parameter", NS):
            pid = (param.get("id") or "").strip()
            if not pid:
                self.add(file, param, msg("Un parámetro %(task)s no tiene id.", task=of_task),
                         element_id=task.get("id"))
                continue
            if op.parameter(pid) is None:
                self.add(file, param, msg("La operación «%(operator)s» %(task)s no recibe "
                                          "el parámetro «%(parameter)s» (sus parámetros: %(parameters)s).",
                                          operator=name, task=of_task, parameter=pid,
                                          parameters=", ".join(p.name for p in op.parameters)), element_id=task.get("id"))
                continue
            if pid in given:
                self.add(file, param, msg("El parámetro «%(parameter)s» aparece dos veces en "
                                          "%(task)s.", parameter=pid, task=the_task), element_id=task.get("id"))
                continue
            value = param.get("value")
            if value is None:  # SpiffWorkflow skips a parameter without value: it is missing
                continue
            given.add(pid)
            if param.get("type") is None:  # SpiffWorkflow's parser fails with a bare KeyError
                self.add(file, param, msg('El parámetro «%(parameter)s» %(task)s no tiene '
                                          'el atributo type (escriba, por ejemplo, type="any").',
                                          parameter=pid, task=of_task), element_id=task.get("id"))
            label = msg("El parámetro «%(parameter)s»", parameter=pid)
            if not value.strip():
                self.add(file, param, msg("%(label)s %(task)s está en blanco: escriba una expresión "
                                          "o quite el parámetro.", label=label, task=of_task),
                         element_id=task.get("id"))
                continue
            self.expression(file, param, label, "eval", source=value)
        for missing in (p for p in op.parameters if p.required and p.name not in given):
            self.add(file, task, msg("A %(task)s (operación «%(operator)s») le falta el "
                                     "parámetro obligatorio «%(parameter)s»: %(description)s",
                                     task=the_task, operator=name, parameter=missing.name,
                                     description=missing.description))


def _undefined_reference(kind: str, element: str, ref: str) -> str:
    """The element refers to a bpmn:message/signal/error/escalation that no file of the bundle defines."""
    params = dict(element=element, ref=ref)
    if kind == "message":
        return msg("%(element)s hace referencia al mensaje «%(ref)s», pero no hay ningún bpmn:message con ese id.",
                   **params)
    if kind == "signal":
        return msg("%(element)s hace referencia a la señal «%(ref)s», pero no hay ningún bpmn:signal con ese id.",
                   **params)
    if kind == "error":
        return msg("%(element)s hace referencia al error «%(ref)s», pero no hay ningún bpmn:error con ese id.",
                   **params)
    return msg("%(element)s hace referencia al escalamiento «%(ref)s», pero no hay ningún bpmn:escalation con ese "
               "id.", **params)


def dangling_flow_problem(file: str, flow, attr: str, bpmn: Mapping[str, etree._Element],
                          ids: TreeIndex | None = None) -> Problem | None:
    """A Problem if the flow's sourceRef/targetRef names no element of its own process or sub-process."""
    ref, scope = flow.get(attr), _scope(flow)
    if scope is None:
        return None
    ids = ids or TreeIndex(bpmn)
    if ref and ids.flows(scope).has_child(ref):
        return None
    params = dict(flow=describe(flow, "The"), attribute=attr, ref=ref, scope=describe(scope))
    if not ref:
        return Problem(file, msg("%(flow)s no tiene %(attribute)s.", **params),
                       flow.get("id"), flow.sourceline)
    elsewhere = ids.anywhere(ref)
    if elsewhere:
        params.update(other_file=elsewhere[0], line=elsewhere[1].sourceline)
    if attr == "sourceRef" and elsewhere:
        message = msg("%(flow)s sale de «%(ref)s», pero no existe ningún elemento con id "
                      "«%(ref)s» en %(scope)s. Existe en otra parte (%(other_file)s, línea "
                      "%(line)s), pero un flujo de secuencia no puede cruzar el límite de un proceso, pool o "
                      "subproceso; use un flujo de mensaje o una actividad de llamada.", **params)
    elif attr == "sourceRef":
        message = msg("%(flow)s sale de «%(ref)s», pero no existe ningún elemento con id "
                      "«%(ref)s» en %(scope)s.", **params)
    elif elsewhere:
        message = msg("%(flow)s va a «%(ref)s», pero no existe ningún elemento con id "
                      "«%(ref)s» en %(scope)s. Existe en otra parte (%(other_file)s, línea "
                      "%(line)s), pero un flujo de secuencia no puede cruzar el límite de un proceso, pool o "
                      "subproceso; use un flujo de mensaje o una actividad de llamada.", **params)
    else:
        message = msg("%(flow)s va a «%(ref)s», pero no existe ningún elemento con id "
                      "«%(ref)s» en %(scope)s.", **params)
    return Problem(file, message, flow.get("id"), flow.sourceline)


MAX_PROCESS_ID_CHARS = 100   # process_versions.process_key, cases.process_key
MAX_LANE_NAME_CHARS = 100    # tasks.lane, lane_groups.lane
MAX_ELEMENT_ID_CHARS = 200   # tasks.element_id, events.element_id


def lint(bpmn: Mapping[str, etree._Element], dmn: Mapping[str, etree._Element] | None = None,
         ids: TreeIndex | None = None) -> list[Problem]:
    """Return the errors and warnings SpiffWorkflow's parser does not detect, for one bundle's parsed roots.

    `ids` (a TreeIndex of the same `bpmn`) lets the caller look up the problems' elements without a second index.
    """
    return _Linter(bpmn, dmn or {}, _script_checker(), ids or TreeIndex(bpmn)).run()
