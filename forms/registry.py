"""The one place that resolves a form by key and validates a submission against its JSON Schema."""
from __future__ import annotations

import functools
import gzip
import json
import re
import threading
from collections.abc import Callable
from datetime import date, tzinfo
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from forms.errors import FormProblems, UnknownForm
from forms.validators import FORMAT_MESSAGES, WHEN_KEYWORD, make_format_checker, make_validator_class

FORMS_DIR = Path(__file__).resolve().parent
SCHEMA_SUFFIX = ".schema.json"
_REQUIRED = re.compile(r"^'(.+)' is a required property$")
# Marks the one top-level property of an intake form that holds the citizen's e-mail address (mail goes there).
CITIZEN_EMAIL = "x-correo-ciudadano"

# Spanish messages by JSON Schema keyword; a property's own "x-mensaje" wins over these.
KEYWORD_MESSAGES = {
    "required": "Este campo es obligatorio.",
    "type": "El valor no tiene el tipo esperado.",
    "minLength": "Escriba al menos {value} caracteres.",
    "maxLength": "Escriba como máximo {value} caracteres.",
    "pattern": "El formato no es válido.",
    "enum": "Elija una de las opciones de la lista.",
    "const": "El valor no es el esperado.",
    "minimum": "El valor mínimo es {value}.",
    "maximum": "El valor máximo es {value}.",
    "exclusiveMinimum": "El valor debe ser mayor que {value}.",
    "exclusiveMaximum": "El valor debe ser menor que {value}.",
    "minItems": "Agregue al menos {value} elemento(s).",
    "maxItems": "Agregue como máximo {value} elemento(s).",
    "additionalProperties": "El formulario no tiene el campo {extra}.",
    "uniqueItems": "Hay elementos repetidos.",
    WHEN_KEYWORD: "«{title}» no puede ser una fecha futura: anote el día en que ocurrió (hoy o antes).",
}


@functools.lru_cache(maxsize=512)
def _schema_problem(schema_text: str) -> str | None:
    """What makes a JSON Schema (as canonical JSON text) invalid against the 2020-12 meta-schema, or None.

    Checking a schema against the meta-schema is most of the cost of loading a form (about 4 ms each); the answer
    depends on the text alone, so each process checks a given schema once, whichever registry asks (the forms of
    today, and each process version's snapshot)."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_text))
    except SchemaError as exc:
        return exc.message
    return None


class FormRegistry:
    """Forms in a directory as `<key>.schema.json`, loaded once and validated with format checks.

    `today` gives the date "date-not-past" and "x-fecha": "pasada" compare with (the engine passes its clock's date
    in the office's timezone, `office_tz`, the zone a moment's day is read in); a registry built without it lists
    and serves forms but refuses to check such a date.
    """

    def __init__(self, directory: Path = FORMS_DIR, today: Callable[[], date] | None = None,
                 office_tz: tzinfo | None = None):
        self._dir = Path(directory)
        clock = today if today is not None else _today_not_given
        self._format_checker = make_format_checker(clock)
        self._validator_class = make_validator_class(clock, office_tz)
        self._validators: dict[str, Draft202012Validator] = {}
        self._lock = threading.Lock()

    def keys(self) -> list[str]:
        return sorted(p.name[: -len(SCHEMA_SUFFIX)] for p in self._dir.glob(f"*{SCHEMA_SUFFIX}"))

    def get(self, form_key: str) -> dict:
        """The form's JSON Schema (titles, help and ui hints included)."""
        return self._validator(form_key).schema

    def validate(self, form_key: str | None, data: dict) -> dict:
        """Return `data` if it satisfies the form; raise FormProblems listing every field's problem."""
        if form_key is None:
            return data
        validator = self._validator(form_key)
        problems = [_problem(error) for error in validator.iter_errors(data)]
        if problems:
            problems.sort(key=lambda p: p["field"])
            raise FormProblems(form_key, problems)
        return data

    def summary(self, form_key: str | None, data: dict) -> dict:
        """Indexed case columns named by the form's "x-resumen": {column: field path}."""
        if form_key is None:
            return {}
        mapping = self.get(form_key).get("x-resumen", {})
        return {column: _lookup(data, path) for column, path in mapping.items()}

    def citizen_email_field(self, form_key: str | None) -> str | None:
        """The property the form marks with "x-correo-ciudadano": true, if any; more than one is an invalid form."""
        if form_key is None:
            return None
        marked = [name for name, prop in self.get(form_key).get("properties", {}).items()
                  if isinstance(prop, dict) and prop.get(CITIZEN_EMAIL) is True]
        if len(marked) > 1:
            raise UnknownForm(f"form '{form_key}' marks {len(marked)} fields with {CITIZEN_EMAIL}: "
                              f"{', '.join(marked)}; mark one", form_key)
        return marked[0] if marked else None

    def citizen_email(self, form_key: str | None, data: dict) -> str | None:
        """The citizen's e-mail address in `data`, from the field the form declares; None if it is left empty."""
        field = self.citizen_email_field(form_key)
        value = data.get(field) if field else None
        return value.strip() if isinstance(value, str) and value.strip() else None

    def snapshot(self, form_keys) -> dict[str, dict]:
        """The JSON Schemas of these forms as they are now ({key: schema}), to keep with a process version so its
        running cases keep the forms they started with (`SnapshotRegistry`); unknown keys raise UnknownForm."""
        return {key: self.get(key) for key in sorted(set(form_keys))}

    def _source(self, form_key: str) -> dict:
        """The form's JSON Schema as stored (a file of the directory)."""
        path = self._dir / f"{form_key}{SCHEMA_SUFFIX}"
        if "/" in form_key or "\\" in form_key or not path.is_file():
            raise UnknownForm(f"form '{form_key}' does not exist", form_key)
        return json.loads(path.read_text(encoding="utf-8"))

    def _validator(self, form_key: str) -> Draft202012Validator:
        with self._lock:
            hit = self._validators.get(form_key)
        if hit is not None:
            return hit
        schema = self._source(form_key)
        problem = _schema_problem(json.dumps(schema, sort_keys=True, ensure_ascii=False))
        if problem is not None:
            raise UnknownForm(f"form '{form_key}' is not a valid JSON Schema: {problem}", form_key)
        validator = self._validator_class(schema, format_checker=self._format_checker)
        with self._lock:
            self._validators[form_key] = validator
        return validator


class SnapshotRegistry(FormRegistry):
    """Forms as a process version was deployed with them ({key: schema}); a key the snapshot lacks is read from
    `fallback` (the forms of today). Validation, messages and format checks are the same as for any registry."""

    def __init__(self, schemas: dict[str, dict], fallback: FormRegistry):
        super().__init__(fallback._dir)
        self._format_checker = fallback._format_checker
        self._validator_class = fallback._validator_class
        self._schemas = schemas
        self._fallback = fallback

    def keys(self) -> list[str]:
        return sorted(set(self._schemas) | set(self._fallback.keys()))

    def _source(self, form_key: str) -> dict:
        if form_key in self._schemas:
            return self._schemas[form_key]
        return self._fallback._source(form_key)


LEGACY_SNAPSHOT = FORMS_DIR / "snapshots" / "before_0011.json.gz"


def legacy_schemas() -> dict[str, dict]:
    """The forms as they were before process versions kept their own (migration 0011): what every version deployed
    before then was deployed with, so its running cases go on with the forms they started with."""
    return json.loads(gzip.decompress(LEGACY_SNAPSHOT.read_bytes()))


def _today_not_given() -> date:
    raise RuntimeError("this FormRegistry was built without `today`: it cannot check a date-not-past field or "
                       "a date of a past event")


def _problem(error) -> dict:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        # One error per missing property; its name is only in the message ("'x' is a required property").
        named = _REQUIRED.match(error.message)
        missing = [named[1]] if named else [n for n in error.validator_value if n not in (error.instance or {})][:1]
        path = path + missing
    field = "/".join(path) or "(formulario)"
    own = error.schema.get("x-mensaje") if isinstance(error.schema, dict) else None
    if error.validator == "required":
        own = None
    if own:
        message = own
    elif error.validator == "format":
        message = FORMAT_MESSAGES.get(error.validator_value, "El formato no es válido.")
    else:
        template = KEYWORD_MESSAGES.get(error.validator, "El valor no es válido.")
        extra = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {})))) \
            if error.validator == "additionalProperties" and isinstance(error.instance, dict) else ""
        title = error.schema.get("title") if isinstance(error.schema, dict) else None
        message = template.format(value=error.validator_value, extra=extra, title=title or field)
    return {"field": field, "message": message, "keyword": error.validator}


def _lookup(data: dict, path: str):
    value = data
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value if isinstance(value, (str, int, float)) or value is None else str(value)
