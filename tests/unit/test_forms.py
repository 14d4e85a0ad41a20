"""The forms registry: Spanish messages naming each field, nothing hidden behind the first error."""
from __future__ import annotations

import json

import pytest

from engine.errors import FormInvalid, NotFound
from forms.registry import FormRegistry


@pytest.fixture
def registry(tmp_path):
    (tmp_path / "f.schema.json").write_text(json.dumps({
        "type": "object", "additionalProperties": False, "required": ["a", "b", "c"],
        "x-resumen": {"applicant_name": "persona/nombre"},
        "properties": {"a": {"type": "string"}, "b": {"type": "integer", "minimum": 1},
                       "c": {"type": "string", "format": "cui", "x-mensaje": "Revise el DPI."},
                       "persona": {"type": "object", "properties": {"nombre": {"type": "string"}}}},
    }), encoding="utf-8")
    return FormRegistry(tmp_path)


def test_every_missing_field_is_named_once(registry):
    with pytest.raises(FormInvalid) as refused:
        registry.validate("f", {})
    assert [(e["field"], e["message"]) for e in refused.value.errors] == [
        ("a", "Este campo es obligatorio."), ("b", "Este campo es obligatorio."), ("c", "Este campo es obligatorio.")]


def test_messages_are_spanish_and_custom_messages_win(registry):
    with pytest.raises(FormInvalid) as refused:
        registry.validate("f", {"a": "x", "b": 0, "c": "123", "z": 1})
    by_field = {e["field"]: e["message"] for e in refused.value.errors}
    assert by_field == {"(formulario)": "El formulario no tiene el campo z.", "b": "El valor mínimo es 1.",
                        "c": "Revise el DPI."}


def test_summary_columns_follow_the_form_and_unknown_forms_are_not_found(registry):
    assert registry.summary("f", {"persona": {"nombre": "Ana"}}) == {"applicant_name": "Ana"}
    with pytest.raises(NotFound):
        registry.validate("../etc/passwd", {})
    with pytest.raises(NotFound):
        registry.get("nope")
