"""What crosses the pipe between this process and a script worker, and how.

Requests (this process to a worker) are pickles of task data: the worker trusts its parent. Replies (a worker
to this process) are read with an unpickler that rebuilds only plain values (the builtin containers and
scalars, dates and times, Decimal), so a worker, even one whose script got past the first wall, cannot make
this process run anything; their size is bounded by the reader. Errors travel as plain tuples and are rebuilt
here as the same types (ScriptError, ScriptTimeout, ValueRejected, NameError...) with the script's line.
"""
from __future__ import annotations

import builtins
import decimal
import io
import pickle
import reprlib
import re

import re2

from engine.errors import ScriptError, ScriptTimeout
from engine.messages import Message
from engine.values import ValueRejected

PROTOCOL = 5
_ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta", "timezone")} | {
    ("decimal", "Decimal"), ("builtins", "complex"), ("builtins", "set"), ("builtins", "frozenset"),
    ("engine.sandbox.wire", "Unpassable")}
_SCRIPT_ERRORS = {"ScriptError": ScriptError, "ScriptTimeout": ScriptTimeout}
_PLAIN_ARGS = (str, int, float, bool, type(None))
_SAFE_MSGID = re.compile(r"(?:[^%]|%%|%\(\w+\)s)*")  # named %s places only: no widths to blow up
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 500


class Unpassable:
    """Stands for an expression's result that is not plain data (a re match, an iterator): keeps its truth
    value, which is what conditions use, and its type name."""

    __slots__ = ("type_name", "truthy")

    def __init__(self, type_name: str, truthy: bool):
        self.type_name, self.truthy = str(type_name), bool(truthy)

    def __bool__(self) -> bool:
        return self.truthy

    def __repr__(self) -> str:
        return f"<{self.type_name}>"

    def __reduce__(self):
        return Unpassable, (self.type_name, self.truthy)


class _ReplyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} cannot come back from a script worker")


def dumps(obj) -> bytes:
    return pickle.dumps(obj, PROTOCOL)


def loads_reply(blob: bytes):
    """A worker's reply: plain values only (anything else is pickle.UnpicklingError)."""
    return _ReplyUnpickler(io.BytesIO(blob)).load()


def _plain_args(args) -> tuple:
    return tuple(a if type(a) in _PLAIN_ARGS and not (type(a) is str and len(a) > 2000) else _repr.repr(a)
                 for a in args)


def encode_error(exc: BaseException, line: int | None) -> tuple:
    """A worker's exception as plain data (see decode_error)."""
    if isinstance(exc, ValueRejected):
        reason = exc.reason
        msgid, params = (reason.msgid, {k: str(v) for k, v in reason.params.items()}) \
            if isinstance(reason, Message) else (str(reason), {})
        return ("rejected", exc.path, msgid, params)
    if isinstance(exc, ScriptError):
        details = {k: v for k, v in exc.details.items() if type(v) in _PLAIN_ARGS}
        return ("script", type(exc).__name__, str(exc.message), details, line)
    kind = type(exc)
    return ("exception", kind.__module__, kind.__qualname__, _plain_args(exc.args), line)


def decode_error(reply: tuple) -> Exception:
    """The exception a worker's error reply stands for; `_sandbox_line` is the script's line, if known."""
    kind = reply[0]
    if kind == "rejected":
        _, path, msgid, params = reply
        plain = isinstance(msgid, str) and len(msgid) < 1000 and _SAFE_MSGID.fullmatch(msgid) \
            and isinstance(params, dict) and all(isinstance(v, str) for v in params.values())
        try:
            reason = Message(msgid, params) if plain else str(msgid)
        except (KeyError, TypeError, ValueError):
            reason = str(msgid)
        return ValueRejected(str(path), reason)
    if kind == "script":
        _, name, message, details, line = reply
        exc = _SCRIPT_ERRORS.get(name, ScriptError)(str(message), **details)
    else:
        _, module, qualname, args, line = reply
        exc = _rebuild(module, qualname, args)
    exc._sandbox_line = line if isinstance(line, int) else None
    return exc


def _rebuild(module: str, qualname: str, args: tuple) -> Exception:
    cls = None
    if module == "builtins":
        cls = getattr(builtins, qualname, None)
    elif module == "decimal":
        cls = getattr(decimal, qualname, None)
    elif (module, qualname) == ("re2._re2", "Error"):
        cls = re2.error
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(*args)
        except Exception:  # noqa: BLE001 - exceptions whose constructor wants other arguments
            pass
    return ScriptError(f"{qualname}: {args[0] if args else ''}")


__all__ = ["Unpassable", "dumps", "loads_reply", "encode_error", "decode_error", "PROTOCOL"]
