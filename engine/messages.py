"""Messages for people, written in Spanish and translatable at the edge without the engine importing Flask.

The engine writes each such message as ``msg("<Spanish template>", name=value)``. The result is a plain
``str`` holding the Spanish text (what the CLI, logs and tests see) that also keeps its template
(``.msgid``) and parameters (``.params``), so the web side can look the template up in the message
catalogue (web/translations) and render it in the reader's language (``web.i18n.localize``).

Rules, so that ``pybabel extract -k msg`` finds every template (``make messages``):
- the template is a string literal (adjacent literals are fine), never an f-string or a concatenation;
- placeholders are named (``%(name)s``), never positional; a template without parameters is used as it is,
  like gettext (so it must not contain ``%``);
- a parameter may itself be a Message (an element kind, a label): it is translated too.
"""
from __future__ import annotations

from typing import Any


class Message(str):
    """The Spanish rendering of ``msgid % params``, remembering ``msgid`` and ``params``.

    Equality, hashing, JSON and pickling behave as for the rendered ``str``; pickling keeps the template.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any] | None = None) -> "Message":
        params = dict(params or {})
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):
        return Message, (self.msgid, self.params)


def msg(msgid: str, **params: Any) -> Message:
    """A translatable message: ``msgid`` is the Spanish template, ``params`` fill its ``%(name)s`` places."""
    return Message(msgid, params)


def one_line(text: str) -> str:
    """``text`` with runs of whitespace (line breaks in diagram names) made single spaces; a Message stays one."""
    if isinstance(text, Message):
        return Message(text.msgid, {k: one_line(v) if isinstance(v, str) else v for k, v in text.params.items()})
    return " ".join(text.split())
