"""Expressions simple enough to evaluate in this process: comparisons of task data with literals.

Most conditions and DMN cells are `estado == "aprobado"`, `monto >= 50`, `a and not b`, `"PT1H"`: a round trip
to a script worker costs more than the comparison. An expression takes this path only if

- it compiles under the sandbox's policy (same refusals, same messages as in a worker), and its whole syntax
  tree is names, literals (str, int, float, bool, None, and tuples, lists or sets of them), comparisons
  (`in` only against a literal, `is` only against None, True or False), `and`, `or`, `not` and the sign of a
  number literal;
- and, at each evaluation, every name it reads is bound in the task data (or the external context) to a
  bool, int of at most MAX_INT_BITS bits, float, None or str of at most MAX_ITEMS characters (exact types).

Such values compare inside C in time bounded by their size, with no user code, no loop over anything else and
no allocation that grows: nothing here can hold this process. Anything else (a call, an attribute, arithmetic,
a name bound to a list) goes to a worker, and so does any evaluation that raises here, so that the worker's
error is the one reported.
"""
from __future__ import annotations

import ast
import functools
import operator

from engine.sandbox.guards import MAX_INT_BITS, MAX_ITEMS
from engine.sandbox.policy import compile_script

FALLBACK = object()  # the value of an evaluation this path does not take
_SCALARS = (bool, int, float, str, type(None))
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not}
_SINGLETONS = (None, True, False)  # the only literals `is` compares with: identity means the same everywhere


class _Fallback(Exception):
    pass


def _value(name: str, context: dict, external: dict):
    value = context[name] if name in context else external[name] if name in external else FALLBACK
    kind = type(value)
    if kind not in _SCALARS or (kind is int and value.bit_length() > MAX_INT_BITS) \
            or (kind is str and len(value) > MAX_ITEMS):
        raise _Fallback()
    return value


def _literal(node):
    """The value of a literal this path accepts, or _Fallback."""
    if isinstance(node, ast.Constant) and type(node.value) in _SCALARS:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and all(
            isinstance(e, ast.Constant) and type(e.value) in _SCALARS for e in node.elts):
        items = tuple(e.value for e in node.elts)
        return items if isinstance(node, ast.Tuple) else frozenset(items) if isinstance(node, ast.Set) \
            else list(items)
    raise _Fallback()


def _comparable(op, right) -> bool:
    if isinstance(op, (ast.In, ast.NotIn)):
        return isinstance(right, (ast.Constant, ast.Tuple, ast.List, ast.Set))
    if isinstance(op, (ast.Is, ast.IsNot)):
        return isinstance(right, ast.Constant) and any(right.value is s for s in _SINGLETONS)
    return type(op) in _COMPARE


def _build(node):
    """A function (context, external) -> value for `node`, or _Fallback if outside the subset."""
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _Fallback()
        name = node.id
        return lambda c, x: _value(name, c, x)
    if isinstance(node, ast.BoolOp):
        parts = [_build(v) for v in node.values]
        if isinstance(node.op, ast.And):
            def both(c, x):
                for part in parts:
                    value = part(c, x)
                    if not value:
                        return value
                return value
            return both

        def either(c, x):
            for part in parts:
                value = part(c, x)
                if value:
                    return value
            return value
        return either
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        operand = _build(node.operand)
        return lambda c, x: not operand(c, x)
    if isinstance(node, ast.Compare):
        if not all(map(_comparable, node.ops, node.comparators)):
            raise _Fallback()
        terms = [_build(node.left), *map(_build, node.comparators)]
        ops = [_COMPARE[type(op)] for op in node.ops]

        def compare(c, x):
            left = terms[0](c, x)
            for op, term in zip(ops, terms[1:]):
                right = term(c, x)
                if not op(left, right):
                    return False
                left = right
            return True
        return compare
    value = _literal(node)
    if isinstance(value, list):
        return lambda c, x: list(value)  # a fresh list each time, as eval gives
    return lambda c, x: value


@functools.lru_cache(maxsize=4096)
def plan(expression: str):
    """A function (context, external) evaluating `expression` here (FALLBACK when it cannot), or None.

    Raises ScriptError when the sandbox's policy refuses the expression.
    """
    compile_script(expression, "eval")
    try:
        evaluate = _build(ast.parse(expression.strip(), mode="eval").body)
    except (_Fallback, SyntaxError, ValueError, RecursionError):
        return None

    def run(context: dict, external: dict):
        try:
            return evaluate(context, external)
        except Exception:  # noqa: BLE001 - _Fallback, or an error the worker will report in its own words
            return FALLBACK
    return run
