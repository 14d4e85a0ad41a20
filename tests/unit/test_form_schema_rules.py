"""A form edited in the browser is checked before it is saved: every form in forms/ passes, and each kind of mistake
is refused naming its field in Spanish."""
from __future__ import annotations

import json

import pytest

from engine.usecases.form_schema_rules import schema_problems
from forms.registry import FORMS_DIR, SCHEMA_SUFFIX


def _form(**properties) -> dict:
    return {"type": "object", "title": "Prueba", "properties": properties}


@pytest.mark.parametrize("path", sorted(FORMS_DIR.glob(f"*{SCHEMA_SUFFIX}")), ids=lambda p: p.name)
def test_every_office_form_passes(path):
    assert schema_problems(json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("schema, field, words", [
    (_form(**{"1campo": {"type": "string"}}), "1campo", "no es válida"),
    (_form(**{"año": {"type": "string"}}), "año", "no es válida"),
    (_form(tipo={"type": "string", "enum": []}), "tipo", "no puede quedar vacía"),
    (_form(tipo={"type": "string", "enum": ["a", "a"]}), "tipo", "repetidas"),
    (_form(tipo={"type": "string", "enum": ["a", ""]}), "tipo", "texto no vacío"),
    (_form(dpi={"type": "string", "format": "dpi"}), "dpi", "no existe"),
    (_form(n={"type": "integer", "format": "cui"}), "n", "Solo un campo de texto"),
    (_form(f={"type": "string", "x-fecha": "pasada"}), "f", "fecha"),
    (_form(f={"type": "string", "x-color": "rojo"}), "f", "no es una propiedad conocida"),
    (_form(f={"type": "string", "title": "  "}), "f", "etiqueta"),
    (_form(f={"type": "null"}), "f", "sabe mostrar"),
    (_form(f={"type": "string", "minLength": 5, "maxLength": 2}), "f", "mayor"),
    (_form(g={"type": "array", "items": {"type": "object", "properties": {"x y": {"type": "string"}}}}), "g/x y",
     "no es válida"),
    (_form(g={"type": "array", "items": {"type": "object", "properties": {}}}), "g", "no tiene ningún campo"),
    (_form(g={"type": "array"}), "g", "items"),
    ({**_form(a={"type": "string"}), "required": ["b"]}, "b", "no existe"),
    (_form(a={"type": 5}), "a", "JSON Schema válido"),
    ({"type": "object", "properties": {}}, "(formulario)", "ningún campo"),
    ({"type": "array", "properties": {"a": {"type": "string"}}}, "(formulario)", "objeto"),
    ([], "(formulario)", "objeto JSON"),
])
def test_mistakes_are_refused_naming_the_field(schema, field, words):
    problems = schema_problems(schema)
    assert any(p["field"] == field and words in p["message"] for p in problems), problems


def test_a_repeatable_group_and_our_validators_pass():
    schema = _form(
        dpi={"type": "string", "title": "DPI", "format": "cui"}, nit={"type": "string", "format": "nit"},
        telefono={"type": "string", "format": "phone-gt"},
        ocurrio={"type": "string", "format": "date", "x-fecha": "pasada"},
        evento={"type": "string", "format": "date-not-past"}, activo={"type": "boolean"},
        notas={"type": "string", "x-multilinea": True},
        miembros={"type": "array", "minItems": 1, "items": {"type": "object", "required": ["nombre"],
                                                          "properties": {"nombre": {"type": "string"}}}})
    assert schema_problems(schema) == []
