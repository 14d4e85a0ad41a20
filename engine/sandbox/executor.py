"""Running one script or expression inside a script worker: the whitelist, the guards and the time-limit tracer.

`run(request, channel)` is what engine.sandbox.worker calls for each request; it never raises. An expression
answers its value; a script answers what it changed in the task data (values a case can store, checked here
with engine.values, so nothing unstorable or oversized crosses back) and which keys it deleted.

The time limit here is a `sys.settrace` tracer that follows the script's own code line by line and checks the
deadline at every call elsewhere; the office's helpers run with it switched off (`sandbox_guards.untraced`), so
a script pays for its own loops, not for the calendar's. It stops Python-level loops precisely and cheaply; work
inside C (a huge hash, a C loop) is stopped from outside, by the parent killing this process.
"""
from __future__ import annotations

import datetime
import decimal
import pickle
import sys
import time
import traceback
import types

from engine.sandbox import helpers as sandbox_helpers
from engine.errors import ScriptError, ScriptTimeout
from engine.messages import msg
from engine.sandbox.guards import _GUARDS, _MODULES, _printable, untraced
from engine.sandbox.policy import SCRIPT_FILENAME, compile_script
from engine.sandbox.wire import Unpassable, encode_error
from engine.values import DEFAULT_LIMITS, ValueRejected, value_size

_PASSABLE_SCALARS = frozenset((type(None), bool, int, float, complex, str, bytes, decimal.Decimal, datetime.date,
                               datetime.timedelta, datetime.timezone))
_PASSABLE_CONTAINERS = frozenset((list, tuple, set, frozenset, dict))
_OFFICE_VERSIONS_KEPT = 4
_office: dict = {}  # version -> the office's helpers built from the parent's payload (the newest last)
_now: list = [None]  # this call's moment (the parent's clock)


class _NeedOffice(Exception):
    """The request names helper data this worker does not have (it was replaced, or forgot old versions)."""


def run(request: dict, channel) -> tuple:
    """Run one request; answer ("ok", value, changes), ("need_office",) or ("error", ...) (sandbox_wire)."""
    try:
        env_globals = _globals(request, channel)
        code = compile_script(request["source"], request["mode"])
        context = pickle.loads(request["context"])
        external = request["external"] or {}
        if request["mode"] == "eval":
            value = _traced(code, {**env_globals, **external, **context, **_GUARDS}, request["limit"])
            return ("ok", _passable(value), None)
        return ("ok", None, _execute(code, request, context, external, env_globals))
    except _NeedOffice:
        return ("need_office",)
    except MemoryError:
        return ("memory",)
    except Exception as exc:  # noqa: BLE001 - every failure of user code goes back as data
        return ("error", encode_error(exc, _script_line(exc)))


def _globals(request: dict, channel) -> dict:
    helpers = {}
    if request["office"] is not None:
        version, payload, now = request["office"]
        if payload is not None and version not in _office:
            built = sandbox_helpers.build(payload, lambda: _now[0])
            _office[version] = {name: untraced(fn, name) for name, fn in built.items()}
            while len(_office) > _OFFICE_VERSIONS_KEPT:
                del _office[next(iter(_office))]
        if version not in _office:
            raise _NeedOffice()
        _now[0] = now
        helpers.update(_office[version])
    for name in request["callbacks"]:
        helpers[name] = untraced(_callback(channel, name), name)
    # Guards last, so no helper can replace them; cleanup removes every key of these globals.
    return {**_MODULES, **helpers, **request["constants"], **_GUARDS}


def _callback(channel, name: str):
    def call(*args, **kwargs):
        return channel.call(name, args, kwargs)
    return call


def _execute(code, request: dict, context: dict, external: dict, env_globals: dict) -> tuple:
    pristine = pickle.loads(request["context"])
    before = set(context)
    context.update(external)
    context.update(env_globals)
    try:
        _traced(code, context, request["limit"])
    finally:
        for key in list(context):  # what SpiffWorkflow's TaskDataEnvironment removes, and ours
            value = context[key]
            if key == "__builtins__" or key in env_globals or key in external or hasattr(value, "__call__") \
                    or (key.startswith("_") and key not in before) \
                    or isinstance(value, (types.SimpleNamespace, types.GeneratorType)):
                del context[key]
    updated = {k: v for k, v in context.items() if k not in pristine or not _same(pristine[k], v)}
    _check_storable(updated)
    return updated, tuple(k for k in pristine if k not in context)


def _same(old, new) -> bool:
    try:
        return type(old) is type(new) and bool(old == new)
    except Exception:  # noqa: BLE001 - cyclic or very deep values: not the same
        return False


def _check_storable(updated: dict) -> None:
    """What a script wrote must be storable (engine.values), as runtime checks a task's output."""
    memo: dict = {}
    total = 2
    for key, value in updated.items():
        path = f"data.{key}" if key.isidentifier() else f"data[{key!r}]"
        total += len(key) + 4 + value_size(value, DEFAULT_LIMITS, path, memo)
        if total > DEFAULT_LIMITS.max_bytes:
            raise ValueRejected("data", msg("los datos de la tarea ocuparían más de %(limit)s KiB",
                                            limit=f"{DEFAULT_LIMITS.max_bytes // 1024:,}"))


def _passable(value):
    """An expression's value as it may cross back: plain data of bounded size, else an Unpassable."""
    _printable(value)  # bounded: refuses what would expand past MAX_ITEMS
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _PASSABLE_CONTAINERS:
            if id(item) not in seen:
                seen.add(id(item))
                stack.extend(item)
                if kind is dict:
                    stack.extend(item.values())
        elif kind in (datetime.datetime, datetime.time):
            if type(item.tzinfo) not in (type(None), datetime.timezone):
                return Unpassable(type(value).__name__, bool(value))
        elif kind not in _PASSABLE_SCALARS:
            return Unpassable(type(value).__name__, bool(value))
    return value


def _script_line(exc: BaseException) -> int | None:
    """The line of the script's innermost frame in the traceback (what SpiffWorkflow reports), if any."""
    line = exc.details.get("line") if isinstance(exc, ScriptError) else None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            line = lineno
    return line


def _traced(code, namespace: dict, limit: float):
    deadline = time.monotonic() + limit

    def check():
        if time.monotonic() > deadline:
            raise ScriptTimeout(f"script exceeded the time limit of {limit:g} s", limit_seconds=limit)

    def tracer(frame, event, arg):
        if event == "call" or event == "line":  # 'call' also fires on every generator resume
            check()
        # Line events only in the script's own frames; a library frame (our guards, _strptime, RE2's wrapper)
        # is still checked at each call it makes, which is what a loop of it over user data goes through.
        return tracer if frame.f_code.co_filename == SCRIPT_FILENAME else None

    namespace["_deadline_"] = check
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return eval(code, namespace)  # also runs exec-mode code objects (returning None)
    finally:
        sys.settrace(previous)
