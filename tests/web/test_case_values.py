"""The case data panel: each value under its form's label, choices by their titles, Sí/No, Guatemala time."""
from __future__ import annotations

import re

from engine.usecases import cases
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import login
from web.case_values import humanised, shown

FORM = {"properties": {
    "tipo": {"title": "Tipo de licencia", "type": "string", "enum": ["rifa"], "x-etiquetas": {"rifa": "Rifa o sorteo"}},
    "forma": {"title": "Forma", "type": "string", "oneOf": [{"const": "cedula", "title": "Por cédula"}]},
    "fecha": {"title": "Fecha del evento", "type": "string", "format": "date"},
    "notificado": {"title": "Día y hora", "type": "string", "format": "date-time"},
    "completo": {"title": "¿Expediente completo?", "type": "boolean"},
    "representante": {"title": "Representante legal", "type": "object",
                      "properties": {"nombre": {"title": "Nombre"}, "cargo": {"title": "Cargo"}}},
    "premios": {"title": "Premios", "type": "array",
                "items": {"type": "object", "properties": {"descripcion": {"title": "Descripción"},
                                                          "valor": {"title": "Valor (Q)"}}}},
    "anexos": {"title": "Anexos", "type": "array", "items": {"type": "string"}},
    "instituciones": {"title": "Instituciones", "type": "array", "x-etiquetas": {"pnc": "Policía Nacional Civil"},
                      "items": {"type": "string", "enum": ["pnc", "ric"], "x-etiquetas": {}}},
}}


def as_pairs(entries) -> list:
    return [(e.label, e.text or e.items or [as_pairs(row) for row in e.rows]) for e in entries]


def test_values_are_labelled_by_their_forms_and_written_for_people(app):
    data = {"tipo": "rifa", "forma": "cedula", "fecha": "2027-12-20", "notificado": "2026-12-02T14:07:48.407279+00:00",
            "completo": False, "recurso_decision": None, "nota": "", "representante": {"nombre": "Luis", "cargo": None},
            "premios": [{"descripcion": "Motocicleta", "valor": 15000.5}], "anexos": ["Solicitud", "Plan"],
            "espectaculo_publico": True, "respuesta_vence": "2026-12-16T22:30:00+00:00", "folios": 12,
            "instituciones": ["pnc", "ric"]}
    with app.test_request_context():
        entries = shown(data, [FORM])
    assert as_pairs(entries) == [
        ("Tipo de licencia", "Rifa o sorteo"), ("Forma", "Por cédula"), ("Fecha del evento", "20/12/2027"),
        ("Día y hora", "02/12/2026 08:07"),  # 14:07 UTC is 08:07 in Guatemala (UTC-6)
        ("¿Expediente completo?", "No"),
        ("Representante legal", [[("Nombre", "Luis")]]),
        ("Premios", [[("Descripción", "Motocicleta"), ("Valor (Q)", "15,000.50")]]),
        ("Anexos", ["Solicitud", "Plan"]),
        ("Espectaculo publico", "Sí"),  # no form declares it: its key, humanised
        ("Respuesta vence", "16/12/2026 16:30"), ("Folios", "12"),
        ("Instituciones", ["Policía Nacional Civil", "ric"]),
    ]


def test_the_first_form_that_declares_a_field_names_it():
    assert humanised("recurso_decision") == "Recurso decision"
    other = {"properties": {"tipo": {"title": "Otro título"}}}
    assert shown({"tipo": "x"}, [other, FORM])[0].label == "Otro título"


def test_the_task_page_shows_the_licence_data_with_its_forms_labels(app, office_svc):
    case = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia", intake("rifa_sorteo"))
    task = next(t for t in task_rows(office_svc, case.id) if t["element_id"] == "emitir_constancia")
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get(f"/tareas/{task['id']}").get_data(as_text=True)
    panel = page[page.index('id="case-data"'):]
    panel = re.sub(r"\s+", " ", panel[:panel.index("</section>")])
    assert "<dt>Tipo de licencia o autorización</dt> <dd>Rifa o sorteo</dd>" in panel
    assert "<dt>Fecha del evento</dt> <dd>20/12/2027</dd>" in panel
    assert "<dt>Premios</dt>" in panel and "<dt>Descripción del premio</dt><dd>Motocicleta</dd>" in panel
    assert "<dt>DPI (CUI) del solicitante</dt> <dd>2456 78905 0401</dd>" in panel
    assert "rifa_sorteo" not in panel and "None" not in panel and "tipo_licencia" not in panel
