"""`re` for scripts: Python's `re` functions over RE2 (google-re2), which matches in time linear in the text.

Python's own engine backtracks: `re.match('(a+)+$', 'a' * 27 + 'b')` runs for minutes inside C, where no time
limit can reach it. RE2 has no backtracking, and so no backreferences (`\\1`, `(?P=name)`) or lookaround
(`(?=`, `(?!`, `(?<=`, `(?<!`): such a pattern is a ScriptError naming it (and the lint reports it when the
pattern is written in the script).

What scripts see is Python's API: match, search, fullmatch, findall, finditer, split, sub, subn, compile,
escape and the flags (IGNORECASE, MULTILINE, DOTALL, ASCII). The syntax is translated where Python and RE2
differ: `\\w`, `\\d`, `\\s` (and `\\W`, `\\D`, `\\S` outside classes) match Unicode letters, digits and spaces as
in Python ("José" is one word), `\\Z` is RE2's `\\z`. Remaining differences: `\\b` sees ASCII word characters
only, `$` without MULTILINE matches only at the very end (not before a final newline), VERBOSE is refused.
"""
from __future__ import annotations

import functools
import re as _py_re

import re2

from engine.errors import ScriptError

MAX_RE_TEXT = 10_000   # longest text, pattern or replacement one call takes
MAX_ITEMS = 1_000_000  # longest result of sub() (as sandbox_guards.MAX_ITEMS)
# Python's flag values, so that `re.I | re.M` means what scripts expect.
I = IGNORECASE = _py_re.I
M = MULTILINE = _py_re.M
S = DOTALL = _py_re.S
X = VERBOSE = _py_re.X
A = ASCII = _py_re.A
U = UNICODE = _py_re.U
_KNOWN_FLAGS = I | M | S | X | A | U
error = re2.error

_UNICODE = {"w": r"\p{L}\p{N}_", "d": r"\p{Nd}", "s": r"\t-\r \x1c-\x1f\x85\p{Z}"}


def _refuse(what: str):
    raise ScriptError(f"refused by the script sandbox: {what}")


def _check_text(name: str, *args) -> None:
    for arg in args:
        if isinstance(arg, (str, bytes)) and len(arg) > MAX_RE_TEXT:
            _refuse(f"re.{name}() text length of ~{len(arg):,} exceeds the limit of {MAX_RE_TEXT:,}")


def _translate(pattern: str, unicode: bool) -> str:
    """Python's pattern syntax in RE2's: Unicode shorthand classes, `\\Z`."""
    out, i, n = [], 0, len(pattern)
    literal_close = -1  # inside a class: the index at which ']' is still literal ('[]a]', '[^]a]')
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e == "Z":
                out.append(r"\z")
            elif unicode and e in "wdsWDS":
                body = _UNICODE[e.lower()]
                if not in_class:
                    out.append(f"[{body}]" if e.islower() else f"[^{body}]")
                elif e.islower():
                    out.append(body)
                else:  # a negated class inside a class cannot be written in RE2: keep its ASCII meaning
                    out.append(r"\P{Nd}" if e == "D" else "\\" + e)
            else:
                out.append(c + e)
            i += 2
            continue
        if in_class:
            if c == "]" and i != literal_close:
                in_class = False
        elif c == "[":
            in_class = True
            literal_close = i + 2 if pattern.startswith("^", i + 1) else i + 1
        out.append(c)
        i += 1
    return "".join(out)


def _options(flags: int):
    if not isinstance(flags, int) or flags & ~_KNOWN_FLAGS:
        _refuse(f"regular expression flags {flags!r}")
    if flags & X:
        _refuse("re.VERBOSE is not supported by the sandbox's regular expressions")
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not flags & I
    options.dot_nl = bool(flags & S)
    return options


@functools.lru_cache(maxsize=256)
def _compiled(pattern, flags: int):
    options = _options(flags)
    text = pattern
    if isinstance(pattern, str):
        text = _translate(pattern, unicode=not flags & A)
        if flags & M:
            text = "(?m)" + text
    elif flags & M:
        text = b"(?m)" + text
    try:
        return re2.compile(text, options)
    except re2.error as exc:
        raise ScriptError(f"regular expression {pattern!r} cannot be used: {_reason(exc)} (the sandbox's engine, "
                          "RE2, has no backreferences or lookaround)") from None


def _reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else str(exc)
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def pattern_problem(pattern, flags: int = 0) -> str | None:
    """Why `pattern` cannot be used by scripts, or None (for the lint; compiles without caching)."""
    try:
        options = _options(flags)
        text = _translate(pattern, unicode=not flags & A) if isinstance(pattern, str) else pattern
        re2._Regexp(text, options)  # not re2.compile: its cache would keep every diagram's patterns
    except ScriptError as exc:
        return exc.message
    except re2.error as exc:
        return f"{_reason(exc)} (RE2 has no backreferences or lookaround)"
    return None


class Pattern:
    """A compiled regular expression, with the text limits of the module functions."""

    __slots__ = ("_regexp", "pattern", "flags")

    def __init__(self, pattern, flags: int = 0):
        _check_text("compile", pattern)
        self._regexp = _compiled(pattern, flags)
        self.pattern, self.flags = pattern, flags

    @property
    def groups(self) -> int:
        return self._regexp.groups

    @property
    def groupindex(self) -> dict:
        return self._regexp.groupindex

    def match(self, string, pos=None, endpos=None):
        _check_text("match", string)
        return self._regexp.match(string, pos, endpos)

    def fullmatch(self, string, pos=None, endpos=None):
        _check_text("fullmatch", string)
        return self._regexp.fullmatch(string, pos, endpos)

    def search(self, string, pos=None, endpos=None):
        _check_text("search", string)
        return self._regexp.search(string, pos, endpos)

    def findall(self, string, pos=None, endpos=None):
        _check_text("findall", string)
        return self._regexp.findall(string, pos, endpos)

    def finditer(self, string, pos=None, endpos=None):
        _check_text("finditer", string)
        return self._regexp.finditer(string, pos, endpos)

    def split(self, string, maxsplit=0):
        _check_text("split", string)
        return self._regexp.split(string, maxsplit)

    def subn(self, repl, string, count=0):
        # Group references in `repl` multiply the output: expand match by match, keep a running total.
        _check_text("sub", repl, string)
        total = [len(string)]

        def one(match):  # templates without backslashes are literal: skip the per-match parsing
            out = repl(match) if callable(repl) else match.expand(repl) if "\\" in str(repl) else repl
            total[0] += len(out)
            if total[0] > MAX_ITEMS:
                _refuse(f"re.sub() result length of ~{total[0]:,} exceeds the limit of {MAX_ITEMS:,}")
            return out
        return self._regexp.subn(one, string, count)

    def sub(self, repl, string, count=0):
        return self.subn(repl, string, count)[0]


def compile(pattern, flags=0):  # noqa: A001 - the name scripts call
    return pattern if isinstance(pattern, Pattern) else Pattern(pattern, flags)


def match(pattern, string, flags=0):
    return compile(pattern, flags).match(string)


def fullmatch(pattern, string, flags=0):
    return compile(pattern, flags).fullmatch(string)


def search(pattern, string, flags=0):
    return compile(pattern, flags).search(string)


def findall(pattern, string, flags=0):
    return compile(pattern, flags).findall(string)


def finditer(pattern, string, flags=0):
    return compile(pattern, flags).finditer(string)


def split(pattern, string, maxsplit=0, flags=0):
    return compile(pattern, flags).split(string, maxsplit)


def subn(pattern, repl, string, count=0, flags=0):
    return compile(pattern, flags).subn(repl, string, count)


def sub(pattern, repl, string, count=0, flags=0):
    return compile(pattern, flags).subn(repl, string, count)[0]


def escape(pattern):
    _check_text("escape", pattern)
    return re2.escape(pattern)


# What the policy checks at compile time when the pattern is written in the script: re.<name>('...', ...).
PATTERN_FUNCTIONS = frozenset(("compile", "match", "fullmatch", "search", "findall", "finditer", "split", "sub",
                               "subn"))
NAMES = {name: globals()[name] for name in (*PATTERN_FUNCTIONS, "escape", "error", "I", "IGNORECASE", "M",
                                            "MULTILINE", "S", "DOTALL", "X", "VERBOSE", "A", "ASCII", "U",
                                            "UNICODE")}
