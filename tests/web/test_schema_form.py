"""Form fields from JSON Schema and posted fields back to JSON."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from web.schema_form import errors_by_field, fields, parse

SCHEMA = {
    "type": "object",
    "required": ["nombre", "miembros"],
    "properties": {
        "nombre": {"type": "string", "title": "Nombre", "description": "Como aparece en el DPI"},
        "municipio": {"type": "string", "title": "Municipio", "enum": ["patzun", "tecpan"],
                      "x-etiquetas": {"patzun": "Patzún", "tecpan": "Tecpán Guatemala"}},
        "fecha": {"type": "string", "format": "date", "title": "Fecha"},
        "aforo": {"type": "integer", "title": "Aforo"},
        "precio": {"type": "number", "title": "Precio"},
        "con_sonido": {"type": "boolean", "title": "Con sonido"},
        "miembros": {"type": "array", "minItems": 1, "title": "Miembros del comité",
                     "items": {"type": "object", "required": ["nombre"],
                               "properties": {"nombre": {"type": "string", "title": "Nombre"},
                                              "cargo": {"type": "string", "title": "Cargo"}}}},
    },
}


def test_fields_describe_labels_help_required_enums_dates_and_groups():
    by_name = {f.name: f for f in fields(SCHEMA, {"miembros": [{"nombre": "Ana"}]}, {"miembros/0/cargo": "Falta"})}
    assert by_name["nombre"].required and by_name["nombre"].help == "Como aparece en el DPI"
    assert by_name["municipio"].kind == "select"
    assert by_name["municipio"].options == [("patzun", "Patzún"), ("tecpan", "Tecpán Guatemala")]
    assert by_name["fecha"].kind == "date" and by_name["aforo"].kind == "integer"
    group = by_name["miembros"]
    assert group.kind == "group" and group.min_items == 1
    assert [f.name for f in group.items[0]] == ["miembros.0.nombre", "miembros.0.cargo"]
    assert group.items[0][0].value == "Ana" and group.items[0][1].error == "Falta"
    assert [f.name for f in group.template] == ["miembros.__i__.nombre", "miembros.__i__.cargo"]


def test_posted_fields_become_typed_json_and_empty_optionals_are_absent():
    posted = MultiDict([("nombre", " Comité pro-feria "), ("municipio", "patzun"), ("fecha", ""),
                        ("aforo", "250"), ("precio", "12.50"), ("con_sonido.present", "1"),
                        ("miembros.0.nombre", "Ana"), ("miembros.0.cargo", "Presidenta"),
                        ("miembros.2.nombre", "Luis"), ("miembros.2.cargo", ""),
                        ("miembros.1.nombre", ""), ("miembros.1.cargo", "")])
    assert parse(SCHEMA, posted) == {
        "nombre": "Comité pro-feria", "municipio": "patzun", "aforo": 250, "precio": 12.5, "con_sonido": False,
        "miembros": [{"nombre": "Ana", "cargo": "Presidenta"}, {"nombre": "Luis"}],
    }


def test_text_in_a_number_field_is_kept_for_the_validator_to_name():
    assert parse(SCHEMA, MultiDict([("aforo", "muchos")]))["aforo"] == "muchos"


def test_errors_are_keyed_by_field_path():
    assert errors_by_field([{"field": "a/0/b", "message": "x"}, {"field": "a/0/b", "message": "y"}]) == {"a/0/b": "x"}


NESTED = {
    "type": "object",
    "properties": {
        "representante_legal": {"type": "object", "title": "Representante legal", "required": ["nombre"],
                                "properties": {"nombre": {"type": "string", "title": "Nombre"},
                                               "dpi": {"type": "string", "format": "cui", "title": "DPI"}}},
    },
}


def test_nested_objects_are_drawn_as_fieldsets_and_parsed_back():
    [group] = fields(NESTED, {"representante_legal": {"nombre": "Ana"}}, {"representante_legal/dpi": "Revise"})
    assert group.kind == "object"
    assert [(f.name, f.value, f.error) for f in group.items[0]] == [
        ("representante_legal.nombre", "Ana", None), ("representante_legal.dpi", None, "Revise")]
    posted = MultiDict([("representante_legal.nombre", "Ana"), ("representante_legal.dpi", "")])
    assert parse(NESTED, posted) == {"representante_legal": {"nombre": "Ana"}}
    assert parse(NESTED, MultiDict([("representante_legal.nombre", "")])) == {}


def test_a_value_the_case_does_not_hold_starts_at_the_schema_default():
    schema = {"type": "object", "properties": {"fundamento": {"type": "string", "default": "Decreto 119-96, art. 3"}}}
    [empty] = fields(schema, {})
    [held] = fields(schema, {"fundamento": "Constitución, art. 28"})
    assert (empty.value, held.value) == ("Decreto 119-96, art. 3", "Constitución, art. 28")
