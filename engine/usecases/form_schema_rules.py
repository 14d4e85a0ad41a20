"""What a form edited in the browser must be before it is saved: a JSON Schema (Draft 2020-12, like every file in
forms/) of the shapes the pages draw (web/schema_form.py), with our own keywords and validators only.

`schema_problems(schema)` lists every problem as {"field": the field's path ("miembros/nombre", "(formulario)" for
the form itself), "message": Spanish}; an empty list is a form that can be saved and published.
"""
from __future__ import annotations

import re

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.messages import msg

FORM = "(formulario)"
# A field's key is a path segment of the pages' input names ("miembros.0.nombre") and a key of the case's data.
FIELD_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# The formats our format checker knows (forms/validators.py): the pages' validators.
FORMATS = frozenset({"cui", "nit", "phone-gt", "date", "date-not-past", "date-time", "email"})
DATE_FORMATS = frozenset({"date", "date-time"})
SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})
# The office's own keywords (forms/registry.py, forms/validators.py, web/schema_form.py) and where they may stand.
FIELD_KEYWORDS = frozenset({"x-etiquetas", "x-mensaje", "x-fecha", "x-multilinea", "x-oculto", "x-correo-ciudadano",
                            "x-canal"})
FORM_KEYWORDS = frozenset({"x-resumen"})
MAX_FIELDS = 300
MAX_DEPTH = 4


def schema_problems(schema) -> list[dict]:
    """Every problem of `schema` as a form of ours (empty: it can be saved)."""
    if not isinstance(schema, dict):
        return [_problem(FORM, msg("El formulario debe ser un objeto JSON."))]
    problems: list[dict] = []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or FORM
        problems.append(_problem(_field_of(exc.path), msg("La definición no es un JSON Schema válido en «%(where)s».",
                                                          where=where)))
    if schema.get("type") != "object":
        problems.append(_problem(FORM, msg("El formulario debe ser de tipo objeto («type»: «object»).")))
    for key in schema:
        if isinstance(key, str) and key.startswith("x-") and key not in FORM_KEYWORDS | FIELD_KEYWORDS:
            problems.append(_problem(FORM, msg("El formulario usa «%(keyword)s», que no es una propiedad conocida.",
                                               keyword=key)))
    if not isinstance(schema.get("title", ""), str):
        problems.append(_problem(FORM, msg("El título del formulario debe ser un texto.")))
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.append(_problem(FORM, msg("El formulario no tiene ningún campo.")))
        return problems
    counter = [0]
    problems += _object(schema, "", counter, 0)
    if counter[0] > MAX_FIELDS:
        problems.append(_problem(FORM, msg("El formulario tiene más de %(most)s campos.", most=MAX_FIELDS)))
    marked = [name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("x-correo-ciudadano")]
    if len(marked) > 1:
        problems.append(_problem(marked[1], msg("Solo un campo puede ser el correo del ciudadano.")))
    summary = schema.get("x-resumen", {})
    if not isinstance(summary, dict) or not all(isinstance(v, str) for v in summary.values()):
        problems.append(_problem(FORM, msg("«x-resumen» debe asociar columnas con rutas de campos.")))
    return list({(p["field"], p["message"]): p for p in problems}.values())


def _object(schema: dict, prefix: str, counter: list[int], depth: int) -> list[dict]:
    problems = []
    properties = schema.get("properties") or {}
    if not isinstance(properties, dict):
        return [_problem(prefix.rstrip("/") or FORM, msg("«properties» debe ser un objeto de campos."))]
    if depth > MAX_DEPTH:
        return [_problem(prefix.rstrip("/") or FORM, msg("Los grupos anidan demasiados niveles (máximo %(most)s).",
                                                         most=MAX_DEPTH))]
    required = schema.get("required", [])
    if isinstance(required, list):
        for name in required:
            if name not in properties:
                problems.append(_problem(f"{prefix}{name}", msg("El campo obligatorio «%(name)s» no existe en el "
                                                                "formulario.", name=name)))
    for key, prop in properties.items():
        counter[0] += 1
        field = f"{prefix}{key}"
        if not FIELD_KEY.fullmatch(key):
            problems.append(_problem(field, msg("La clave «%(key)s» no es válida: use letras sin tilde, dígitos y «_», "
                                                "sin empezar con dígito (hasta 64).", key=key)))
        if not isinstance(prop, dict):
            problems.append(_problem(field, msg("El campo «%(key)s» debe ser un objeto.", key=key)))
            continue
        problems += _field(field, prop, counter, depth)
    return problems


def _field(field: str, prop: dict, counter: list[int], depth: int) -> list[dict]:
    problems = []
    title = prop.get("title")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        problems.append(_problem(field, msg("La etiqueta del campo no puede quedar vacía.")))
    for key in prop:
        if isinstance(key, str) and key.startswith("x-") and key not in FIELD_KEYWORDS:
            problems.append(_problem(field, msg("El campo usa «%(keyword)s», que no es una propiedad conocida.",
                                                keyword=key)))
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((t for t in kind if t != "null"), None)
    if kind is None and "properties" in prop:
        kind = "object"
    if kind == "object":
        return problems + _object(prop, f"{field}/", counter, depth + 1)
    if kind == "array":
        return problems + _array(field, prop, counter, depth)
    if kind not in SCALAR_TYPES:
        return problems + [_problem(field, msg("El tipo del campo no es uno de los que el formulario sabe mostrar "
                                               "(texto, número, fecha, sí/no, lista, grupo)."))]
    problems += _scalar(field, prop, kind)
    return problems


def _array(field: str, prop: dict, counter: list[int], depth: int) -> list[dict]:
    items = prop.get("items")
    problems = _bounds(field, prop, "minItems", "maxItems")
    if not isinstance(items, dict):
        return problems + [_problem(field, msg("La lista o el grupo repetible debe decir qué contiene («items»)."))]
    if items.get("type") == "object":
        if not isinstance(items.get("properties"), dict) or not items["properties"]:
            return problems + [_problem(field, msg("El grupo repetible no tiene ningún campo."))]
        return problems + _object(items, f"{field}/", counter, depth + 1)
    if items.get("type") != "string":
        return problems + [_problem(field, msg("Una lista solo puede tener textos, opciones o grupos de campos."))]
    if "enum" in items:
        problems += _enum(field, items, "string")
    return problems


def _scalar(field: str, prop: dict, kind: str) -> list[dict]:
    problems = []
    if "enum" in prop:
        problems += _enum(field, prop, kind)
    fmt = prop.get("format")
    if fmt is not None:
        if kind != "string":
            problems.append(_problem(field, msg("Solo un campo de texto puede tener un validador («format»).")))
        elif fmt not in FORMATS:
            problems.append(_problem(field, msg("El validador «%(format)s» no existe; use DPI/CUI, NIT, teléfono, "
                                                "correo o fecha.", format=str(fmt))))
    when = prop.get("x-fecha")
    if when is not None and (when != "pasada" or fmt not in DATE_FORMATS):
        problems.append(_problem(field, msg("«x-fecha»: «pasada» solo vale en un campo de fecha o de fecha y hora.")))
    labels = prop.get("x-etiquetas")
    if labels is not None and (not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values())):
        problems.append(_problem(field, msg("Las etiquetas de las opciones deben ser textos.")))
    for flag in ("x-multilinea", "x-oculto", "x-correo-ciudadano", "x-canal"):
        if flag in prop and not isinstance(prop[flag], bool):
            problems.append(_problem(field, msg("«%(keyword)s» debe ser sí o no (true o false).", keyword=flag)))
    if "x-mensaje" in prop and not isinstance(prop["x-mensaje"], str):
        problems.append(_problem(field, msg("«x-mensaje» debe ser un texto.")))
    if isinstance(prop.get("pattern"), str):
        try:
            re.compile(prop["pattern"])
        except re.error:
            problems.append(_problem(field, msg("El patrón del campo no es una expresión regular válida.")))
    return problems + _bounds(field, prop, "minLength", "maxLength") + _bounds(field, prop, "minimum", "maximum")


def _enum(field: str, prop: dict, kind: str) -> list[dict]:
    values = prop.get("enum")
    if not isinstance(values, list) or not values:
        return [_problem(field, msg("La lista de opciones no puede quedar vacía."))]
    problems = []
    if kind == "string" and any(not isinstance(v, str) or not v.strip() for v in values):
        problems.append(_problem(field, msg("Cada opción debe ser un texto no vacío.")))
    if kind in ("integer", "number") and any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        problems.append(_problem(field, msg("Cada opción de un campo numérico debe ser un número.")))
    if len({repr(v) for v in values}) != len(values):
        problems.append(_problem(field, msg("Hay opciones repetidas.")))
    return problems


def _bounds(field: str, prop: dict, low: str, high: str) -> list[dict]:
    a, b = prop.get(low), prop.get(high)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > b:
        return [_problem(field, msg("«%(low)s» es mayor que «%(high)s».", low=low, high=high))]
    return []


def _field_of(path) -> str:
    """The field a JSON Schema error's path (properties/a/items/properties/b/...) points at: 'a/b'."""
    parts, names = list(path), []
    for i, part in enumerate(parts[:-1]):
        if part == "properties":
            names.append(str(parts[i + 1]))
    return "/".join(names) or FORM


def _problem(field: str, message: str) -> dict:
    return {"field": field, "message": message}
