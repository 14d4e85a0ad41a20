"""Dates of past events ("x-fecha": "pasada"): a day after the office's today is refused, naming the field."""
from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from forms.errors import FormProblems
from forms.registry import FORMS_DIR, FormRegistry
from forms.validators import event_day

GT = ZoneInfo("America/Guatemala")
TODAY = date(2026, 4, 14)
FORM = {"type": "object", "properties": {
    "notificado": {"title": "Día y hora de la notificación", "type": "string", "format": "date-time",
                   "x-fecha": "pasada"},
    "inspeccion": {"title": "Fecha de la inspección", "type": "string", "format": "date", "x-fecha": "pasada"},
    "vence": {"title": "Vigente hasta", "type": "string", "format": "date"},
    "sesiones": {"type": "array", "items": {"type": "object", "properties": {
        "fecha": {"title": "Fecha de la sesión", "type": "string", "format": "date", "x-fecha": "pasada"}}}},
}}
# Fields that record something that already happened; each must refuse a future day.
PAST_EVENTS = {
    "notificacion": "notificacion_fecha_hora", "previo": "previo_fecha_notificacion",
    "licencia_recurso": "recurso_fecha_presentacion", "peticion_recurso": "peticion_recurso_fecha",
    "laip_recurso": "laip_recurso_fecha", "mediacion_sesion": "sesion_fecha", "mediacion_inspeccion": "inspeccion_fecha",
    "mediacion_seguimiento": "seguimiento_fecha", "subsanacion_recepcion": "subsanacion_fecha",
    "oficio_registro": "oficio_recibido", "oficio_envio": "envio_fecha", "codede_acta": "codede_acta_fecha",
    "codede_convocatoria": "codede_convocatoria_enviada", "peticion_informe": "informe_area_fecha",
}


@pytest.fixture
def registry(tmp_path):
    (tmp_path / "hechos.schema.json").write_text(json.dumps(FORM), encoding="utf-8")
    return FormRegistry(tmp_path, today=lambda: TODAY, office_tz=GT)


def problems(registry, data: dict) -> list[dict]:
    try:
        registry.validate("hechos", data)
    except FormProblems as exc:
        return exc.problems
    return []


def test_today_and_earlier_pass_and_a_future_day_is_refused_naming_the_field(registry):
    assert problems(registry, {"notificado": "2026-04-14T17:45:00-06:00", "inspeccion": "2026-04-14",
                               "vence": "2027-01-01", "sesiones": [{"fecha": "2026-03-02"}]}) == []
    refused = problems(registry, {"notificado": "2026-04-15T08:00:00-06:00", "inspeccion": "2026-04-15",
                                  "sesiones": [{"fecha": "2026-05-01"}]})
    assert [(p["field"], p["keyword"]) for p in refused] == [
        ("inspeccion", "x-fecha"), ("notificado", "x-fecha"), ("sesiones/0/fecha", "x-fecha")]
    assert refused[0]["message"] == ("«Fecha de la inspección» no puede ser una fecha futura: anote el día en que "
                                     "ocurrió (hoy o antes).")
    assert "«Día y hora de la notificación»" in refused[1]["message"]


def test_a_moment_is_read_on_the_office_calendar(registry):
    # 20:00 in Guatemala on the 14th is the 15th in UTC: still today for the office.
    assert problems(registry, {"notificado": "2026-04-15T02:00:00+00:00"}) == []
    assert [p["field"] for p in problems(registry, {"notificado": "2026-04-15T06:30:00Z"})] == ["notificado"]
    assert event_day("2026-04-15T02:00:00+00:00", GT) == date(2026, 4, 14)
    assert event_day("no es fecha", GT) is None


def test_a_malformed_date_is_the_format_checks_to_report(registry):
    assert [p["keyword"] for p in problems(registry, {"inspeccion": "15/04/2026"})] == ["format"]


@pytest.mark.parametrize("form_key,field", sorted(PAST_EVENTS.items()))
def test_the_office_forms_mark_their_past_event_dates(form_key, field):
    prop = json.loads((FORMS_DIR / f"{form_key}.schema.json").read_text(encoding="utf-8"))["properties"][field]
    assert prop.get("x-fecha") == "pasada" and prop["format"] in ("date", "date-time")
    registry = FormRegistry(today=lambda: TODAY, office_tz=GT)
    future = "2026-04-15" if prop["format"] == "date" else "2026-04-15T09:00:00-06:00"
    with pytest.raises(FormProblems) as refused:
        registry.validate(form_key, {field: future})
    assert any(p["field"] == field and p["keyword"] == "x-fecha" for p in refused.value.problems)


def test_only_dates_of_past_events_are_marked():
    """Deadlines, validity and scheduled dates stay free to lie ahead."""
    for form_key, field in (("licencia_certificado", "certificado_vigencia_hasta"),
                            ("oficio_registro", "oficio_fecha_limite"), ("codede_agenda", "codede_fecha_sesion"),
                            ("mediacion_citacion", "citacion_fecha_primera_sesion")):
        prop = json.loads((FORMS_DIR / f"{form_key}.schema.json").read_text(encoding="utf-8"))["properties"][field]
        assert "x-fecha" not in prop, (form_key, field)
