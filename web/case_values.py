"""The case's data as a clerk reads it: each value under the label its procedure's forms give the field.

The forms (JSON Schemas) of the case's process name the fields (`title`) and their choices (`x-etiquetas`, or
`oneOf` items of `const` and `title`); a field no form declares keeps its key, humanised. Values are written for
people: Sí/No, a choice by its label, dates dd/mm/aaaa and moments in Guatemala time dd/mm/aaaa hh:mm, lists one
item a line, objects as their own labelled fields; an empty value (None, "", [], {}) is left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from engine.timekeeping.calendar import OFFICE_TZ

DATE_FORMATS = ("date", "date-not-past", "date-not-future")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                     r"(Z|[+-][0-9]{2}:?[0-9]{2})?", re.ASCII)


@dataclass
class Shown:
    """One field as the page shows it: a text, a list of texts, or rows of labelled fields (an object, or a list
    of objects: a row each)."""

    label: str
    text: str | None = None
    items: list[str] = field(default_factory=list)
    rows: list[list["Shown"]] = field(default_factory=list)


def shown(data: dict, schemas: list[dict]) -> list[Shown]:
    """The case's fields in its data's order, labelled by the first of `schemas` that declares each."""
    return _fields(data, _properties(schemas))


def _properties(schemas: list[dict]) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for schema in schemas:
        for key, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict):
                merged.setdefault(key, prop)
    return merged


def _fields(data: dict, properties: dict[str, dict]) -> list[Shown]:
    out = []
    for key, value in data.items():
        entry = _entry(str(key), value, properties.get(key) or {})
        if entry is not None:
            out.append(entry)
    return out


def _entry(key: str, value, prop: dict) -> Shown | None:
    if _empty(value):
        return None
    label = prop.get("title") or humanised(key)
    if isinstance(value, dict):
        rows = [_fields(value, prop.get("properties") or {})]
        return Shown(label, rows=rows) if rows[0] else None
    if isinstance(value, list):
        item_prop = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if prop.get("x-etiquetas") and not item_prop.get("x-etiquetas"):  # a multiple choice may label it there
            item_prop = {**item_prop, "x-etiquetas": prop["x-etiquetas"]}
        if all(isinstance(v, dict) for v in value):
            rows = [row for row in (_fields(v, item_prop.get("properties") or {}) for v in value) if row]
            return Shown(label, rows=rows) if rows else None
        items = [text for text in (_text(v, item_prop) for v in value if not _empty(v)) if text]
        return Shown(label, items=items) if items else None
    return Shown(label, text=_text(value, prop))


def _empty(value) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def humanised(key: str) -> str:
    """A data key a person can read: `espectaculo_publico` → «Espectaculo publico»."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _text(value, prop: dict) -> str:
    if isinstance(value, bool):
        return _("Sí") if value else _("No")
    if isinstance(value, dict):
        return "; ".join(f"{humanised(str(k))}: {_text(v, {})}" for k, v in value.items() if not _empty(v))
    if isinstance(value, list):
        return "; ".join(_text(v, {}) for v in value if not _empty(v))
    labels = choice_labels(prop)
    if str(value) in labels:
        return labels[str(value)]
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if prop.get("format") == "cui" and re.fullmatch(r"[0-9]{13}", text, re.ASCII):
        return f"{text[:4]} {text[4:9]} {text[9:]}"  # as the DPI prints it
    return _when(text, prop.get("format"))


def choice_labels(prop: dict) -> dict[str, str]:
    """{value: label} of a field's choices, as the form declares them (x-etiquetas, or oneOf const + title)."""
    labels = {str(k): str(v) for k, v in (prop.get("x-etiquetas") or {}).items()}
    for option in prop.get("oneOf") or prop.get("anyOf") or ():
        if isinstance(option, dict) and "const" in option and option.get("title"):
            labels.setdefault(str(option["const"]), str(option["title"]))
    return labels


def _when(text: str, fmt: str | None) -> str:
    """A date as dd/mm/aaaa; a moment in office time as dd/mm/aaaa hh:mm; any other text as it is."""
    if (fmt in DATE_FORMATS or fmt is None) and _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            return text
    if (fmt == "date-time" or fmt is None) and _MOMENT.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is not None:  # a moment without its zone is taken as the office's, as typed
            moment = moment.astimezone(OFFICE_TZ)
        return moment.strftime("%d/%m/%Y %H:%M")
    return text
