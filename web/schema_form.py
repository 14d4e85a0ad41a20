"""Turn a form's JSON Schema into field descriptions for the templates, and posted fields back into JSON.

Field names are paths: `municipio`, `miembros.0.nombre` (arrays of objects are repeatable groups).
Parsing follows the schema's types so the server-side validation sees what the clerk meant:
"" for an optional field is absent, numbers are numbers, checkboxes are booleans.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

INPUT_BY_FORMAT = {"date": "date", "date-not-past": "date", "date-time": "datetime-local", "email": "email",
                   "phone-gt": "tel"}
_INDEX = re.compile(r"^\d+$")


@dataclass
class Field:
    """One input (or a repeatable group of inputs) as the template draws it."""

    name: str                  # path used as the HTML name, e.g. "miembros.0.nombre"
    label: str
    kind: str                  # text | textarea | number | integer | checkbox | select | date | ... | group
    required: bool = False
    help: str | None = None
    value: object = None
    options: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    items: list[list["Field"]] = field(default_factory=list)   # rows of a repeatable group
    template: list["Field"] = field(default_factory=list)      # an empty row, for "Agregar"
    min_items: int = 0
    past_only: bool = False    # a date of something that already happened ("x-fecha": "pasada"): input max= today

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def fields(schema: dict, data: dict | None = None, errors: dict | None = None, prefix: str = "") -> list[Field]:
    """The fields of an object schema, filled with `data` and annotated with `errors` by path."""
    data = data or {}
    errors = errors or {}
    required = set(schema.get("required", []))
    out = []
    for key, prop in schema.get("properties", {}).items():
        if prop.get("readOnly") or prop.get("x-oculto"):
            continue
        name = f"{prefix}{key}"
        # A value the case does not hold yet starts at the schema's default (a legal basis the office wrote).
        out.append(_field(name, prop, data.get(key, prop.get("default")), key in required, errors))
    return out


def _field(name: str, prop: dict, value, required: bool, errors: dict) -> Field:
    label = prop.get("title") or name.rsplit(".", 1)[-1]
    common = dict(name=name, label=label, required=required, help=prop.get("description"),
                  error=errors.get(name.replace(".", "/")))
    kind = _kind(prop)
    if kind == "object":  # a nested object: its fields drawn inside a fieldset, named "parent.child"
        return Field(kind=kind, items=[fields(prop, value if isinstance(value, dict) else {}, errors, f"{name}.")],
                     **common)
    if kind == "group":
        item_schema = prop["items"]
        rows = value if isinstance(value, list) else []
        minimum = int(prop.get("minItems", 0))
        while len(rows) < max(minimum, 1 if required else 0):
            rows = [*rows, {}]
        items = [fields(item_schema, row if isinstance(row, dict) else {}, errors, f"{name}.{i}.")
                 for i, row in enumerate(rows)]
        return Field(kind=kind, items=items, template=fields(item_schema, {}, {}, f"{name}.__i__."),
                     min_items=minimum, **common)
    options = []
    enum = prop.get("enum") or (prop.get("items", {}).get("enum") if kind == "multiselect" else None)
    if enum:
        labels = prop.get("x-etiquetas") or prop.get("items", {}).get("x-etiquetas") or {}
        options = [(str(v), labels.get(str(v), str(v))) for v in enum]
    return Field(kind=kind, value=value, options=options, past_only=prop.get("x-fecha") == "pasada", **common)


def _kind(prop: dict) -> str:
    types = prop.get("type")
    t = types[0] if isinstance(types, list) else types
    if t == "object" or (t is None and "properties" in prop):
        return "object"
    if t == "array":
        items = prop.get("items", {})
        if items.get("type") == "object":
            return "group"
        return "multiselect" if items.get("enum") else "lines"
    if "enum" in prop:
        return "select"
    if t == "boolean":
        return "checkbox"
    if t in ("integer", "number"):
        return t
    if t == "string":
        if prop.get("format") in INPUT_BY_FORMAT:
            return INPUT_BY_FORMAT[prop["format"]]
        if prop.get("x-multilinea") or prop.get("maxLength", 0) > 200:
            return "textarea"
    return "text"


def parse(schema: dict, form) -> dict:
    """Rebuild a JSON object from posted fields (a werkzeug MultiDict or a dict of lists)."""
    getlist = form.getlist if hasattr(form, "getlist") else (lambda k: form.get(k, []))
    keys = list(form.keys())
    return _parse_object(schema, "", keys, getlist)


def _parse_object(schema: dict, prefix: str, keys: list[str], getlist) -> dict:
    out = {}
    for key, prop in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        kind = _kind(prop)
        if kind == "object":
            nested = _parse_object(prop, f"{name}.", keys, getlist)
            if nested:
                out[key] = nested
            continue
        if kind == "group":
            indexes = sorted({int(k[len(name) + 1:].split(".", 1)[0]) for k in keys
                              if k.startswith(name + ".") and _INDEX.match(k[len(name) + 1:].split(".", 1)[0])})
            rows = [_parse_object(prop["items"], f"{name}.{i}.", keys, getlist) for i in indexes]
            rows = [r for r in rows if r]  # a fully empty row is a row the clerk did not fill
            if rows or name in keys:
                out[key] = rows
            continue
        values = getlist(name)
        if kind == "checkbox":
            if name in keys or f"{name}.present" in keys:
                out[key] = any(v in ("on", "true", "1", "sí") for v in values)
            continue
        if kind == "multiselect":
            if values:
                out[key] = [v for v in values if v != ""]
            continue
        raw = values[-1].strip() if values else ""
        if raw == "":
            continue
        if kind == "lines":
            out[key] = [line.strip() for line in raw.splitlines() if line.strip()]
        else:
            out[key] = _convert(raw, prop, kind)
    return out


def _convert(raw: str, prop: dict, kind: str):
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw.replace(",", "")) if "." in raw or "," in raw else int(raw)
    except ValueError:
        return raw  # leave it as text: the schema's type check names the field in Spanish
    if kind == "datetime-local" and len(raw) == 16:
        return raw + ":00-06:00"  # the office's local time (Guatemala, UTC-6, no daylight saving)
    return raw


def errors_by_field(problems: list[dict]) -> dict[str, str]:
    """FormInvalid's (or ValueRejected's) problem list → {field path: first message}."""
    out: dict[str, str] = {}
    for p in problems:
        # ValueRejected names the field from the submitted object's root ("data.constancia_folios").
        out.setdefault(p.get("field", "").removeprefix("data."), p.get("message", ""))
    return out
