"""Helper B's document templates (the actas of a land-conflict mediation and the CODEDE's convocatoria, acta and
resolución) rendered with realistic data and read back with pypdf: each shows the case number, its own number,
the legal basis it must cite and the parts filled (by its form or by the case's intake); a field its `requires`
header names cannot be left out; a draft carries neither number nor verification code."""
from __future__ import annotations

import jinja2
import pytest

from engine.documents import kinds
from engine.documents.context import sample_context
from engine.documents.render import render_html
from tests.documents_helpers import assert_issued_text

MEDIATION_BASIS = "Decreto 114-97 del Congreso de la República, artículo 47"
CODEDE_BASIS = "Decreto 11-2002"
# What the mediation's intake (forms/mediacion_solicitud) leaves in the case.
CASE = {"solicitante_nombre": "Juan Sotz Cuxil", "municipio": "Tecpán Guatemala",
        "asunto": "Linderos entre las aldeas Xejuyú y Panimachavac", "tipo_conflicto": "linderos",
        "partes": [{"nombre": "Comunidad de Xejuyú", "dpi": "2456789010405", "comunidad": "Xejuyú",
                    "representante": "Juan Sotz Cuxil"},
                   {"nombre": "Familia Ajcalón", "dpi": "1234567810406", "comunidad": "Panimachavac"}],
        "inmueble_finca": "1234", "inmueble_folio": "56", "inmueble_libro": "78E",
        "inmueble_codigo_catastral": "04-06-0123", "inmueble_latitud": 14.7625, "inmueble_longitud": -91.0014,
        "inmueble_area": 3.5, "inmueble_area_unidad": "ha", "hubo_violencia": False, "riesgo": "medio",
        "admisibilidad_razon": "Conflicto de linderos sin proceso judicial."}
PROPERTY = ["Finca 1234, folio 56, libro 78E", "04-06-0123", "Latitud 14.7625, longitud -91.0014",
            "Linderos entre las aldeas Xejuyú y Panimachavac"]
# What the CODEDE session's intake and agenda (forms/codede_sesion, codede_agenda) leave in the case.
SESSION = {"codede_sesion_titulo": "Segunda sesión ordinaria 2026", "codede_sesion_tipo": "ordinaria",
           "codede_sesion_numero": "02-2026", "codede_fecha_sesion": "2026-03-09", "codede_hora_sesion": "09:30",
           "codede_lugar": "Salón de sesiones de la Gobernación",
           "codede_puntos_agenda": [{"titulo": "Aprobación del acta anterior"},
                                    {"titulo": "Avance del programa de inversión 2026",
                                     "presenta": "Unidad Técnica Departamental"}],
           "codede_dias_anticipacion": 7}

# kind: (the case's data, the form's data, texts the PDF must show besides the case and document numbers)
SAMPLES: dict[str, tuple[dict, dict, list[str]]] = {
    "acta_admision": (
        CASE, {"admision_fecha": "2027-03-15", "admision_hora": "10:30", "admision_mediador": "Lic. Rosa Xinico",
               "admision_instituciones_convocadas": ["ric", "pnc", "municipalidad"],
               "admision_proximos_pasos": "Citar a las partes para el 7 de junio."},
        [MEDIATION_BASIS, "quince de marzo de dos mil veintisiete", "10:30 horas", "Lic. Rosa Xinico",
         "Registro de Información Catastral (RIC)", "Policía Nacional Civil (PNC)", "Municipalidad",
         "Citar a las partes para el 7 de junio.", "se clasificó como medio", "Familia Ajcalón", *PROPERTY]),
    "acta_inspeccion": (
        CASE, {"inspeccion_fecha": "2027-03-20", "inspeccion_hora": "09:00",
               "inspeccion_participantes": [{"nombre": "Juan Sotz Cuxil", "calidad": "Parte"},
                                            {"nombre": "Ing. Pedro Coy", "calidad": "RIC"}],
               "inspeccion_hallazgos": "Mojón norte desplazado unos 20 metros.\nCerco reciente de alambre.",
               "inspeccion_coordenadas_verificadas": True},
        [MEDIATION_BASIS, "veinte de marzo de dos mil veintisiete", "09:00 horas", "Ing. Pedro Coy",
         "Mojón norte desplazado unos 20 metros.", "Cerco reciente de alambre.", "se verificaron en el terreno",
         *PROPERTY]),
    "acta_sesion": (
        CASE | {"citacion_lugar": "Salón comunal de Xejuyú"},
        {"sesion_fecha": "2027-06-07", "sesion_hora": "14:00",
         "sesion_asistentes": [{"nombre": "Juan Sotz Cuxil", "calidad": "parte"},
                               {"nombre": "Lic. Rosa Xinico", "calidad": "mediador"}],
         "sesion_resumen": "Se revisaron los planos del RIC.", "sesion_acuerdo": False,
         "sesion_dialogo_agotado": False, "sesion_proximos_pasos": "Medición conjunta el 14 de junio."},
        [MEDIATION_BASIS, "siete de junio de dos mil veintisiete", "14:00 horas", "Salón comunal de Xejuyú",
         "Lic. Rosa Xinico", "Mediador(a)", "Se revisaron los planos del RIC.", "el diálogo continúa",
         "Medición conjunta el 14 de junio.", "Finca 1234, folio 56, libro 78E"]),
    "acta_mediacion": (
        CASE, {"acta_fecha": "2027-06-26", "acta_hora": "11:00", "acta_lugar": "Salón comunal de Xejuyú",
               "acta_instituciones_presentes": ["ric", "pdh", "municipalidad", "pnc"],
               "acta_compromisos": [{"compromiso": "Reponer el mojón norte", "responsable": "Familia Ajcalón",
                                     "fecha_cumplimiento": "2027-07-31"},
                                    {"compromiso": "Retirar el cerco de alambre",
                                     "responsable": "Comunidad de Xejuyú", "fecha_cumplimiento": "2027-08-15"}],
               "acta_firmas_partes": [{"nombre": "Juan Sotz Cuxil", "dpi": "2456789010405",
                                       "representa": "Comunidad de Xejuyú", "firmo": True},
                                      {"nombre": "Marta Ajcalón", "dpi": "1234567810406", "firmo": False}],
               "acta_testigos": [{"nombre": "Ing. Pedro Coy", "institucion": "RIC"}],
               "acta_firma_mediador": "Lic. Rosa Xinico", "acta_firma_gobernador": True},
        [MEDIATION_BASIS, "veintiséis de junio de dos mil veintisiete", "11:00 horas", "Salón comunal de Xejuyú",
         "Juan Sotz Cuxil 2456789010405 Comunidad de Xejuyú", "Marta Ajcalón 1234567810406 Por sí",
         "Procuraduría de los Derechos Humanos (PDH)", "Policía Nacional Civil (PNC)",
         "1 Reponer el mojón norte Familia Ajcalón 31 de julio de 2027",
         "2 Retirar el cerco de alambre Comunidad de Xejuyú 15 de agosto de 2027",
         "(no firmó)", "Testigo, RIC", "Gobernador(a) Departamental", *PROPERTY]),
    "acta_cierre": (
        CASE | {"mediacion_motivo_cierre": "dialogo_agotado", "mediacion_sesiones": [{"numero": 1}, {"numero": 2}]},
        {"cierre_fecha": "2026-08-04", "cierre_hora": "15:00", "cierre_resumen": "Las partes no llegaron a un acuerdo.",
         "cierre_remisiones": ["organismo_judicial", "subsecretaria_dialogo"], "cierre_hechos_violencia": True},
        [MEDIATION_BASIS, "cuatro de agosto de dos mil veintiséis", "15:00 horas",
         "las partes manifestaron no querer continuar el diálogo", "después de 2 sesiones",
         "Las partes no llegaron a un acuerdo.", "Tribunales (Organismo Judicial)",
         "Subsecretaría Presidencial de Diálogo", "Ministerio Público", "hechos de violencia", *PROPERTY]),
    "codede_convocatoria": (
        SESSION, {"codede_convocatoria_medio": "ambos", "codede_convocatoria_nota": "Traer la propuesta impresa."},
        [CODEDE_BASIS, "Segunda sesión ordinaria 2026, sesión número 02-2026", "9 de marzo de 2026",
         "09:30 horas", "Salón de sesiones de la Gobernación", "Aprobación del acta anterior",
         "Avance del programa de inversión 2026 (presenta: Unidad Técnica Departamental)",
         "por correo electrónico y por entrega personal", "con 7 días calendario de anticipación",
         "Traer la propuesta impresa.", "dos terceras partes"]),
    "codede_acta": (
        SESSION | {"codede_miembros_total": 15, "codede_miembros_presentes": 9, "codede_quorum": False,
                   "acta_sin_quorum_inicial": True, "codede_apertura": "2026-03-09T16:31:00+00:00",
                   "codede_asistentes": [{"nombre": "Lic. Ana Boch", "institucion": "SEGEPLAN"}],
                   "codede_resoluciones": [
                       {"resolucion_texto": "Se aprueba el acta anterior.", "votos_favor": 9, "votos_contra": 0,
                        "abstenciones": 0},
                       {"resolucion_texto": "Se prioriza el tramo Patzún–Godínez.", "votos_favor": 7,
                        "votos_contra": 1, "abstenciones": 1}],
                   "documentos_codede_resolucion": [{"numero": "RES-CODEDE-2026-0003", "codigo": "A"},
                                                    {"numero": "RES-CODEDE-2026-0004", "codigo": "B"}]},
        {"codede_acta_fecha": "2026-03-09", "codede_acta_resumen": "La UTD presentó el avance del programa."},
        [CODEDE_BASIS, "nueve de marzo de dos mil veintiséis", "10:31 horas", "Están presentes 9 de los 15",
         "es de 10 miembros", "se abrió una hora después con los miembros presentes", "Lic. Ana Boch SEGEPLAN",
         "Aprobación del acta anterior", "La UTD presentó el avance del programa.",
         "RES-CODEDE-2026-0003 Se aprueba el acta anterior. 9 a favor, 0 en contra, 0 abstenciones",
         "RES-CODEDE-2026-0004 Se prioriza el tramo Patzún–Godínez. 7 a favor, 1 en contra, 1 abstención"]),
    "codede_resolucion": (
        {"municipio": "Patzún", "priorizacion_asunto": "Propuesta de inversión 2027 del COMUDE de Patzún"},
        {"priorizacion_resolucion_fecha": "2026-06-24", "priorizacion_priorizada": True,
         "priorizacion_proyectos_priorizados": ["Mejoramiento de calle principal", "Ampliación de escuela"],
         "resolucion_considerandos": "Que los proyectos están registrados en el SNIP.",
         "resolucion_texto": "Priorizar la propuesta de inversión 2027 del municipio de Patzún.",
         "votos_favor": 12, "votos_contra": 0, "abstenciones": 2},
        [CODEDE_BASIS, "Acuerdo Gubernativo 461-2002", "veinticuatro de junio de dos mil veintiséis",
         "Propuesta de inversión 2027 del COMUDE de Patzún", "Que los proyectos están registrados en el SNIP.",
         "RESUELVE: Priorizar la propuesta de inversión 2027 del municipio de Patzún.", "queda priorizada",
         "Mejoramiento de calle principal", "Ampliación de escuela", "12 a favor, 0 en contra, 2 abstenciones"]),
}


def _number(kind: str) -> str:
    return kinds.kind(kind).pattern.format(year=2026, seq=3)


def _context(kind: str, form: dict | None = None, **overrides) -> dict:
    case, filled, _ = SAMPLES[kind]
    return sample_context(**{"data": {**case, **(filled if form is None else form)}, "number": _number(kind),
                             **overrides})


def test_every_kind_of_helper_b_has_a_sample():
    assert set(SAMPLES) == {"acta_admision", "acta_inspeccion", "acta_sesion", "acta_mediacion", "acta_cierre",
                            "codede_convocatoria", "codede_acta", "codede_resolucion"}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_issued_document_shows_case_number_legal_basis_and_filled_parts(kind):
    assert_issued_text(kind, _context(kind), _number(kind), SAMPLES[kind][2])


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_required_field_is_declared_and_cannot_be_left_out(kind):
    required = kinds.required_fields(kind)
    assert required and set(required) <= set(SAMPLES[kind][1]), required
    render_html(kinds.kind(kind).template, _context(kind))
    for field in required:
        form = {k: v for k, v in SAMPLES[kind][1].items() if k != field}
        with pytest.raises(jinja2.UndefinedError):
            render_html(kinds.kind(kind).template, _context(kind, form))


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_case_facts_are_optional_and_a_draft_has_no_number_nor_code(kind):
    html = render_html(kinds.kind(kind).template,
                       sample_context(data=SAMPLES[kind][1], number=None, code=None, draft=True))
    assert "BORRADOR" in html and "número que se asigna al emitir" in html
    assert _number(kind) not in html and "/verificar/" not in html


def test_the_closing_record_refers_to_the_prosecutor_when_there_was_violence_even_if_the_clerk_forgot():
    calm = render_html("acta_cierre.html", _context("acta_cierre", {**SAMPLES["acta_cierre"][1],
                                                                     "cierre_hechos_violencia": False}))
    assert "Ministerio Público" not in calm
    violent_intake = render_html("acta_cierre.html", sample_context(
        data={**CASE, "hubo_violencia": True, **SAMPLES["acta_cierre"][1], "cierre_hechos_violencia": False}))
    assert "Ministerio Público" in violent_intake


def test_the_codede_minutes_record_quorum_when_there_was_one():
    html = render_html("codede_acta.html", sample_context(
        data={**SAMPLES["codede_acta"][0], "codede_miembros_presentes": 12, "codede_quorum": True,
              "acta_sin_quorum_inicial": False, **SAMPLES["codede_acta"][1]}))
    assert "Están presentes 12 de los 15" in html and "Habiendo quórum, se abre la sesión." in html
    assert "una hora después" not in html
