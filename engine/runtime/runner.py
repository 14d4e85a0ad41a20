"""Running SpiffWorkflow workflows safely: sandboxed scripts, bounded loops, captured errors."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, TimerEventDefinition,
)

from engine.timekeeping import clock
from engine.errors import ExpedienteError, LoopLimitExceeded
from engine.messages import msg
from engine.sandbox.restricted import make_script_engine
from engine.sandbox.pool import DEFAULT_MEMORY_BYTES, DEFAULT_WORKERS
from engine.runtime.storable import check_task_output
from engine.runtime.serializer import runnable_specs
from engine.values import ValueRejected
from engine.runtime.walks import DeepWorkflow

log = logging.getLogger(__name__)

_spiff_run = getattr(TaskSpec._run, "__wrapped__", TaskSpec._run)  # once, even if this module is reloaded
_checking_values = ContextVar("checking_values", default=False)  # set while a Runtime runs a workflow


def _run_checked(spec, task):
    """SpiffWorkflow's TaskSpec._run, then the values the task added are checked before it completes: one a
    case cannot store stops the task in ERROR, like a failing script (retry runs it again)."""
    result = _spiff_run(spec, task)
    if result and _checking_values.get():
        try:
            check_task_output(task)
        except ValueRejected:
            task.error()
            raise
    return result


# The one place every task (script, service, rule, user) passes between running and completing.
_run_checked.__wrapped__ = _spiff_run
TaskSpec._run = _run_checked

MAX_ENGINE_STEPS_PER_ADVANCE = 1_000
# SpiffWorkflow's joins walk the whole task tree: inside a loop each round costs more (about
# 4 ms at round 10, 400 ms at round 100, RecursionError at ~164). Stop well before that.
MAX_JOIN_ROUNDS = 50


@dataclass(frozen=True)
class HumanTask:
    """A ready user/manual task as the inbox sees it."""

    id: str
    element_id: str
    title: str
    lane: str | None
    form_key: str | None
    instructions: str | None
    properties: dict = field(default_factory=dict)
    document_kind: str | None = None  # the kind of document completing it issues (property DOCUMENT_PROPERTY)


@dataclass(frozen=True)
class Failure:
    """Why a case stopped: the element and a message a supervisor can act on."""

    element_id: str | None
    message: str


class Runtime:
    """Creates, loads and advances workflows with one sandboxed script engine."""

    def __init__(self, helpers: dict | None = None, script_time_limit_seconds: float = 2.0,
                 max_task_depth: int = 20_000, max_engine_steps: int = MAX_ENGINE_STEPS_PER_ADVANCE,
                 max_join_rounds: int = MAX_JOIN_ROUNDS, clock=None, script_workers: int = DEFAULT_WORKERS,
                 script_memory_bytes: int = DEFAULT_MEMORY_BYTES, service_handler=None):
        self.script_engine = make_script_engine(helpers if helpers is not None else {}, script_time_limit_seconds,
                                                script_workers, script_memory_bytes, service_handler)
        self.service_handler = service_handler  # service tasks' operators (engine/usecases/operators.py Registry)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.max_task_depth = max_task_depth
        self.max_engine_steps = max_engine_steps
        self.max_join_rounds = max_join_rounds

    @contextmanager
    def _running(self):
        """While a step runs: SpiffWorkflow sees our clock, and every task's new values are checked."""
        token = _checking_values.set(True)
        try:
            with clock.using(self.clock):
                yield
        finally:
            _checking_values.reset(token)

    def new_workflow(self, spec, subprocess_specs, data: dict | None = None) -> BpmnWorkflow:
        """Create a workflow on `spec` with initial data on its start."""
        # DeepWorkflow (on specs ending in DeepEndJoin) walks its task tree without SpiffWorkflow's depth cap
        # of 1000, past which a loop stalls and reports "completed"; check_depth bounds depth instead.
        spec, subprocess_specs = runnable_specs(spec, subprocess_specs)
        wf = DeepWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        if data:
            wf.task_tree.data.update(data)
            for task in wf.task_tree.children:
                task.data.update(data)
        return wf

    def attach(self, wf: BpmnWorkflow) -> BpmnWorkflow:
        """Re-attach the sandbox: SpiffWorkflow does not serialize it and falls back to plain exec."""
        wf.script_engine = self.script_engine
        return wf

    def advance(self, wf: BpmnWorkflow) -> Failure | None:
        """Run engine steps until the workflow waits; return the failure that stopped it, if any."""
        with self._running():
            return self._advance(wf)

    def fire_timers(self, wf: BpmnWorkflow) -> Failure | None:
        """Let timers that are due (by our clock) fire, then run on until the workflow waits."""
        with self._running():
            try:
                wf.refresh_timers()
            except (SpiffWorkflowException, ExpedienteError) as exc:
                return Failure(_element_of(exc), _message_of(exc))
            except Exception as exc:  # noqa: BLE001 - see _unexpected
                return _unexpected(exc, _errored_element(wf))
            return self._advance(wf)

    def _advance(self, wf: BpmnWorkflow) -> Failure | None:
        steps = 0

        def count(task):
            nonlocal steps
            steps += 1
            if steps > self.max_engine_steps:
                raise LoopLimitExceeded(
                    f"more than {self.max_engine_steps} automatic steps without waiting for a "
                    f"person or an event: the cycle through '{task.task_spec.bpmn_id}' never ends",
                    element_id=task.task_spec.bpmn_id)
            if isinstance(task.task_spec, Join):
                rounds = sum(1 for t in task.workflow.tasks.values() if t.task_spec is task.task_spec)
                if rounds > self.max_join_rounds:
                    raise LoopLimitExceeded(
                        f"the gateway '{task.task_spec.bpmn_id}' has run {rounds} times in a loop with "
                        f"parallel branches; the engine stops at {self.max_join_rounds} (each round costs more)",
                        element_id=task.task_spec.bpmn_id)

        try:
            wf.do_engine_steps(did_complete_task=count)
        except RecursionError:
            return Failure(_errored_element(wf), "the cycle is too long for the engine "
                           "(parallel branches inside a loop): stopped before the case became unreadable")
        except (SpiffWorkflowException, ExpedienteError) as exc:
            element = _element_of(exc) or getattr(exc, "details", {}).get("element_id") or _errored_element(wf)
            return Failure(element, _message_of(exc))
        except Exception as exc:  # noqa: BLE001 - see _unexpected
            return _unexpected(exc, _errored_element(wf))
        return self.check_depth(wf)

    def run_task(self, wf: BpmnWorkflow, task, data: dict | None) -> Failure | None:
        """Complete a ready human task with `data`, then advance."""
        with self._running():
            return _run_one(task, data) or self._advance(wf)

    def retry(self, wf: BpmnWorkflow, data: dict | None = None) -> Failure | None:
        """Run the errored tasks again (after data or version fixes), then advance."""
        with self._running():
            for task in [t for t in all_tasks(wf) if t.state == TaskState.ERROR]:
                failure = _run_one(task, data)
                if failure is not None:
                    return failure
            return self._advance(wf)

    def waiting_timers(self, wf: BpmnWorkflow) -> dict[str, tuple[str, datetime]]:
        """Waiting timer events by task id: (element id, due moment in UTC)."""
        found = {}
        with clock.using(self.clock):
            for task in list(wf.event_manager.tasks.values()):
                due = _timer_due(task)
                if due is not None:
                    found[str(task.id)] = (task.task_spec.bpmn_id, due)
        return found

    def waiting_messages(self, wf: BpmnWorkflow) -> dict[str, tuple[str, str, str, dict]]:
        """Waiting message and signal catches by task id: (element id, kind, name, correlation keys they declare)."""
        found = {}
        for task in list(wf.event_manager.tasks.values()):
            if not task.state & TaskState.WAITING:
                continue
            for kind, definition in _catchable(task.task_spec.event_definition):
                keys = correlation_keys(_properties(task.task_spec).get(CORRELATION_PROPERTY), task.data)
                found[str(task.id)] = (task.task_spec.bpmn_id, kind, definition.name, keys)
                break
        return found

    def deliver(self, wf: BpmnWorkflow, task, kind: str, name: str, payload: dict) -> Failure | None:
        """Hand a message or signal to one waiting catch task of `wf`, then advance until the workflow waits.

        Delivered to that task only (SpiffWorkflow's own correlation rules are not consulted: the caller matched
        the message to this case and task); the payload lands under the catch's message variable, else in its data.
        """
        with self._running():
            try:
                definition = next(d for k, d in _catchable(task.task_spec.event_definition)
                                  if k == kind and d.name == name)
            except StopIteration:
                return Failure(task.task_spec.bpmn_id, f"the element does not wait for the {kind} '{name}'")
            try:
                named = getattr(definition, "message_var", None) or getattr(definition, "variable", None)
                if not named:
                    task.data.update(payload)
                if isinstance(task.task_spec.event_definition, MultipleEventDefinition):
                    # An event-based gateway (or a multiple catch) picks its branch from the events it has seen.
                    seen = task.internal_data.get("seen_events", []) + [BpmnEvent(definition, payload=payload)]
                    task._set_internal_data(seen_events=seen)
                else:
                    if named:
                        task.internal_data[definition.name] = payload  # its update_task_data moves it there
                    EventDefinition.catch(definition, task, None)  # marks it fired, without correlation checks
                task.task_spec._update(task)
            except (SpiffWorkflowException, ExpedienteError) as exc:
                return Failure(task.task_spec.bpmn_id, _message_of(exc))
            except Exception as exc:  # noqa: BLE001 - see _unexpected
                return _unexpected(exc, task.task_spec.bpmn_id)
            return self._advance(wf)

    def thrown(self, wf: BpmnWorkflow) -> list[dict]:
        """The messages and signals the last steps threw that no task of this case caught (drained: once each).

        Each: kind, name, payload, correlation (the throwing element's `correlacion`, read in the payload), element.
        """
        events = wf.get_events()
        if not events:
            return []
        throwers = {}
        for spec in [wf.spec, *wf.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                definition = getattr(task_spec, "event_definition", None)
                if definition is not None:
                    throwers[id(definition)] = task_spec
        out = []
        for event in events:
            definition = event.event_definition
            kind = "signal" if isinstance(definition, SignalEventDefinition) else (
                "message" if isinstance(definition, MessageEventDefinition) else None)
            if kind is None:
                continue  # errors and escalations that left the case are SpiffWorkflow's business
            spec = throwers.get(id(definition))
            payload = event.payload if isinstance(event.payload, dict) else (
                {} if event.payload is None else {"valor": event.payload})
            rule = _properties(spec).get(CORRELATION_PROPERTY) if spec is not None else None
            out.append({"kind": kind, "name": definition.name, "payload": payload,
                        "correlation": correlation_keys(rule, payload),
                        "element_id": getattr(spec, "bpmn_id", None)})
        return out

    def check_depth(self, wf: BpmnWorkflow) -> Failure | None:
        for task in all_tasks(wf):
            if task.state & (TaskState.READY | TaskState.WAITING) and task.depth > self.max_task_depth:
                return Failure(task.task_spec.bpmn_id, str(LoopLimitExceeded(
                    f"the case has gone round its cycles more than the engine tracks safely "
                    f"({self.max_task_depth} steps deep); split the loop or close the case")))
        return None


# The task property by which a user or manual task issues a document (engine/documents/kinds.py).
DOCUMENT_PROPERTY = "document"
# The property by which a message catch declares the keys it answers to, and a throw the keys its message carries:
# "clave=ruta, clave2=ruta2" (a path in the case's data for a catch, in the message's payload for a throw).
CORRELATION_PROPERTY = "correlacion"


def _properties(task_spec) -> dict:
    return dict(((getattr(task_spec, "extensions", None) or {}).get("properties") or {}))


def _catchable(definition):
    """(kind, definition) of the message and signal definitions an event waits on (one, or several if multiple)."""
    parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    for d in parts:
        if isinstance(d, MessageEventDefinition):
            yield "message", d
        elif isinstance(d, SignalEventDefinition):
            yield "signal", d


def parse_correlation(rule: str | None) -> list[tuple[str, str]]:
    """ "clave=ruta, campo" -> [("clave", "ruta"), ("campo", "campo")]; blanks ignored."""
    pairs = []
    for part in (rule or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, _, path = part.partition("=")
        key, path = key.strip(), (path.strip() or key.strip())
        if key and path:
            pairs.append((key, path))
    return pairs


def correlation_keys(rule: str | None, data: dict) -> dict:
    """The correlation a rule reads in `data` (missing paths give None: a key nobody can match by accident)."""
    keys = {}
    for key, path in parse_correlation(rule):
        value = data
        for step in path.split("."):
            value = value.get(step) if isinstance(value, dict) else None
        keys[key] = value
    return keys


def all_tasks(wf: BpmnWorkflow):
    """Every task of the workflow and its subprocesses, without SpiffWorkflow's depth-limited walk."""
    yield from wf.tasks.values()
    for sub in wf.subprocesses.values():
        yield from sub.tasks.values()


def is_finished(wf: BpmnWorkflow) -> bool:
    """True when no task is left unfinished (checked over every task, not a depth-limited walk)."""
    return not any(t.state & TaskState.NOT_FINISHED_MASK for t in all_tasks(wf))


def ready_human_tasks(wf: BpmnWorkflow) -> list[HumanTask]:
    """Ready user and manual tasks, found by id lookup over the task map (no tree walk)."""
    found = []
    for task in all_tasks(wf):
        if task.state == TaskState.READY and task.task_spec.manual:
            found.append(describe(task))
    return found


def instructions_of(task_spec) -> str | None:
    """What the clerk reads for a task: its BPMN documentation, else spiffworkflow's instructions."""
    ext = getattr(task_spec, "extensions", None) or {}
    return getattr(task_spec, "documentation", None) or ext.get("instructionsForEndUser")


def describe(task) -> HumanTask:
    spec = task.task_spec
    ext = getattr(spec, "extensions", None) or {}
    props = dict(ext.get("properties") or {})
    instructions = instructions_of(spec)
    return HumanTask(
        id=str(task.id), element_id=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane, form_key=props.get("form"), instructions=instructions, properties=props,
        document_kind=(props.get(DOCUMENT_PROPERTY) or "").strip() or None,
    )


def is_process_start(task_spec) -> bool:
    """A start event of the process itself: it hangs off SpiffWorkflow's implicit 'Start' task, or off the
    'StartEventSplit' the parser puts there when the process has several start events (e.g. a clerk's intake and
    a message start; the first to fire cancels the others)."""
    return type(task_spec).__name__ == "StartEvent" and all(
        i.name in ("Start", "StartEventSplit") for i in task_spec.inputs)


def start_form_key(spec) -> str | None:
    """The intake form named by the process's start event (property `form`), if any."""
    for task_spec in spec.task_specs.values():
        if is_process_start(task_spec):
            props = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
            if props.get("form"):
                return props["form"]
    return None


def _timer_due(task) -> datetime | None:
    """When a waiting timer task fires: SpiffWorkflow keeps the due moment in `event_value`."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        timers = [d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)]
        if not timers:
            return None
        definition = timers[0]
    if not isinstance(definition, TimerEventDefinition) or not task.state & TaskState.WAITING:
        return None
    value = task._get_internal_data("event_value")
    if value is None and not isinstance(definition, CycleTimerEventDefinition):
        definition.has_fired(task)  # computes and stores event_value (relative to our clock)
        value = task._get_internal_data("event_value")
    if isinstance(definition, CycleTimerEventDefinition) or isinstance(value, dict):
        if not value or value.get("cycles") == 0:
            return None
        moment = datetime.fromisoformat(value["next"])
    else:
        moment = TimerEventDefinition.get_datetime(value)
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _errored_element(wf: BpmnWorkflow) -> str | None:
    for task in all_tasks(wf):
        if task.state == TaskState.ERROR:
            return task.task_spec.bpmn_id
    return None


def _run_one(task, data: dict | None) -> Failure | None:
    """Run one task with `data` merged into it; its failure, named by its element, or None."""
    if data:
        task.data.update(data)
    try:
        task.run()
    except (SpiffWorkflowException, ExpedienteError) as exc:
        return Failure(task.task_spec.bpmn_id, _message_of(exc))
    except Exception as exc:  # noqa: BLE001 - see _unexpected
        return _unexpected(exc, task.task_spec.bpmn_id)
    return None


def _unexpected(exc: Exception, element_id: str | None) -> Failure:
    """A failure nobody foresaw while running a step (e.g. SpiffWorkflow's own error report failing on a
    script's exception): the case stops in `error` naming the element, rather than the request failing."""
    log.warning("unexpected error running element %s", element_id, exc_info=exc)
    cause = exc.__context__ or exc  # what the script raised, when reporting it is what failed
    return Failure(element_id, msg("error inesperado al ejecutar el elemento: %(error)s",
                                   error=f"{type(cause).__name__}: {cause}"[:500]))


def _element_of(exc) -> str | None:
    task = getattr(exc, "task", None)
    return task.task_spec.bpmn_id if task is not None else None


def _message_of(exc) -> str:
    message = getattr(exc, "message", None) or str(exc)
    cause = exc.__cause__ or getattr(exc, "exception", None)
    if isinstance(cause, ExpedienteError) and cause.message not in message:
        message = f"{message}: {cause.message}"
    return message


def element_marks(wf: BpmnWorkflow) -> dict[str, list[str]]:
    """Element ids of the top-level process by how far the case got: done, active, failed."""
    done, active, failed = set(), set(), set()
    for task in wf.tasks.values():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            done.add(bpmn_id)
        elif task.state == TaskState.ERROR:
            failed.add(bpmn_id)
        elif task.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            active.add(bpmn_id)
    for name in getattr(wf, "pruned_done", None) or ():  # completed in the part of the tree a save left out
        bpmn_id = getattr(wf.spec.task_specs.get(name), "bpmn_id", None)
        if bpmn_id:
            done.add(bpmn_id)
    return {"done": sorted(done - active - failed), "active": sorted(active - failed), "failed": sorted(failed)}


def current_data(wf: BpmnWorkflow) -> dict:
    """The case's data as of now: the last completed task's, overlaid with every live branch's."""
    base = dict((wf.last_task or wf.task_tree).data)
    # Subprocess tasks too: while a call activity runs, what the clerk types lives in it.
    live = [t for t in all_tasks(wf) if t.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED)]
    for task in sorted(live, key=lambda t: t.last_state_change):
        base.update(task.data)
    return base
