"""Babel's extraction method for our Python files: a text is the literal argument of a *call* of a keyword.

babel.cfg names it (`web.i18n_extract.extract_python_calls`) for every Python area, so `make messages` and
tests/unit/test_catalogue.py find the same msgids. Babel's own `python` method reads tokens, and since 2.19 it
also takes a keyword followed by `[` as the start of a call: a subscript of a variable that happens to share
a keyword's name (`msg["Subject"]` of an e-mail, with `-k msg`) came out as a text. The syntax tree tells a
call from a subscript.

Translator comments are not collected (the project passes no `-c` to `pybabel extract`).
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any


def extract_python_calls(fileobj: IO[bytes], keywords: Mapping[str, Any] | Collection[str],
                         comment_tags: Collection[str], options: Mapping[str, Any]) -> Iterator[tuple]:
    """Yield `(lineno, funcname, messages, comments)` for each call of a keyword, in source order."""
    filename = getattr(fileobj, "name", None) or "(unknown)"
    tree = ast.parse(fileobj.read(), filename=filename)  # bytes: the parser honours a coding declaration
    calls = [node for node in ast.walk(tree)
             if isinstance(node, ast.Call) and _called_name(node.func) in keywords]
    for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
        messages = tuple(_literal(arg, filename) for arg in call.args)
        lineno = call.args[0].lineno if call.args else call.lineno  # as Babel: the line of the first argument
        # Babel drops a call whose msgid is not a literal (None), as its own extractor does.
        yield lineno, _called_name(call.func), messages[0] if len(messages) == 1 else messages, []


def _called_name(func: ast.expr) -> str | None:
    """`msg` for `msg(...)` and `flask_babel.gettext` -> `gettext`, like Babel's name matching; else None."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(arg: ast.expr, filename: str) -> str | None:
    """The text of a string literal (adjacent literals already joined by the parser), else None."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        sys.stderr.write(f"{filename}:{arg.lineno}: warning: f-string skipped: a text must be a plain literal "
                         "with %(name)s placeholders\n")
    return None
