"""Size guards, wrapped builtins and the whitelisted modules the script sandbox exposes."""
from __future__ import annotations

import ast
import datetime
import decimal
import math
import operator
import sys
import types

import re2
from RestrictedPython import PrintCollector, safe_builtins
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence,
                                     guarded_unpack_sequence, raise_, safer_getattr)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.sandbox import safe_re as sandbox_re
from engine.errors import ScriptError


MAX_ITEMS = 1_000_000  # longest str/bytes/list/tuple/range one operation may build
MAX_INT_BITS = 10_000  # largest int that *, **, <<, pow(), int() may build
MAX_WIDTH = 10_000     # largest width/precision in format specs and padding methods
MAX_RE_TEXT = sandbox_re.MAX_RE_TEXT  # longest text given to `re`
MAX_DIGITS = 4_300     # largest |exponent| of a Decimal that int()/round()/formatting may expand
MAX_STRPTIME_FORMAT = 1_000  # longest strptime() format (_strptime turns it into a regex in a quadratic loop)
MAX_STRFTIME_FORMAT = 1_000  # longest strftime() format: '%9999Y' * 150000 asks C for gigabytes
_BINOPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}
_RE2_DOTALL = re2.Options()
_RE2_DOTALL.dot_nl = True
# RE2, not re: with re, '%' followed by 10**6 zeros and nothing else backtracks quadratically inside C.
_PCT_SPEC = re2.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?.", _RE2_DOTALL)


def _refuse(what: str):
    raise ScriptError(f"refused by the script sandbox: {what}")


def _limit(n: float, limit: int, what: str) -> None:
    if n > limit:
        _refuse(f"{what} of ~{n:,.0f} exceeds the limit of {limit:,}")


_SEQ = (str, bytes, list, tuple)
_SIZED = (*_SEQ, set, frozenset, dict)


def _printable(x):
    """Refuse values whose str()/repr()/format() would be huge, inside C where the timer cannot reach:
    `[[0] * 10**6] * 10**6` is 8 MB of aliases but 3 TB of text; int(Decimal('1e99999999')) takes minutes."""
    if isinstance(x, decimal.Decimal) and x.is_finite() and abs(x.adjusted()) > MAX_DIGITS:
        _refuse(f"Decimal with exponent {x.adjusted():,}")
    size, stack = 0, [x]
    while stack:  # count children before expanding them: the stack never outgrows the limit
        item = stack.pop()
        size += 2 * len(item) if isinstance(item, dict) else len(item) if isinstance(item, _SIZED) else 1
        _limit(size, MAX_ITEMS, "text size")
        if isinstance(item, dict):
            item = (*item, *item.values())
        if isinstance(item, (list, tuple, set, frozenset)):  # scalars are counted already, skip them
            stack.extend([c for c in item if isinstance(c, _SIZED)])
    return x


def _check_op(op: str, a, b) -> None:
    """Refuse `a op b` *before* computing it when the result would be huge: these operators can allocate
    gigabytes in one bytecode, which emits no line event, so the time limit cannot stop them."""
    ints = isinstance(a, int) and isinstance(b, int)
    if op == "+" and isinstance(a, _SEQ) and isinstance(b, _SEQ):
        _limit(len(a) + len(b), MAX_ITEMS, "sequence length")
    elif op == "*":
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, _SEQ) and isinstance(n, int):
                _limit(len(seq) * n, MAX_ITEMS, "sequence length")
        if ints:
            _limit(abs(a).bit_length() + abs(b).bit_length(), MAX_INT_BITS, "integer bits")
    elif op == "**" and ints and b > 0 and abs(a) > 1:
        _limit(b * math.log2(abs(a)) if b.bit_length() < 64 else math.inf, MAX_INT_BITS, "integer bits")
    elif op == "<<" and ints and a and b > 0:
        _limit(abs(a).bit_length() + b, MAX_INT_BITS, "integer bits")
    elif op == "%" and isinstance(a, (str, bytes)):  # '%10000000000d' % 1, '%*d' % (10**10, 1)
        for m in _PCT_SPEC.finditer(a.decode("latin-1") if isinstance(a, bytes) else a):
            if "*" in m.groups() or any(g and int(g) > MAX_WIDTH for g in m.groups()):
                _refuse(f"format width/precision in {m.group(0)!r}")
        for value in (b if isinstance(b, tuple) else b.values() if isinstance(b, dict) else (b,)):
            _printable(value)


_OPS = {"+": operator.add, "*": operator.mul, "**": operator.pow, "<<": operator.lshift, "%": operator.mod}
_IOPS = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
         "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift,
         "|=": operator.ior, "^=": operator.ixor, "&=": operator.iand, "//=": operator.ifloordiv,
         "@=": operator.imatmul}


def _binop(op: str, a, b):
    _check_op(op, a, b)
    return _OPS[op](a, b)


def _inplace(op: str, x, v):
    """`x op= v` (RestrictedPython's _inplacevar_): checked like `x op v`, then the real in-place operator."""
    if isinstance(x, list) and op == "+=" and not isinstance(v, _SEQ):
        v = list(v)  # `l += zip(l)` would extend l while iterating it, forever, inside C
    _check_op(op[:-1], x, v)
    return _IOPS[op](x, v)


def _pow(base, exp, mod=None):
    if mod is None:
        return _binop("**", base, exp)
    for n in (base, exp, mod):  # modular pow is bounded by the size of its arguments, which can come from data
        _limit(n.bit_length() if isinstance(n, int) else 0, MAX_INT_BITS, "integer bits")
    return pow(base, exp, mod)


def _star(value, stars: int):
    """`[*a, *b]` builds its list in one bytecode: every starred part may fill 1/stars of the limit."""
    _limit(len(value) * stars if hasattr(value, "__len__") else 0, MAX_ITEMS, "sequence length")
    return value


class _ListWriter:
    """_write_ for lists: `l[len(l):] = l` doubles a list in one bytecode, so slice assignment is checked."""

    __slots__ = ("target",)

    def __init__(self, target: list):
        self.target = target

    def __setitem__(self, key, value):
        if isinstance(key, slice) and hasattr(value, "__len__"):
            _limit(len(self.target) + len(value), MAX_ITEMS, "sequence length")
        self.target[key] = value

    def __delitem__(self, key):
        del self.target[key]


def _sized_method(s, name: str):
    """Wrap the str/bytes/list methods whose output size is set by an argument rather than by the input."""
    method = getattr(s, name)

    def call(*args):
        if name == "join":
            parts = list(args[0])
            _limit(sum(len(p) for p in parts if isinstance(p, _SEQ)) + len(s) * max(len(parts) - 1, 0),
                   MAX_ITEMS, "string length")
            return method(parts)
        if name == "replace" and len(args) >= 2 and isinstance(args[0], _SEQ) and isinstance(args[1], _SEQ):
            count = s.count(args[0]) if args[0] else len(s) + 1
            count = min(count, args[2]) if len(args) > 2 and args[2] >= 0 else count
            _limit(len(s) + count * max(len(args[1]) - len(args[0]), 0), MAX_ITEMS, "string length")
        elif name == "extend" and args:  # l.extend(l) doubles; l.extend(zip(l)) never ends (in C)
            items = list(args[0])
            _limit(len(s) + len(items), MAX_ITEMS, "sequence length")
            return method(items)
        elif name not in ("join", "replace", "extend") and args and isinstance(args[0], int):
            _limit(args[0], MAX_WIDTH, f"{name}() width")
        return method(*args)
    return call


_STR_METHODS = frozenset(("ljust", "rjust", "center", "zfill", "join", "replace"))
_SIZED_METHODS = {str: _STR_METHODS, bytes: _STR_METHODS, list: frozenset(("extend",))}
# mro() reaches BaseException/object; expand/re on re.Match bypass the re.sub guard; expandtabs,
# translate (output = input x tab size / x longest mapping) and int.from_bytes/to_bytes (huge ints,
# huge buffers) are refused outright.
_DENIED_ATTRS = frozenset(("mro", "as_integer_ratio", "expand", "re", "format", "format_map",
                           "expandtabs", "translate", "maketrans", "from_bytes", "to_bytes"))


def _getattr(obj, name, *default):
    """Stricter safer_getattr: no '_' names, no frame/generator internals, no str.format, no mro."""
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in INSPECT_ATTRIBUTES or name in _DENIED_ATTRS:
        _refuse(f"access to attribute {name!r}")
    obj = _real(obj)
    kind = obj if isinstance(obj, type) else type(obj)
    if name in _SIZED_METHODS.get(kind, ()) and kind is obj:  # through the type: str.ljust('x', 10**10)
        return lambda s, *args: _sized_method(s, name)(*args)
    if name in _SIZED_METHODS.get(kind, ()):
        return _sized_method(obj, name)
    if name == "strptime" and kind is datetime.datetime:
        return _strptime
    if name == "strftime" and kind in (datetime.date, datetime.datetime, datetime.time):
        return _strftime(obj) if kind is not obj else lambda moment, fmt: _strftime(moment)(fmt)
    try:
        return safer_getattr(obj, name, *(default or (raise_,)))
    except NotImplementedError as exc:  # string.Formatter and friends
        raise ScriptError(f"refused by the script sandbox: {exc}") from None


def _strptime(text, fmt):
    # The tracer follows only the script's lines; _strptime's loop over the format makes no call it could
    # catch, and a 1,000,000-character format keeps it busy for seconds.
    if isinstance(fmt, str):
        _limit(len(fmt), MAX_STRPTIME_FORMAT, "strptime() format length")
    return datetime.datetime.strptime(text, fmt)


def _strftime(moment):
    """strftime() with a bounded format: glibc's widths ('%9999Y') make each directive thousands of characters."""
    def call(fmt):
        if isinstance(fmt, str):
            _limit(len(fmt), MAX_STRFTIME_FORMAT, "strftime() format length")
        return moment.strftime(fmt)
    return call


def _range(*args):
    r = range(*args)
    _limit(-((r.start - r.stop) // r.step), MAX_ITEMS, "range length")  # len(r) overflows past maxsize
    return r


def _sum(items, start=0):
    if not isinstance(start, (int, float, decimal.Decimal)):  # summing lists is quadratic inside C
        _refuse("sum() of non-numbers")
    return sum(items, start)


# C builtins that call a C callable per item never yield to the tracer: `any(map(l.append, l))` appends
# to l while iterating it, forever. Python-level map/filter/key functions emit a 'call' event per item
# (the tracer follows only the script's own lines, so every item must go through a call or a resume).
def _map(fn, *iterables):
    return (fn(*args) for args in zip(*iterables))  # resumed once per item


def _filter(fn, iterable):
    # A generator that drops items is not resumed per item: test each through a Python call.
    keep = (lambda item: item) if fn is None else (lambda item: fn(item))
    return (item for item in iterable if keep(item))


def _keyed(fn):
    def call(*args, key=None, **kwargs):
        return fn(*args, key=None if key is None else lambda item: key(item), **kwargs)
    return call


def _checked(fn):
    """Wrap a builtin whose C code expands its argument (int(), round(), str(), repr(), math.floor()...):
    arguments must be _printable, int results must stay under MAX_INT_BITS."""
    def call(*args, **kwargs):
        result = fn(*map(_printable, args), **kwargs)
        if isinstance(result, int):
            _limit(result.bit_length(), MAX_INT_BITS, "integer bits")
        return result
    return call


# What a whitelisted function running untraced may receive: exact types, no subclasses, nothing callable
# or iterable-on-demand. A callable, generator or iterator would run the script's own code untraced.
_PLAIN_SCALARS = frozenset((type(None), bool, int, float, complex, str, bytes, decimal.Decimal, datetime.date,
                            datetime.datetime, datetime.time, datetime.timedelta, datetime.timezone))
_PLAIN_CONTAINERS = frozenset((list, tuple, set, frozenset, dict))


def _plain(value, name: str) -> None:
    """Refuse an argument of an untraced function unless it is plain data (checked item by item, bounded)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        kind = type(item)
        seen += len(item) if kind in _PLAIN_CONTAINERS else 1
        _limit(seen, MAX_ITEMS, f"{name}() argument size")
        if kind is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif kind in _PLAIN_CONTAINERS:
            stack.extend(item)
        elif kind not in _PLAIN_SCALARS:
            _refuse(f"{name}() takes plain values, not {kind.__name__}")
        elif kind is decimal.Decimal and item.is_finite() and abs(item.adjusted()) > MAX_DIGITS:
            _refuse(f"{name}() of a Decimal with exponent {item.adjusted():,}")  # int() of it takes minutes


def untraced(fn, name: str | None = None):
    """Wrap a whitelisted function so it runs with the time-limit tracer off, at full speed.

    Traced, a helper pays a Python call per frame of library code (the holidays package computing a year,
    its imports and translations on first use): up to ~100x its own cost. Its time still counts: the
    wrapper's call event checks the deadline before, the script's next line after; so a helper must keep
    each call short whatever its arguments (see calendar.SCRIPT_MAX_DAYS). Arguments must be plain data,
    so no function, generator or iterator of the script's can run in here with the tracer off.
    Re-entrant and exception-safe: the previous trace function is restored however the call ends.
    """
    name = name or getattr(fn, "__name__", "helper")

    def call(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            _plain(value, name)
        previous = sys.gettrace()
        sys.settrace(None)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.settrace(previous)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = fn.__doc__
    return call


_MATH_NAMES = ("pi e tau inf nan sqrt isqrt exp log log2 log10 pow fabs fmod modf copysign gcd hypot dist "
               "isclose isfinite isinf isnan fsum sin cos tan asin acos atan atan2 degrees radians").split()
_NS = types.SimpleNamespace  # read-only for scripts: _write_ refuses attribute assignment
_MODULES = {  # no math.factorial/comb/perm/prod/lcm (CPU bombs in C)
    "datetime": _NS(date=datetime.date, datetime=datetime.datetime, time=datetime.time,
                    timedelta=datetime.timedelta, timezone=datetime.timezone),
    "decimal": _NS(Decimal=decimal.Decimal, InvalidOperation=decimal.InvalidOperation,
                   **{n: getattr(decimal, n) for n in dir(decimal) if n.startswith("ROUND_")}),
    "math": _NS(floor=_checked(math.floor), ceil=_checked(math.ceil), trunc=_checked(math.trunc),
                **{n: getattr(math, n) for n in _MATH_NAMES}),
    "re": _NS(**sandbox_re.NAMES),  # over RE2: linear time, no backtracking
    "Decimal": decimal.Decimal,
}


class _Printer(PrintCollector):
    """print() for scripts: checked like str(); the output is discarded (scripts have no console)."""

    def _call_print(self, *objects, **kwargs):
        super()._call_print(*map(_printable, objects), **kwargs)

    def write(self, text: str) -> None:
        pass


_INT, _STR = _checked(int), _checked(str)


def _real(obj):
    """`int` and `str` are wrappers in scripts: map them back for isinstance() and attribute access."""
    return int if obj is _INT else str if obj is _STR else obj


def _isinstance(obj, classes):
    return isinstance(obj, tuple(map(_real, classes)) if isinstance(classes, tuple) else _real(classes))


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    """datetime's C code imports `time`/`_strptime` through the caller's builtins (scripts cannot name this)."""
    if name not in ("time", "_strptime") or level:
        _refuse(f"import of {name!r}")
    return __import__(name, globals, locals, fromlist, level)


# Exits and BaseException escape Spiff's `except Exception`; __build_class__: classes bring dunder hooks.
_BUILTINS = {k: v for k, v in safe_builtins.items()
             if k not in ("__build_class__", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException")}
_BUILTINS.update(len=len, min=_keyed(min), max=_keyed(max), sorted=_keyed(sorted), any=any, all=all,
                 reversed=reversed, zip=zip, enumerate=enumerate, map=_map, filter=_filter, abs=abs,
                 float=float, bool=bool,
                 list=list, dict=dict, tuple=tuple, set=set, frozenset=frozenset, getattr=_getattr,
                 range=_range, pow=_pow, sum=_sum, int=_INT, str=_STR, repr=_checked(repr),
                 round=_checked(round), isinstance=_isinstance, __import__=_import)
_GUARDS = {
    "__builtins__": _BUILTINS, "_getattr_": _getattr, "_getitem_": operator.getitem, "_getiter_": iter,
    "_write_": lambda ob: _ListWriter(ob) if isinstance(ob, list) else full_write_guard(ob), "_inplacevar_": _inplace, "_print_": _Printer,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
    "_apply_": lambda f, *a, **kw: f(*a, **kw), "_binop_": _binop, "_fmt_": _printable, "_star_": _star,
    "_deadline_": None,
}
