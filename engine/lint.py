"""Checks SpiffWorkflow does not make at parse time, run by engine.specs on trees it already parsed safely.

This module never parses XML itself (engine.specs is the only parser); it only walks lxml trees.
"""
from __future__ import annotations

import re
import warnings
from typing import Callable, Mapping

from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.errors import Problem

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


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _words(local: str) -> str:
    """'scriptTask' -> 'script task', for messages."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", local).lower()


def is_executable(process) -> bool:
    """Mirror SpiffWorkflow's own rule exactly (anything but the literal 'true' is not executable)."""
    return process.get("isExecutable", "true") == "true"


def _compile_check(source: str, mode: str = "exec") -> str | None:
    # Stand-in used only while engine.sandbox is absent; the sandbox is stricter.
    try:
        with warnings.catch_warnings():
            # A SyntaxWarning is not a failure here, and pytest's filterwarnings=error would make it one.
            warnings.simplefilter("ignore")
            compile(source, "<bpmn>", mode)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    except ValueError as exc:  # e.g. NUL bytes in the source
        return str(exc)
    return None


def _script_checker() -> Check:
    try:
        from engine.sandbox import check_script
    except ModuleNotFoundError as exc:
        # engine/sandbox.py is written in parallel; only its absence falls back, never a broken import inside it.
        if exc.name not in ("engine.sandbox",):
            raise
        return _compile_check
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
    def __init__(self, bpmn: Mapping[str, etree._Element], dmn: Mapping[str, etree._Element], check: Check):
        self.bpmn, self.dmn, self.check = bpmn, dmn, check
        self.out: list[Problem] = []
        self.processes = {p.get("id"): p for root in bpmn.values() for p in root.iterfind("bpmn:process", NS)}
        self.decisions: dict[str, str] = {}

    def add(self, file, el, message, severity="error", element_id=None):
        # Names in diagrams often contain line breaks; a message is one line.
        self.out.append(Problem(file, " ".join(message.split()), element_id or el.get("id"), el.sourceline, severity))

    def run(self) -> list[Problem]:
        for file, root in self.dmn.items():
            self.lint_dmn(file, root)
        any_executable = any(is_executable(p) for p in self.processes.values())
        for file, root in self.bpmn.items():
            for proc in root.iterfind("bpmn:process", NS):
                value = proc.get("isExecutable")
                if value is not None and value not in ("true", "false"):
                    # The XSD accepts "1"/"0", but SpiffWorkflow only understands the literal "true".
                    self.add(file, proc, f'Process attribute isExecutable must be written "true" or "false" '
                                         f'(found "{value}", which the engine would treat as "false").')
                elif not is_executable(proc):
                    if any_executable:
                        self.add(file, proc, "Process is marked isExecutable=\"false\": it is kept for the diagram "
                                             "but cannot be started.", "warning")
                    continue
                self.lint_process(file, proc)
        return self.out

    def lint_dmn(self, file, root):
        decisions = [d for d in root if _local(d) == "decision"]
        if len(decisions) != 1:
            self.add(file, root, f"A DMN file must contain exactly one decision (found {len(decisions)}).",
                     element_id=(decisions[1].get("id") if len(decisions) > 1 else None))
            if not decisions:
                return
        did = decisions[0].get("id")
        if did in self.decisions:
            self.add(file, decisions[0], f"Decision id '{did}' is also used in {self.decisions[did]}; "
                                         "decision ids must be unique in a bundle.")
        self.decisions.setdefault(did, file)

    def lint_process(self, file, proc):
        # Ids and lane names become indexed columns of fixed width (engine/models.py).
        if len(proc.get("id", "")) > MAX_PROCESS_ID_CHARS:
            self.add(file, proc, f"Process id is longer than {MAX_PROCESS_ID_CHARS} characters.")
        for lane in proc.iterfind(".//bpmn:lane", NS):
            if len(lane.get("name") or "") > MAX_LANE_NAME_CHARS:
                self.add(file, lane, f"Lane name is longer than {MAX_LANE_NAME_CHARS} characters.")
        for el in proc.iter(etree.Element):
            if len(el.get("id") or "") > MAX_ELEMENT_ID_CHARS:
                self.add(file, el, f"Element id is longer than {MAX_ELEMENT_ID_CHARS} characters.")
        for el in proc.iter(etree.Element):
            local, parent = _local(el), el.getparent()
            if el.tag == _q(local) and local in FLOW_NODES and parent is not None and _local(parent) in SCOPES:
                if local not in SUPPORTED:
                    self.add(file, el, f"Element type bpmn:{local} is not supported by the engine.")
                    continue
                self.lint_reachable(file, el, local, parent)
            if el.tag == _q(local) and local in UNSUPPORTED_EVENT_DEFINITIONS:
                owner = _owner(el)
                self.add(file, owner, f"bpmn:{local} is not supported by the engine: the {_words(_local(owner))} "
                                      f"would silently never fire.", element_id=owner.get("id"))
        self.lint_expressions(file, proc)
        for flow in proc.iter(_q("sequenceFlow")):
            for attr in ("sourceRef", "targetRef"):
                problem = dangling_flow_problem(file, flow, attr, self.bpmn)
                if problem:
                    self.out.append(problem)
        for gw in proc.iter(_q("exclusiveGateway")):
            self.lint_exclusive_gateway(file, gw)
        for gw in proc.iter(_q("eventBasedGateway")):
            self.lint_event_gateway(file, gw)
        for event in proc.iter(_q("boundaryEvent")):
            if not _scope(event).xpath("boolean(./*[@id=$ref])", ref=event.get("attachedToRef") or ""):
                self.add(file, event, f"Boundary event '{event.get('id')}' is attached to "
                                      f"'{event.get('attachedToRef')}', which is not an activity of the same "
                                      "process or sub-process.")
        self.lint_references(file, proc)
        for ca in proc.iter(_q("callActivity")):
            self.lint_call_activity(file, ca)
        for task in proc.iter(_q("businessRuleTask")):
            self.lint_business_rule(file, task)

    def lint_reachable(self, file, el, local, scope):
        if local in ("startEvent", "boundaryEvent") or el.get("triggeredByEvent") == "true" \
                or el.get("isForCompensation") == "true" or _local(scope) == "adHocSubProcess":
            return
        if not scope.xpath("boolean(bpmn:sequenceFlow[@targetRef=$id])", namespaces=NS, id=el.get("id") or ""):
            self.add(file, el, f"The {_words(local)} has no incoming sequence flow, so it will never run.",
                     "warning")

    def expression(self, file, el, label, mode, required=False):
        owner = _owner(el)
        what = f"{label} of {_words(_local(owner))} '{owner.get('id')}'"
        source = el.text or ""
        if not source.strip():
            if required:
                self.add(file, el, f"{what} is empty.", element_id=owner.get("id"))
            return
        if mode == "eval" and label == "Timer expression" and _BARE_ISO.match(source.strip()):
            self.add(file, el, f'{what} is read as a Python expression; write the ISO 8601 value in quotes: '
                               f'"{source.strip()}".', element_id=owner.get("id"))
            return
        try:
            message = self.check(source, mode)
        except Exception as exc:  # a checker bug must not turn into a crash of the deploy
            message = f"{type(exc).__name__}: {exc}"
        if message:
            verb = "is not a valid Python expression" if mode == "eval" else "is not valid Python"
            snippet = " ".join(source.split())
            snippet = snippet if len(snippet) <= 60 else snippet[:57] + "..."
            if snippet.startswith(("${", "#{", "=")):  # exported from Camunda/Zeebe-style modelers
                message += "; expressions here are Python, not JUEL/FEEL"
            self.add(file, el, f"{what} {verb} ({snippet!r}): {message}", element_id=owner.get("id"))

    def lint_expressions(self, file, proc):
        for task in proc.iter(_q("scriptTask")):
            scripts = task.findall("bpmn:script", NS)
            if not scripts or not (scripts[-1].text or "").strip():
                self.add(file, task, "Script task has no script.")
            for script in scripts:
                self.expression(file, script, "Script", "exec")
        for el in proc.iter(_q("preScript", SPIFF_NS), _q("postScript", SPIFF_NS)):
            self.expression(file, el, "Pre-script" if _local(el) == "preScript" else "Post-script", "exec")
        for el in proc.iter(_q("conditionExpression")):
            self.expression(file, el, "Condition", "eval")
        for el in proc.iter(_q("timeDate"), _q("timeDuration"), _q("timeCycle")):
            self.expression(file, el, "Timer expression", "eval", required=True)
        for name, label in (("loopCardinality", "Loop cardinality"), ("completionCondition", "Completion condition"),
                            ("loopCondition", "Loop condition")):
            for el in proc.iter(_q(name)):
                self.expression(file, el, label, "eval")
        for el in proc.iter(_q("conditionalEventDefinition")):
            for cond in el.iterfind("bpmn:condition", NS):
                self.expression(file, cond, "Condition", "eval", required=True)

    def lint_exclusive_gateway(self, file, gw):
        scope, gid = _scope(gw), gw.get("id")
        outgoing = [f for f in scope.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == gid]
        incoming = [f for f in scope.iterfind("bpmn:sequenceFlow", NS) if f.get("targetRef") == gid]
        default = gw.get("default")
        if default and default not in {f.get("id") for f in outgoing}:
            self.add(file, gw, f"Default flow '{default}' of exclusive gateway '{gid}' is not one of its "
                               "outgoing sequence flows.")

        def has_condition(flow):
            return any((c.text or "").strip() for c in flow.iterfind("bpmn:conditionExpression", NS))

        if len(outgoing) >= 2:
            for flow in outgoing:
                if flow.get("id") != default and not has_condition(flow):
                    self.add(file, flow, f"Sequence flow '{flow.get('id')}' leaves exclusive gateway '{gid}' without "
                                         "a condition and is not the gateway's default flow: add a condition or "
                                         "make it the default.")
        elif len(outgoing) == 1 and len(incoming) <= 1:  # a merging gateway legitimately has one way out
            flow = outgoing[0]
            if has_condition(flow) and flow.get("id") != default:
                self.add(file, gw, f"Exclusive gateway '{gid}' has a single outgoing flow '{flow.get('id')}' with a "
                                   "condition: when it is false the case stops with an error.", "warning")
            else:
                self.add(file, gw, f"Exclusive gateway '{gid}' has a single outgoing flow and decides nothing.",
                         "warning")

    def lint_event_gateway(self, file, gw):
        scope, gid = _scope(gw), gw.get("id")
        targets = {f.get("targetRef") for f in scope.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == gid}
        timers = [el.get("id") for el in scope if el.get("id") in targets
                  and el.find("bpmn:timerEventDefinition", NS) is not None]
        if len(timers) >= 2:
            # SpiffWorkflow issue #419: every timer after an event-based gateway gets the first timer's due time.
            self.add(file, gw, f"Event-based gateway '{gid}' waits for {len(timers)} timers ({', '.join(timers)}); "
                               "the engine would give all of them the first timer's due time. Use one timer, or "
                               "boundary timers on a task.")

    def lint_references(self, file, proc):
        # SpiffWorkflow's own check for these crashes with a TypeError that names nothing useful.
        for kind, attr in (("message", "messageRef"), ("signal", "signalRef"), ("error", "errorRef"),
                           ("escalation", "escalationRef")):
            defined = {el.get("id") for root in self.bpmn.values() for el in root.iterfind(f"bpmn:{kind}", NS)}
            tags = [_q(f"{kind}EventDefinition")] + ([_q("sendTask"), _q("receiveTask")] if kind == "message" else [])
            for el in proc.iter(*tags):
                if el.get(attr) and el.get(attr) not in defined:
                    owner = _owner(el)
                    self.add(file, el, f"The {_words(_local(owner))} '{owner.get('id')}' refers to {kind} "
                                       f"'{el.get(attr)}', but no bpmn:{kind} with that id is defined.",
                             element_id=owner.get("id"))

    def lint_call_activity(self, file, ca):
        called = ca.get("calledElement")
        if not called:
            self.add(file, ca, "Call activity has no calledElement: say which process it calls.")
        elif called not in self.processes:
            known = ", ".join(sorted(p for p in self.processes if p)) or "none"
            self.add(file, ca, f"Call activity '{ca.get('id')}' calls process '{called}', which is not in this "
                               f"bundle (processes available: {known}). Deploy the called file together with it.")
        elif not is_executable(self.processes[called]):
            self.add(file, ca, f"Call activity '{ca.get('id')}' calls process '{called}', which is marked "
                               "isExecutable=\"false\" and cannot run.")

    def lint_business_rule(self, file, task):
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        decision = (ref.text or "").strip() if ref is not None else ""
        if not decision:
            self.add(file, task, "Business rule task has no spiffworkflow:calledDecisionId: say which DMN decision "
                                 "it evaluates.")
        elif decision not in self.decisions:
            known = ", ".join(sorted(self.decisions)) or "none"
            self.add(file, task, f"Business rule task '{task.get('id')}' evaluates decision '{decision}', which is "
                                 f"not in any DMN file of this bundle (decisions available: {known}).")


def dangling_flow_problem(file: str, flow, attr: str, bpmn: Mapping[str, etree._Element]) -> Problem | None:
    """A Problem if the flow's sourceRef/targetRef names no element of its own process or sub-process."""
    ref, scope = flow.get(attr), _scope(flow)
    if scope is None:
        return None
    end = "from" if attr == "sourceRef" else "to"
    if ref and scope.xpath("boolean(./*[@id=$ref])", ref=ref):
        return None
    where = f"process or sub-process '{scope.get('id')}'"
    if not ref:
        message = f"Sequence flow '{flow.get('id')}' has no {attr}."
    else:
        message = f"Sequence flow '{flow.get('id')}' goes {end} '{ref}', but no element with id '{ref}' exists in {where}."
        for other_file, root in bpmn.items():
            found = root.xpath("//*[@id=$ref]", ref=ref)
            if found:
                message += (f" It exists elsewhere ({other_file} line {found[0].sourceline}), but a sequence flow "
                            "cannot cross a process, pool or sub-process boundary; use a message flow or call activity.")
                break
    return Problem(file, message, flow.get("id"), flow.sourceline)


MAX_PROCESS_ID_CHARS = 100   # process_versions.process_key, cases.process_key
MAX_LANE_NAME_CHARS = 100    # tasks.lane, lane_groups.lane
MAX_ELEMENT_ID_CHARS = 200   # tasks.element_id, events.element_id


def lint(bpmn: Mapping[str, etree._Element], dmn: Mapping[str, etree._Element] | None = None) -> list[Problem]:
    """Return the errors and warnings SpiffWorkflow's parser does not detect, for one bundle's parsed roots."""
    return _Linter(bpmn, dmn or {}, _script_checker()).run()
