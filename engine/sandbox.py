"""Sandbox for BPMN user code: scripts, pre/post scripts, conditions, timer and correlation expressions.

SpiffWorkflow's default environment is plain exec/eval with full builtins. All user code goes through
`RestrictedEnvironment` instead: compiled by RestrictedPython with a stricter policy, run with its guards,
a whitelist of globals, size guards against memory bombs and a per-thread time limit.

The time limit is a `sys.settrace` tracer that follows the script's own code line by line and checks the
deadline at every call elsewhere; the office's helpers run with it switched off (`sandbox_guards.untraced`),
so a script pays for its own loops, not for the calendar's.
"""
from __future__ import annotations

import ast
import functools
import re
import sys
import time
import types

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import copy_locations
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine.errors import ScriptError, ScriptTimeout
from engine.sandbox_guards import MAX_INT_BITS, MAX_WIDTH, _BINOPS, _GUARDS, _MODULES, untraced

SCRIPT_TIME_LIMIT_SECONDS = 2.0
# The file name user code is compiled under; functions, lambdas and generators defined in a script share it,
# and nothing else we run does (library frames get call events only, never line events).
SCRIPT_FILENAME = "<string>"


def _call(name: str, args: list, at: ast.AST) -> ast.Call:
    """A call of one of our guards, positioned at the user code it guards (tracebacks, Spiff line numbers)."""
    node = ast.Call(ast.Name(name, ast.Load()), args, [])
    for part in (node, node.func, *args):
        if not hasattr(part, "lineno"):
            copy_locations(part, at)
    return node


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus: no imports or classes, guarded size operators, bounded format specs
    and a deadline check at the top of every loop body, exception handler and `finally`."""

    def visit_Import(self, node):
        self.error(node, "import is not allowed; datetime, decimal, math and re are already available")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed")

    def visit_Constant(self, node):  # a 250,000-digit hex literal is a 1,000,000-bit int
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            self.error(node, f"integer literal over {MAX_INT_BITS:,} bits")
        return super().visit_Constant(node)

    def visit_List(self, node):  # also tuples and sets; not unpacking targets (`a, *b = x`)
        node = self.node_contents_visit(node)
        stars = [e for e in node.elts if isinstance(e, ast.Starred) and isinstance(e.ctx, ast.Load)]
        for e in stars:
            e.value = _call("_star_", [e.value, ast.Constant(len(stars))], e)
        return node

    visit_Tuple = visit_Set = visit_List

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        op = _BINOPS.get(type(node.op))
        return _call("_binop_", [ast.Constant(op), node.left, node.right], node) if op else node

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        spec = node.format_spec.values if node.format_spec else []
        if not all(isinstance(v, ast.Constant) for v in spec):
            self.error(node, "nested format specs in f-strings are not allowed")
        elif any(int(n) > MAX_WIDTH for v in spec for n in re.findall(r"\d+", v.value)):
            self.error(node, f"f-string format width/precision over {MAX_WIDTH:,} is not allowed")
        node.value = _call("_fmt_", [node.value], node)
        return node

    # A ScriptTimeout raised by the tracer switches tracing off for the thread; if user code caught it,
    # a loop could then run forever. Re-checking the deadline first thing in every handler, `finally`
    # and loop body (a one-line `while 1: pass` emits no line events in 3.11) closes both holes.
    def _deadline_first(self, node, body: list):
        stmt = ast.Expr(_call("_deadline_", [], body[0]))
        copy_locations(stmt, body[0])
        body.insert(0, stmt)
        return node

    def visit_While(self, node):
        node = super().visit_While(node)
        return self._deadline_first(node, node.body)

    def visit_For(self, node):
        node = super().visit_For(node)  # keeps RestrictedPython's _getiter_/unpack guards
        return self._deadline_first(node, node.body)

    def visit_ExceptHandler(self, node):
        node = super().visit_ExceptHandler(node)
        return self._deadline_first(node, node.body)

    def visit_Try(self, node):
        node = self.node_contents_visit(node)
        return self._deadline_first(node, node.finalbody) if node.finalbody else node


@functools.lru_cache(maxsize=2048)
def _compile(source: str, mode: str):
    # compile_restricted_exec/eval rather than compile_restricted: same policy, but errors come back as
    # data instead of SyntaxError + warnings.warn (warnings are errors in our tests and noise in logs).
    compiler = {"exec": compile_restricted_exec, "eval": compile_restricted_eval}[mode]
    try:
        result = compiler(source.strip() if mode == "eval" else source, filename=SCRIPT_FILENAME,
                          policy=_Policy)
    except (ValueError, RecursionError) as exc:  # null bytes, absurd nesting
        raise ScriptError(f"script cannot be compiled: {exc}") from None
    if result.errors:
        more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
        line = re.match(r"Line (\d+)", result.errors[0])
        raise ScriptError(" ".join(result.errors[0].split()) + more, line=int(line[1]) if line else None)
    return result.code


def check_script(source: str, mode: str = "exec") -> str | None:
    """Compile-only lint check: None if `source` compiles under the sandbox, else a one-line message."""
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    try:
        _compile(source, mode)
    except ScriptError as exc:
        return exc.message
    return None


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment that runs all user code with RestrictedPython, size guards and a time limit."""

    def __init__(self, helpers: dict | None = None, time_limit_seconds: float = SCRIPT_TIME_LIMIT_SECONDS):
        helpers = dict(helpers or {})
        if any(name.startswith("_") for name in helpers):
            raise ValueError("helper names must not start with '_' (scripts cannot reference them)")
        helpers = {name: untraced(fn, name) if callable(fn) else fn for name, fn in helpers.items()}
        # Guards last, so no helper can replace them; Spiff's cleanup removes every key of self.globals.
        super().__init__({**_MODULES, **helpers, **_GUARDS})
        self.time_limit_seconds = time_limit_seconds

    def evaluate(self, expression, context, external_context=None):
        """Evaluate a condition/expression against task data (which it cannot modify)."""
        code = _compile(expression, "eval")
        return self._run(code, {**self.globals, **(external_context or {}), **context, **_GUARDS})

    def execute(self, script, context, external_context=None):
        """Run a script with task data as its globals: new variables stay, modules/functions are removed."""
        external_context = external_context or {}
        try:
            self.check_for_overwrite(context, external_context)
        except ValueError as exc:
            raise ScriptError(str(exc)) from None
        code = _compile(script, "exec")
        before = set(context)
        context.update(external_context)
        context.update(self.globals)
        try:
            self._run(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            for key in list(context):  # RestrictedPython's `_print`, module views, live generators
                if (key.startswith("_") and key not in before) or \
                        isinstance(context[key], (types.SimpleNamespace, types.GeneratorType)):
                    del context[key]
        return True

    def _run(self, code, namespace: dict):
        limit = self.time_limit_seconds
        deadline = time.monotonic() + limit

        def check():
            if time.monotonic() > deadline:
                raise ScriptTimeout(f"script exceeded the time limit of {limit:g} s", limit_seconds=limit)

        def tracer(frame, event, arg):
            # sys.settrace is per thread, so this works in web worker threads, where SIGALRM cannot.
            if event == "call" or event == "line":  # 'call' also fires on every generator resume
                check()
            # Line events only in the script's own frames; a library frame (our guards, _strptime, re's parser)
            # is still checked at each call it makes, which is what a loop of it over user data goes through.
            return tracer if frame.f_code.co_filename == SCRIPT_FILENAME else None

        namespace["_deadline_"] = check
        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            return eval(code, namespace)  # also runs exec-mode code objects (returning None)
        finally:
            sys.settrace(previous)


class _SandboxEngine(PythonScriptEngine):
    """PythonScriptEngine that keeps sandbox errors reachable from Spiff's WorkflowTaskException:
    as __cause__, and in the message (Spiff's evaluate() drops the original message)."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as wte:
            _link(wte, wte.__context__)
            raise

    def create_task_exec_exception(self, task, script, err):
        wte = super().create_task_exec_exception(task, script, err)
        _link(wte, err)
        line = err.details.get("line") if isinstance(err, ScriptError) else None
        if line and not wte.line_number and line <= len(script.splitlines()):  # refused at compile time
            wte.line_number, wte.error_line = line, script.splitlines()[line - 1]
        return wte


def _link(wte: Exception, err: BaseException | None) -> None:
    if isinstance(err, ScriptError) and wte is not err:
        wte.__cause__ = err
        if err.message not in str(wte):
            wte.add_note(f"{type(err).__name__}: {err.message}")


def make_script_engine(helpers: dict | None = None,
                       time_limit_seconds: float = SCRIPT_TIME_LIMIT_SECONDS) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs every script and expression in the sandbox."""
    return _SandboxEngine(environment=RestrictedEnvironment(helpers, time_limit_seconds))
