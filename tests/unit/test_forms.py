"""The forms registry: Spanish messages naming each field, nothing hidden behind the first error; the engine's gate."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from engine.errors import FormInvalid, NotFound
from engine.forms_gate import FORM_INVALID_MESSAGE, FormsGate, office_forms
from forms.errors import FormProblems, UnknownForm
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
    return FormRegistry(tmp_path, today=lambda: date(2026, 3, 2))


def test_every_missing_field_is_named_once(registry):
    with pytest.raises(FormProblems) as refused:
        registry.validate("f", {})
    assert [(e["field"], e["message"]) for e in refused.value.problems] == [
        ("a", "Este campo es obligatorio."), ("b", "Este campo es obligatorio."), ("c", "Este campo es obligatorio.")]


def test_messages_are_spanish_and_custom_messages_win(registry):
    with pytest.raises(FormProblems) as refused:
        registry.validate("f", {"a": "x", "b": 0, "c": "123", "z": 1})
    by_field = {e["field"]: e["message"] for e in refused.value.problems}
    assert by_field == {"(formulario)": "El formulario no tiene el campo z.", "b": "El valor mínimo es 1.",
                        "c": "Revise el DPI."}


def test_summary_columns_follow_the_form_and_unknown_forms_are_not_found(registry):
    assert registry.summary("f", {"persona": {"nombre": "Ana"}}) == {"applicant_name": "Ana"}
    with pytest.raises(UnknownForm):
        registry.validate("../etc/passwd", {})
    with pytest.raises(UnknownForm):
        registry.get("nope")


def test_the_gate_raises_the_engines_errors_with_the_registrys_problems(registry, tmp_path):
    gate = FormsGate(registry)
    with pytest.raises(FormProblems) as problems:
        registry.validate("f", {"b": "dos"})
    with pytest.raises(FormInvalid) as refused:
        gate.validate("f", {"b": "dos"})
    assert refused.value.message == FORM_INVALID_MESSAGE
    assert FORM_INVALID_MESSAGE == "El formulario tiene errores; corríjalos y envíelo de nuevo."
    assert refused.value.errors == problems.value.problems and len(refused.value.errors) == 3
    assert refused.value.to_dict() == {"code": "form_invalid", "message": FORM_INVALID_MESSAGE,
                                       "errors": problems.value.problems, "form": "f"}
    with pytest.raises(NotFound) as unknown:
        gate.get("nope")
    assert unknown.value.to_dict() == {"code": "not_found", "message": "form 'nope' does not exist", "form": "nope"}
    (tmp_path / "bad.schema.json").write_text(json.dumps({"type": 12}), encoding="utf-8")
    with pytest.raises(NotFound) as invalid_schema:
        gate.summary("bad", {})
    assert invalid_schema.value.message.startswith("form 'bad' is not a valid JSON Schema: ")
    assert gate.validate("f", {"a": "x", "b": 1, "c": "2456789050401"}) == {"a": "x", "b": 1, "c": "2456789050401"}
    assert gate.summary("f", {"persona": {"nombre": "Ana"}}) == {"applicant_name": "Ana"}
    assert gate.keys() == ["bad", "f"]


def test_not_in_the_past_is_the_office_date_by_the_given_clock(tmp_path):
    (tmp_path / "cita.schema.json").write_text(json.dumps({
        "type": "object", "properties": {"fecha": {"type": "string", "format": "date-not-past"}}}), encoding="utf-8")
    now = datetime(2026, 3, 3, 3, 0, tzinfo=timezone.utc)  # still 2 March, 21:00, in Guatemala (UTC-6)
    gate = office_forms(lambda: now, tmp_path)
    assert gate.validate("cita", {"fecha": "2026-03-02"}) == {"fecha": "2026-03-02"}
    with pytest.raises(FormInvalid) as refused:
        gate.validate("cita", {"fecha": "2026-03-01"})
    assert [(e["field"], e["keyword"]) for e in refused.value.errors] == [("fecha", "format")]


def test_a_registry_without_today_serves_forms_but_refuses_to_guess_the_date(tmp_path):
    (tmp_path / "cita.schema.json").write_text(json.dumps({
        "type": "object", "properties": {"fecha": {"type": "string", "format": "date-not-past"}}}), encoding="utf-8")
    registry = FormRegistry(tmp_path)
    assert registry.keys() == ["cita"] and registry.get("cita")["type"] == "object"
    with pytest.raises(RuntimeError, match="without `today`"):
        registry.validate("cita", {"fecha": "2026-03-02"})


def test_the_citizens_address_is_the_one_field_the_form_marks(tmp_path):
    def form(key: str, properties: dict) -> None:
        (tmp_path / f"{key}.schema.json").write_text(json.dumps({"type": "object", "properties": properties}),
                                                     encoding="utf-8")

    email = {"type": "string", "format": "email"}
    form("marcado", {"correo": {**email, "x-correo-ciudadano": True}, "email": email})
    form("sin_marca", {"email": email, "solicitante_email": email})
    form("dos_marcas", {"a": {**email, "x-correo-ciudadano": True}, "b": {**email, "x-correo-ciudadano": True}})
    registry = FormRegistry(tmp_path)
    assert registry.citizen_email_field("marcado") == "correo"
    data = {"correo": " ana@example.gt ", "email": "x@example.gt"}
    assert registry.citizen_email("marcado", data) == "ana@example.gt"
    assert registry.citizen_email("marcado", {"correo": "  "}) is None
    assert registry.citizen_email("marcado", {"email": "x@example.gt"}) is None  # an unmarked field is no address
    assert registry.citizen_email("sin_marca", {"email": "x@example.gt", "solicitante_email": "y@example.gt"}) is None
    assert registry.citizen_email(None, {"correo": "ana@example.gt"}) is None  # a process without an intake form
    with pytest.raises(UnknownForm, match="marks 2 fields with x-correo-ciudadano: a, b"):
        registry.citizen_email("dos_marcas", {"a": "ana@example.gt"})
    gate = FormsGate(registry)
    assert gate.citizen_email("marcado", {"correo": "ana@example.gt"}) == "ana@example.gt"
    with pytest.raises(NotFound):
        gate.citizen_email("dos_marcas", {})
