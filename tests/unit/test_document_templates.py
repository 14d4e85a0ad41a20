"""Helper A's document templates (previo, providencia, oficio, dictamen, resolución, licencia, cédula de
notificación) rendered with realistic data and read back with pypdf: each shows the case number, its own number,
the legal basis it must cite and the parts the clerk filled; a field its `requires` header names cannot be left
out; a draft is marked BORRADOR and carries neither number nor verification code."""
from __future__ import annotations

from datetime import datetime, timezone

import jinja2
import pytest

from engine.documents import kinds
from engine.documents.context import sample_context
from engine.documents.render import render_html, render_pdf
from tests.documents_helpers import assert_issued_text, pdf_text

RESOLUTION = {"number": "RES-GDCH-2026-0007", "issued_at": datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc),
              "code": "AAAA-BBBB-CCCC-DDDD", "title": "Resolución"}
INTAKE = {"tipo_licencia": "espectaculo_publico", "solicitante_nombre": "Comité de Feria de Tecpán",
          "solicitante_dpi": "2456 78901 0407", "solicitante_nit": "1234567-8",
          "representante_legal": {"nombre": "Juan Carlos Sotz Ajú", "cargo": "Presidente del comité"},
          "evento_nombre": "Feria patronal de Tecpán", "evento_fecha": "2026-12-20", "evento_hora_inicio": "10:00",
          "evento_hora_fin": "22:00", "evento_lugar": "Parque central", "municipio": "Tecpán Guatemala",
          "evento_aforo": 1500}

# kind: (the form data, other context, texts the PDF must show: the legal basis and the filled parts)
SAMPLES: dict[str, tuple[dict, dict, list[str]]] = {
    "previo": (
        {"previo_plazo_dias": 10, "previo_requerimientos": [
            {"requisito": "Plan de seguridad aprobado por la CONRED", "fundamento": "Decreto 109-96, artículo 3"},
            {"requisito": "Licencia municipal de sonido", "fundamento": "Código Municipal, Decreto 12-2002"}]},
        {}, ["Decreto 5-2021", "Plan de seguridad aprobado por la CONRED", "Decreto 109-96, artículo 3",
             "Licencia municipal de sonido", "10 días hábiles", "se archivará", "K7QM-2XHD-9TRB"]),
    "providencia": (
        {"providencia_unidad": "juridico", "providencia_instrucciones": "Emitir dictamen sobre la solicitud.",
         "providencia_adjuntos": ["Solicitud original (3 folios)"], "providencia_plazo_dias": 5,
         "providencia_fundamento": "Decreto 119-96, artículos 1 y 2."},
        {}, ["Pase a Asesoría Jurídica para", "Emitir dictamen sobre la solicitud.", "Solicitud original (3 folios)",
             "5 días hábiles", "Decreto 119-96, artículos 1 y 2."]),
    "oficio": (
        {"oficio_destinatario": "Comisario Juan Pérez Sicán", "oficio_cargo": "Jefe de la Comisaría 71",
         "oficio_institucion": "Policía Nacional Civil", "oficio_asunto": "Opinión sobre la feria patronal",
         "oficio_cuerpo": "Solicito su opinión sobre el orden público.\nAdjunto copia de la solicitud.",
         "oficio_adjuntos": ["Copia de la solicitud"], "oficio_plazo_respuesta": "2026-12-09",
         "oficio_referencia": "Su oficio 12-2026", "cofirmante": "Ana Lucía Cutzal"},
        {"cosigner": "Ana Lucía Cutzal"}, ["Comisario Juan Pérez Sicán", "Jefe de la Comisaría 71", "Policía Nacional Civil",
             "Opinión sobre la feria patronal", "Solicito su opinión sobre el orden público.", "Copia de la solicitud",
             "9 de diciembre de 2026", "Su oficio 12-2026", "Decreto 114-97, artículo 47", "Ana Lucía Cutzal",
             "María Elena Xicará"]),
    "dictamen": (
        {"dictamen_antecedentes": "El Comité presentó su solicitud completa.",
         "dictamen_analisis": "La PNC opinó favorablemente.", "dictamen_sentido": "favorable",
         "dictamen_fundamento": "Decreto 574; Decreto 114-97, artículo 47.",
         "dictamen_conclusion": "Se recomienda otorgar la licencia con condiciones."},
        {}, ["El Comité presentó su solicitud completa.", "La PNC opinó favorablemente.", "PROCEDE",
             "Decreto 574; Decreto 114-97, artículo 47.", "Se recomienda otorgar la licencia con condiciones.",
             "no una resolución", "Asesor(a) Jurídico(a)"]),
    "resolucion": (
        {"resolucion_considerandos": ["Que el solicitante cumplió los requisitos.", "Que la PNC opinó a favor."],
         "resolucion_fundamento": "Artículo 28 de la Constitución; Decreto 119-96, artículos 1, 2 y 3.",
         "resolucion_puntos": ["Otorgar la licencia solicitada.", "Emitir el certificado."],
         "cofirmante": "Ana Lucía Cutzal"},
        {"cosigner": "Ana Lucía Cutzal"}, ["VISTO", "CONSIDERANDO: Que el solicitante cumplió los requisitos.", "POR TANTO", "CITA DE LEYES",
             "Decreto 119-96, artículos 1, 2 y 3.", "RESUELVE:", "I. Otorgar la licencia solicitada.",
             "II. Emitir el certificado.", "III. NOTIFÍQUESE.", "Ana Lucía Cutzal", "dos de diciembre de dos mil"]),
    "licencia": (
        {**INTAKE, "certificado_vigencia_desde": "2026-12-20", "certificado_vigencia_hasta": "2026-12-21",
         "licencia_condiciones": "Prohibido el uso de pirotecnia."},
        {"issued": {"resolucion": RESOLUTION}},
        ["RES-GDCH-2026-0007", "Espectáculo o evento público", "Comité de Feria de Tecpán", "NIT 1234567-8",
         "Juan Carlos Sotz Ajú", "Feria patronal de Tecpán", "Parque central", "Tecpán Guatemala",
         "20 de diciembre de 2026, de 10:00 a 22:00 horas", "1500 personas", "al 21 de diciembre de 2026",
         "Prohibido el uso de pirotecnia.", "Decreto 114-97"]),
    "cedula_notificacion": (
        {"notificacion_forma": "personal", "notificacion_lugar": "3a. calle 2-15, zona 1, Tecpán Guatemala",
         "notificacion_fecha_hora": "2026-12-02T10:15:00-06:00", "notificacion_recibido_por": "Rosa Xajil",
         "notificacion_firma": "firmo"},
        {"issued": {"resolucion": RESOLUTION}},
        ["3a. calle 2-15, zona 1", "2 de diciembre de 2026", "10:15 horas", "Rosa Xajil",
         "Resolución número RES-GDCH-2026-0007", "personalmente", "Decreto 119-96", "Notificador(a)"]),
}


def _number(kind: str) -> str:
    return kinds.kind(kind).pattern.format(year=2026, seq=7)


def _context(kind: str, **overrides) -> dict:
    data, other, _ = SAMPLES[kind]
    return sample_context(**{"data": data, "number": _number(kind), **other, **overrides})


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_issued_document_shows_case_number_legal_basis_and_filled_parts(kind):
    assert_issued_text(kind, _context(kind), _number(kind), SAMPLES[kind][2])


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_required_field_is_declared_and_cannot_be_left_out(kind):
    required = kinds.required_fields(kind)
    assert required and all(f.isidentifier() for f in required), required
    render_html(kinds.kind(kind).template, _context(kind))
    for field in required:
        data = {k: v for k, v in SAMPLES[kind][0].items() if k != field}
        with pytest.raises(jinja2.UndefinedError):
            render_html(kinds.kind(kind).template, _context(kind, data=data))


def test_the_licence_cannot_be_issued_without_its_resolution():
    with pytest.raises(jinja2.UndefinedError):
        render_html("licencia.html", _context("licencia", issued={}))


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_a_draft_is_marked_and_has_no_number_nor_code(kind):
    html = render_html(kinds.kind(kind).template, _context(kind, number=None, code=None, draft=True))
    assert "BORRADOR" in html and "número que se asigna al emitir" in html
    assert _number(kind) not in html and "verificar" not in html


def test_a_draft_pdf_reads_borrador():
    text = pdf_text(render_pdf("resolucion.html", _context("resolucion", number=None, code=None, draft=True)))
    assert "BORRADOR" in text and "RESUELVE" in text and "RES-GDCH-2026-0007" not in text


def test_an_oficio_per_item_reads_the_item_alone_not_the_case():
    """With documentEach the case may hold another oficio's fields (the received oficio's reference): an item's
    oficio must not show them."""
    data, _, _ = SAMPLES["oficio"]
    item = {k: v for k, v in data.items() if k not in ("oficio_referencia", "oficio_plazo_respuesta")}
    case_data = {**data, "oficio_referencia": "Of. 245-2026/DAS", "oficio_destinatario": "Otra persona"}
    html = render_html("oficio.html", _context("oficio", data={**case_data, **item}, item=item))
    assert "Comisario Juan Pérez Sicán" in html and "Otra persona" not in html
    assert "245-2026" not in html and "Su referencia" not in html
