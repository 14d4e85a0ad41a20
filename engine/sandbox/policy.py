"""The sandbox's first wall: what user code may say. RestrictedPython's policy, made stricter, compiles every
script and expression (in the script worker that runs it, and here for the lint) and caches the result."""
from __future__ import annotations

import ast
import functools
import re

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import copy_locations

from engine.sandbox import safe_re as sandbox_re
from engine.errors import ScriptError
from engine.sandbox.guards import MAX_INT_BITS, MAX_WIDTH, _BINOPS

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
    """RestrictedPython's policy plus: no imports or classes, guarded size operators, bounded format specs,
    regular expressions RE2 can run, and a deadline check at the top of every loop body, exception handler
    and `finally`."""

    def visit_Import(self, node):
        self.error(node, "import is not allowed; datetime, decimal, math and re are already available")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed")

    def visit_Constant(self, node):  # a 250,000-digit hex literal is a 1,000,000-bit int
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            self.error(node, f"integer literal over {MAX_INT_BITS:,} bits")
        return super().visit_Constant(node)

    def visit_Call(self, node):
        # re.<function>('literal pattern', ...): a pattern RE2 cannot run is reported before anything runs.
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "re" \
                and func.attr in sandbox_re.PATTERN_FUNCTIONS and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, (str, bytes)):
            flags = next((k.value.value for k in node.keywords
                          if k.arg == "flags" and isinstance(k.value, ast.Constant)), 0)
            problem = sandbox_re.pattern_problem(node.args[0].value, flags if isinstance(flags, int) else 0)
            if problem:
                self.error(node, f"regular expression {node.args[0].value!r} cannot be used: {problem}")
        return super().visit_Call(node)

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
def compile_script(source: str, mode: str):
    """The code object of `source` ("exec": a script, "eval": an expression), or ScriptError with its line."""
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
        compile_script(source, mode)
    except ScriptError as exc:
        return exc.message
    return None
