"""Sandbox for BPMN user code: scripts, pre/post scripts, conditions, timer, correlation, multi-instance and DMN
expressions. SpiffWorkflow's default environment is plain exec/eval with full builtins; all user code goes
through `RestrictedEnvironment` instead, the one hook SpiffWorkflow calls for each of them.

Two walls. The first is what code may say: RestrictedPython with a stricter policy (engine.sandbox.policy),
its guards, a whitelist of globals and size guards against memory bombs (engine.sandbox.guards), `re` over
RE2 (engine.sandbox.safe_re). The second is where it runs: a worker process (engine.sandbox.pool) with an address
space limit, which this process kills when the script's time is up, so no C-level loop, allocation or
backtracking regex can hold the web process or the scheduler. Inside the worker a tracer stops Python-level
loops at the limit precisely (engine.sandbox.executor). Expressions that only compare task data with literals are
evaluated here (engine.sandbox.fast): they can do no such work.
"""
from __future__ import annotations

import itertools
import json
import pickle
import threading

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine.sandbox import fast as sandbox_fast
from engine.errors import ExpedienteError, ScriptError
from engine.messages import msg
from engine.sandbox.guards import _GUARDS, _MODULES, untraced
from engine.sandbox.policy import SCRIPT_FILENAME, check_script  # noqa: F401 - the sandbox's public names
from engine.sandbox.pool import DEFAULT_MEMORY_BYTES, DEFAULT_WORKERS, get_pool
from engine.sandbox.wire import decode_error, dumps, encode_error
from engine.values import ValueRejected

SCRIPT_TIME_LIMIT_SECONDS = 2.0
_versions: dict = {}  # content of the office helpers' data -> a version number the workers cache it under
_versions_lock = threading.Lock()
_next_version = itertools.count(1)
_MAX_VERSIONS = 64
_busy = threading.local()


def _office_version(key) -> int:
    with _versions_lock:
        version = _versions.get(key)
        if version is None:
            if len(_versions) >= _MAX_VERSIONS:
                _versions.clear()
            version = _versions[key] = next(_next_version)
        return version


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment that runs all user code in a script worker, under the sandbox's two walls.

    `helpers` are the names scripts may call besides the whitelist: an engine.sandbox.helpers.OfficeHelpers
    (rebuilt inside the workers from plain data), or a mapping of functions, which run in this process when a
    script calls them (they take and return plain values only).
    """

    def __init__(self, helpers=None, time_limit_seconds: float = SCRIPT_TIME_LIMIT_SECONDS,
                 workers: int = DEFAULT_WORKERS, memory_bytes: int = DEFAULT_MEMORY_BYTES):
        helpers = helpers if helpers is not None else {}
        if any(name.startswith("_") for name in helpers):
            raise ValueError("helper names must not start with '_' (scripts cannot reference them)")
        self._office = helpers if hasattr(helpers, "worker_state") else None
        functions = {} if self._office else {n: f for n, f in helpers.items() if callable(f)}
        self._callbacks = functions
        self._constants = {} if self._office else {n: v for n, v in helpers.items() if not callable(v)}
        wrapped = {name: untraced(fn, name) if callable(fn) else fn for name, fn in helpers.items()}
        # Guards last, so no helper can replace them; Spiff's cleanup removes every key of self.globals.
        super().__init__({**_MODULES, **wrapped, **_GUARDS})
        self.time_limit_seconds = time_limit_seconds
        self.workers, self.memory_bytes = workers, memory_bytes

    @property
    def pool(self):
        return get_pool(self.workers, self.memory_bytes)

    def evaluate(self, expression, context, external_context=None):
        """Evaluate a condition/expression against task data (which it cannot modify)."""
        fast = sandbox_fast.plan(expression)
        if fast is not None:
            value = fast(context, external_context or {})
            if value is not sandbox_fast.FALLBACK:
                return value
        return self._run("eval", expression, context, external_context or {})[1]

    def execute(self, script, context, external_context=None):
        """Run a script with task data as its globals: what it changed is written back into `context`."""
        external_context = external_context or {}
        try:
            self.check_for_overwrite(context, external_context)
        except ValueError as exc:
            raise ScriptError(str(exc)) from None
        updated, deleted = self._run("exec", script, context, external_context)[2]
        for key in deleted:
            context.pop(key, None)
        context.update(updated)
        return True

    def _run(self, mode: str, source: str, context: dict, external: dict) -> tuple:
        if getattr(_busy, "running", False):  # a helper running a script would wait on itself for a worker
            raise ScriptError("a script cannot run another script")
        try:
            blob = pickle.dumps(context, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - a value in task data that cannot travel
            raise ScriptError(f"the task data cannot be given to the script: {exc}") from None
        office = self._office.worker_state() if self._office is not None else None
        version = _office_version(office[0]) if office else None
        request = {"mode": mode, "source": source, "context": blob, "external": external,
                   "limit": self.time_limit_seconds, "callbacks": tuple(self._callbacks),
                   "constants": self._constants}

        def build(worker, with_payload: bool) -> bytes:
            if office is None:
                request["office"] = None
            else:
                send = with_payload or version not in worker.office_versions
                request["office"] = (version, office[1] if send else None, office[2])
                worker.office_versions.add(version)
            try:
                return dumps(request)
            except Exception as exc:  # noqa: BLE001 - the external context holds something that cannot travel
                raise ScriptError(f"the script's context cannot be given to it: {exc}") from None

        _busy.running = True
        try:
            reply = self.pool.run(build, self.time_limit_seconds, self._answer)
        finally:
            _busy.running = False
        if reply[0] == "error":
            raise decode_error(reply[1])
        return reply

    def _answer(self, call: tuple) -> bytes:
        """Run a helper of this process for a script in a worker; the answer to send back."""
        _, name, args, kwargs = call
        try:
            return dumps(("ret", self._callbacks[name](*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - the script sees the helper's error
            return dumps(("raise", encode_error(exc, None)))


class _SandboxEngine(PythonScriptEngine):
    """PythonScriptEngine that keeps sandbox errors reachable from Spiff's WorkflowTaskException (as __cause__,
    and in the message: Spiff's evaluate() drops the original message) with the script's line, and lets a
    value a case cannot store stop the task as engine.values says (not wrapped, naming the element)."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as wte:
            _link(wte, wte.__context__)
            _name_parameter(wte, task, expression)
            raise

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except ValueRejected as exc:
            exc.details["element_id"] = getattr(task.task_spec, "bpmn_id", None)
            raise
        except Exception as err:
            wte = self.create_task_exec_exception(task, script, err)
            raise wte

    service_handler = None  # what runs service tasks' operators (make_script_engine); None: no operator runs

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        """Run a service task's operator with its parameters (SpiffWorkflow's ServiceTask evaluated them in the
        sandbox already); return its answer as JSON text, which SpiffWorkflow stores under the result variable.

        `service_handler(name, params, element_id=..., task_id=..., data=...)` answers with plain values. Whatever
        goes wrong (no such operator, a bad parameter, the operator's own failure, an answer JSON cannot carry)
        stops the task in error with a WorkflowTaskException naming its element, so the case goes to `error` and a
        retry runs the operator again; SpiffWorkflow's own handler would mask it as a NameError."""
        element = getattr(task.task_spec, "bpmn_id", None)
        params = {name: (value.get("value") if isinstance(value, dict) else value)
                  for name, value in (operation_params or {}).items()}
        try:
            if self.service_handler is None:
                raise ScriptError(msg("no hay operaciones de servicio configuradas en este motor"))
            answer = self.service_handler(operation_name, params, element_id=element, task_id=str(task.id),
                                          data=task.data)
        except WorkflowTaskException:
            raise
        except ValueRejected as exc:
            exc.details["element_id"] = element
            raise
        except ExpedienteError as exc:
            raise _service_failure(task, operation_name, exc.message, exc) from exc
        except Exception as exc:  # noqa: BLE001 - an operator's bug stops its task, not the request
            raise _service_failure(task, operation_name, f"{type(exc).__name__}: {exc}"[:500], exc) from exc
        try:
            return json.dumps(answer, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise _service_failure(task, operation_name, msg("su respuesta no se puede guardar en el expediente "
                                                             "(%(error)s)", error=str(exc)[:200]), exc) from exc

    def get_error_line_number_and_content(self, script, err):
        line = getattr(err, "_sandbox_line", None)  # the worker's traceback stays in the worker
        if line is None:
            return super().get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        return (line, lines[line - 1]) if 0 < line <= len(lines) else (0, "")

    def create_task_exec_exception(self, task, script, err):
        wte = super().create_task_exec_exception(task, script, err)
        _link(wte, err)
        line = err.details.get("line") if isinstance(err, ScriptError) else None
        if line and not wte.line_number and line <= len(script.splitlines()):  # refused at compile time
            wte.line_number, wte.error_line = line, script.splitlines()[line - 1]
        return wte


def _service_failure(task, operator, error: str, cause: Exception) -> WorkflowTaskException:
    message = msg("la operación de servicio «%(operator)s» falló: %(error)s", operator=operator or "?", error=error)
    wte = WorkflowTaskException(message, task=task, exception=cause)
    wte.message = message  # what the case's failure says (SpiffWorkflow's str() appends its notes)
    return wte


def _name_parameter(wte, task, expression) -> None:
    """A service task's parameter that could not be evaluated: say which one, and why, in the failure."""
    params = getattr(task.task_spec, "operation_params", None)
    if not isinstance(params, dict):
        return
    names = [name for name, p in params.items() if isinstance(p, dict) and p.get("value") == expression]
    if not names:
        return
    cause = wte.__cause__ or wte.__context__
    error = cause.message if isinstance(cause, ExpedienteError) else (
        f"{type(cause).__name__}: {cause}" if cause is not None else str(wte))
    wte.message = msg("no se pudo evaluar el parámetro «%(parameter)s» de la operación de servicio «%(operator)s» "
                      "(%(expression)s): %(error)s", parameter=names[0], operator=task.task_spec.operation_name,
                      expression=expression[:100], error=error[:300])


def _link(wte: Exception, err: BaseException | None) -> None:
    if isinstance(err, ScriptError) and wte is not err:
        wte.__cause__ = err
        if err.message not in str(wte):
            wte.add_note(f"{type(err).__name__}: {err.message}")


def make_script_engine(helpers=None, time_limit_seconds: float = SCRIPT_TIME_LIMIT_SECONDS,
                       workers: int = DEFAULT_WORKERS, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                       service_handler=None) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs every script and expression in the sandbox, and service tasks'
    operators through `service_handler` (see _SandboxEngine.call_service)."""
    engine = _SandboxEngine(environment=RestrictedEnvironment(helpers, time_limit_seconds, workers, memory_bytes))
    engine.service_handler = service_handler
    return engine
