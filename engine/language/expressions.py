"""What lint says about an expression that does not compile: JUEL/FEEL written by other modelers gets a Python
equivalent to paste, a Python error is said in Spanish with the value; a quoted timer value that is no ISO 8601
date, duration or cycle is refused with it (SpiffWorkflow would only fail when the timer is reached)."""
from __future__ import annotations

import ast
import keyword
import re
from typing import Callable

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.language.naming import shorten
from engine.messages import msg

_STRING = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
_QUANTIFIED = re.compile(r"^(some|every)\s+([A-Za-z_]\w*)\s+in\s+(.+?)\s+satisfies\s+(.+)$", re.S)
_OPERATORS = (
    (re.compile(r"&&"), " and "), (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), " not "),
    (re.compile(r"(?<![=!<>])=(?!=)"), "=="),
    (re.compile(r"\beq\b"), "=="), (re.compile(r"\bne\b"), "!="), (re.compile(r"\blt\b"), "<"),
    (re.compile(r"\bgt\b"), ">"), (re.compile(r"\ble\b"), "<="), (re.compile(r"\bge\b"), ">="),
    (re.compile(r"\bnull\b"), "None"), (re.compile(r"\btrue\b"), "True"), (re.compile(r"\bfalse\b"), "False"),
    (re.compile(r"\bnot\s*\("), "not ("),
)
# FEEL names may hold spaces ("Vacation Approval"); Python's cannot: such a run of words becomes one name.
_MULTIWORD = re.compile(r"\b[A-Za-z_]\w*(?:[ \t]+[A-Za-z_]\w*)+\b")
_WORDS_KEPT = frozenset(keyword.kwlist) | {"satisfies"}


def _join_words(m) -> str:
    words = m.group(0).split()
    out, run = [], []
    for word in words + [None]:
        if word is None or word in _WORDS_KEPT:
            if run:
                out.append("_".join(run))
                run = []
            if word is not None:
                out.append(word)
        else:
            run.append(word)
    return " ".join(out)


_SYNTAX = re.compile(r"^Line (\d+): SyntaxError: (.*?)(?: at statement: .*)?$", re.S)


def foreign_body(source: str) -> str | None:
    """The expression inside JUEL's ${...}/#{...} or after FEEL's leading '=', or None if it has neither."""
    text = " ".join(source.split())
    if text.startswith(("${", "#{")) and text.endswith("}"):
        return text[2:-1].strip()
    if text.startswith("="):
        return text[1:].strip()
    return None


def python_equivalent(source: str) -> str:
    """A Python rewrite of a JUEL/FEEL expression (operators, literals, some/every): a suggestion, not a proof."""
    body = foreign_body(source)
    text = body if body is not None else " ".join(source.split())
    quantified = _QUANTIFIED.match(text)
    if quantified:
        word, var, items, condition = quantified.groups()
        text = f"{'any' if word == 'some' else 'all'}({python_equivalent(condition)} for {var} in {items})"
        return text
    parts = _STRING.split(text)
    for i in range(0, len(parts), 2):  # even parts are code, odd ones string literals
        code = parts[i]
        for pattern, replacement in _OPERATORS:
            code = pattern.sub(replacement, code)
        parts[i] = _MULTIWORD.sub(_join_words, code)
    return " ".join("".join(parts).split()).replace("( ", "(").replace(" )", ")")


def _foreign_syntax(source: str) -> bool:
    """JUEL's ${...}/#{...}, FEEL's leading '=', or '&&' / '||' outside string literals (a lone '=' may as well be
    a Python typo: it counts only when the rewrite compiles)."""
    code = " ".join(_STRING.split(source)[::2])
    return foreign_body(source) is not None or "&&" in code or "||" in code


def python_error(detail: str) -> str:
    """The sandbox compiler's English message, said in Spanish where it is a syntax error."""
    m = _SYNTAX.match(" ".join(str(detail).split()))
    if m:
        return msg("error de sintaxis en la línea %(line)s (%(error)s)", line=m.group(1), error=m.group(2))
    return shorten(detail)


def expression_problem(what: str, source: str, mode: str, detail: str, check: Callable[[str, str], str | None],
                       language: str | None = None):
    """The message for an expression `check` refused with `detail`; `what` names it ('La condición del …');
    `language` is a script's declared scriptFormat (another modeler's 'javascript', 'groovy'…)."""
    value = shorten(source)
    if mode == "exec" and language and "python" not in language.lower():
        return msg("%(what)s está escrito en %(language)s («%(value)s»), pero aquí los scripts son Python: "
                   "reescríbalo en Python (%(detail)s).", what=what, language=shorten(language, 40), value=value,
                   detail=python_error(detail))
    if mode == "eval":
        suggestion = python_equivalent(source)
        try:
            compiles = suggestion != " ".join(source.split()) and check(suggestion, "eval") is None
        except Exception:  # a checker bug: no suggestion
            compiles = False
        if compiles:  # a FEEL name with spaces alone is a sign only when the rewrite then compiles
            return msg("%(what)s usa sintaxis JUEL/FEEL («%(value)s»), pero aquí las expresiones son Python: "
                       "escriba, por ejemplo, «%(suggestion)s».", what=what, value=value,
                       suggestion=shorten(suggestion))
        if _foreign_syntax(source):
            return msg("%(what)s usa sintaxis JUEL/FEEL («%(value)s»), pero aquí las expresiones son Python: "
                       "escriba la expresión en Python (%(detail)s).", what=what, value=value,
                       detail=python_error(detail))
        return msg("%(what)s no es una expresión Python válida («%(value)s»): %(detail)s.",
                   what=what, value=value, detail=python_error(detail))
    if foreign_body(source) is not None:
        return msg("%(what)s usa sintaxis JUEL/FEEL («%(value)s»), pero aquí los scripts son Python: "
                   "escríbalo en Python (%(detail)s).", what=what, value=value, detail=python_error(detail))
    return msg("%(what)s no es Python válido («%(value)s»): %(detail)s.", what=what, value=value,
               detail=python_error(detail))


def timer_value_problem(source: str, timer: str) -> str | None:
    """Why a timer expression that is one quoted string is no ISO 8601 value of its kind, or None.

    `timer` is the element's local name: timeDate, timeDuration or timeCycle. Other expressions (a variable, a
    call) are only known when the timer is reached.
    """
    try:
        value = ast.literal_eval(source.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(value, str):
        return None
    try:
        if timer == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
            if not value.upper().startswith("P"):
                raise ValueError(value)
        elif timer == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            TimerEventDefinition.get_datetime(value)
    except Exception:
        examples = {"timeDuration": '"P5D", "PT2H"', "timeCycle": '"R3/P1D"'}.get(timer, '"2027-01-31T09:00:00"')
        return msg("«%(value)s» no es un valor ISO 8601 de este tipo de temporizador (por ejemplo, %(examples)s)",
                   value=shorten(value), examples=examples)
    return None
