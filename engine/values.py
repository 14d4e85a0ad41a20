"""What a case may hold: plain JSON within limits, checked before anything is stored.

Task data is written with orjson and read back on every later step, so a value that JSON cannot carry
faithfully (bytes, complex, sets, cycles, an int past 64 bits, NaN) either fails the save or, worse, makes
the case unreadable afterwards. `check_value` walks a value once, iteratively (no recursion limit), and
refuses anything but:
- dict (str keys), list, str, int (bool), finite float, None;
- the few types our serializer registers and rebuilds exactly (engine/runtime/serializer.py): Decimal (finite,
  bounded digits and exponent), date, datetime and time (no timezone or a fixed offset), timedelta (whole
  seconds: the registry drops microseconds).

Sizes are estimates of the JSON text. A container reached twice (`[[0] * 100000] * 300` holds one inner
list 300 times) costs its expanded size each time, but is walked once: sizes and heights are memoized by
`id()`, so the walk is O(distinct objects) and a huge aliased structure is refused without expanding it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from engine.errors import InvalidInput
from engine.messages import msg

# Decimal is stored as its str(): bounded so that str(), float() and the sandbox's int() stay small.
MAX_DECIMAL_DIGITS = 100
MAX_DECIMAL_EXPONENT = 308  # |adjusted exponent|: float(d) stays finite, like a JSON number


@dataclass(frozen=True)
class ValueLimits:
    """Bounds on one value, or on one task's data as a whole."""

    # Estimated JSON size; shared references count once per reference (their expanded size).
    max_bytes: int = 2 * 1024 * 1024
    # Nesting of containers; the top dict/list is depth 1.
    max_depth: int = 64
    # |n| < 2**63: what orjson writes and reads back exactly and what a BIGINT column holds. (JavaScript
    # numbers are exact to 53 bits only, but the API's clients display values rather than compute with them,
    # and forms bound their own numbers far lower.)
    max_int_bits: int = 63
    # One string: the longest a sandboxed script can build in one operation (sandbox_guards.MAX_ITEMS).
    max_string_chars: int = 1_000_000


DEFAULT_LIMITS = ValueLimits()


class ValueRejected(InvalidInput):
    """A value a case cannot store; `path` says where it is (e.g. "data.leak[3]"), `reason` what is wrong."""

    code = "value_rejected"

    def __init__(self, path: str, reason: str = ""):
        super().__init__(msg("%(where)s: %(message)s", where=path, message=reason) if reason else path,
                         errors=[{"field": path, "message": reason or path}])
        self.path = path
        self.reason = reason


_FIXED_OFFSET = (type(None), timezone)
_ROOT = object()
_MAX_PATH_CHARS = 160
_ORDERED = (tuple, set, frozenset)


def _key_path(path: str, key) -> str:
    if isinstance(key, str):
        return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"
    return f"{path}[{key}]"


class _Frame:
    """A container being walked: its items left, the size and height so far, and how it was reached."""

    __slots__ = ("obj", "items", "is_dict", "size", "height", "parent", "key")

    def __init__(self, obj, parent, key):
        self.obj = obj
        self.is_dict = type(obj) is dict
        self.items = iter(obj.items()) if self.is_dict else enumerate(obj)
        self.size = 2 + max(len(obj) - 1, 0)  # brackets and commas
        self.height = 1
        self.parent = parent
        self.key = key


def _path_of(frame: _Frame | None, key, root: str) -> str:
    """The path of item `key` of the container walked by `frame` (built only when a value is refused)."""
    keys = [key]
    while frame is not None and frame.parent is not None:
        keys.append(frame.key)
        frame = frame.parent
    path = root
    for k in reversed(keys):
        if k is not _ROOT:
            path = _key_path(path, k)
    return path if len(path) <= _MAX_PATH_CHARS else f"{path[:60]}…{path[-(_MAX_PATH_CHARS - 61):]}"


def _str_size(s: str, limits: ValueLimits, frame, key, root) -> int:
    if len(s) > limits.max_string_chars:
        raise ValueRejected(_path_of(frame, key, root), msg(
            "texto de %(chars)s caracteres; el máximo es %(limit)s",
            chars=f"{len(s):,}", limit=f"{limits.max_string_chars:,}"))
    if s.isascii():
        return len(s) + 2
    try:
        return len(s.encode("utf-8")) + 2
    except UnicodeEncodeError:  # lone surrogates ('\ud800'): not UTF-8, so not JSON
        raise ValueRejected(_path_of(frame, key, root),
                            msg("el texto contiene caracteres que no son Unicode válido")) from None


def _atom_size(value, limits: ValueLimits, frame, key, root) -> int:
    """Estimated JSON size of a non-container, or ValueRejected naming its path."""
    kind = type(value)
    if kind is str or isinstance(value, str):  # str subclasses (engine messages) are written as str
        return _str_size(value, limits, frame, key, root)
    if kind is bool or value is None:
        return 5
    if kind is int:
        bits = value.bit_length()  # of |value|
        if bits <= limits.max_int_bits:
            return bits * 3 // 10 + 2
        reason = msg("número entero de %(bits)s bits; el máximo es %(limit)s bits",
                     bits=f"{bits:,}", limit=limits.max_int_bits)
    elif kind is float:
        if math.isfinite(value):
            return 24
        reason = msg("número no finito (%(value)s); JSON no lo puede guardar", value=repr(value))
    elif kind is Decimal:
        reason = _decimal_problem(value)
        if reason is None:
            return len(value.as_tuple().digits) + 48
    elif kind is datetime or kind is time:
        if type(value.tzinfo) in _FIXED_OFFSET:
            return 64
        reason = msg("fecha u hora con zona horaria %(zone)s; use UTC o un desplazamiento fijo",
                     zone=type(value.tzinfo).__name__)
    elif kind is date:
        return 48
    elif kind is timedelta:
        if not value.microseconds:
            return 64
        reason = msg("intervalo con fracciones de segundo; guárdelo en segundos enteros")
    elif kind in _ORDERED:
        reason = msg("un valor de tipo %(type)s no se puede guardar en un expediente; use una lista",
                     type=kind.__name__)
    else:
        reason = msg("un valor de tipo %(type)s no se puede guardar en un expediente", type=kind.__name__)
    raise ValueRejected(_path_of(frame, key, root), reason)


def _decimal_problem(value: Decimal):
    if not value.is_finite():
        return msg("número no finito (%(value)s); JSON no lo puede guardar", value=str(value))
    digits = len(value.as_tuple().digits)
    if digits > MAX_DECIMAL_DIGITS or abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
        return msg("decimal de %(digits)s dígitos y exponente %(exponent)s; el máximo es %(max_digits)s "
                   "dígitos y exponente %(max_exponent)s", digits=f"{digits:,}", exponent=f"{value.adjusted():,}",
                   max_digits=MAX_DECIMAL_DIGITS, max_exponent=MAX_DECIMAL_EXPONENT)
    return None


def value_size(value, limits: ValueLimits = DEFAULT_LIMITS, path: str = "data", memo: dict | None = None) -> int:
    """The estimated JSON size of `value` in bytes, or ValueRejected (see `check_value`).

    `memo` (id -> (size, height) of containers already walked) may be shared by several calls over values
    that are alive together, e.g. the data of every task of one workflow, which share most of their items.
    """
    memo = {} if memo is None else memo
    kind = type(value)
    if kind is not dict and kind is not list:
        return _atom_size(value, limits, None, _ROOT, path)
    known = memo.get(id(value))
    if known is not None:
        return known[0]
    root = _Frame(value, None, _ROOT)
    stack = [root]
    open_ids = {id(value)}
    max_bytes, max_depth = limits.max_bytes, limits.max_depth
    while stack:
        frame = stack[-1]
        for key, item in frame.items:
            if frame.is_dict:
                if type(key) is not str:
                    raise ValueRejected(_path_of(frame, key, path),
                                        msg("las claves deben ser textos, no %(type)s", type=type(key).__name__))
                frame.size += _str_size(key, limits, frame, key, path) + 1
            kind = type(item)
            if kind is dict or kind is list:
                known = memo.get(id(item))
                if known is None:
                    if id(item) in open_ids:
                        raise ValueRejected(_path_of(frame, key, path),
                                            msg("el valor se contiene a sí mismo (una referencia circular)"))
                    if len(stack) >= max_depth:
                        raise _too_deep(_path_of(frame, key, path), limits)
                    open_ids.add(id(item))
                    stack.append(_Frame(item, frame, key))
                    break  # walk the child first; this frame's iterator resumes after it
                size, height = known
                if len(stack) + height > max_depth:
                    raise _too_deep(_path_of(frame, key, path), limits)
                frame.size += size
                if height >= frame.height:
                    frame.height = height + 1
            elif kind is str and len(item) <= 64 and item.isascii():  # the common case, inline
                frame.size += len(item) + 2
            else:
                frame.size += _atom_size(item, limits, frame, key, path)
            if frame.size > max_bytes:
                raise _too_big(_path_of(frame.parent, frame.key, path), limits)
        else:  # every item walked: fold this container into its parent
            stack.pop()
            open_ids.discard(id(frame.obj))
            memo[id(frame.obj)] = (frame.size, frame.height)
            parent = frame.parent
            if parent is None:
                return frame.size
            parent.size += frame.size
            if frame.height >= parent.height:
                parent.height = frame.height + 1
            if parent.size > max_bytes:
                raise _too_big(_path_of(parent.parent, parent.key, path), limits)
    raise AssertionError("unreachable")


def _too_deep(path: str, limits: ValueLimits) -> ValueRejected:
    return ValueRejected(path, msg("anidamiento de más de %(limit)s niveles", limit=limits.max_depth))


def _too_big(path: str, limits: ValueLimits) -> ValueRejected:
    return ValueRejected(path, msg("el valor ocuparía más de %(limit)s KiB (contando cada referencia "
                                   "repetida por su tamaño completo)", limit=f"{limits.max_bytes // 1024:,}"))


def check_value(value, limits: ValueLimits = DEFAULT_LIMITS, path: str = "data") -> None:
    """Refuse (ValueRejected) a value a case cannot store faithfully or that exceeds `limits`."""
    value_size(value, limits, path)


def check_data(data: dict, limits: ValueLimits = DEFAULT_LIMITS, path: str = "data") -> None:
    """Refuse task data that is not a dict of str keys to storable values within `limits`."""
    if type(data) is not dict:
        raise ValueRejected(path, msg("se esperaba un objeto JSON, no %(type)s", type=type(data).__name__))
    value_size(data, limits, path)


__all__ = ["ValueLimits", "DEFAULT_LIMITS", "ValueRejected", "check_value", "check_data", "value_size",
           "MAX_DECIMAL_DIGITS", "MAX_DECIMAL_EXPONENT"]
