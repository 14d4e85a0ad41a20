"""Procedure C (mediación de conflictos de tierras) walked along every path, saving and reloading between steps.

Deadlines are asserted on their exact dates: the certificates' 15 working days across Holy Week 2027 (25-27
March), the dialogue's 60 calendar days (moved to the next working day when they end on a closed day) and the
30/60/90-day follow-ups, the first of which lands on Chimaltenango's fair day, Monday 26 July 2027.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.errors import FormInvalid
from engine.usecases import institutions
from tests.processes.driver import Walk, closing, local, office
from tests.processes.institution_walk import reply, waits
from tests.processes.issued_documents import assert_documents
from tests.unit.test_validators import make_cui

ONE_MINUTE = timedelta(minutes=1)
DPI_A = make_cui("24567890", 4, 5)   # Santa Apolonia
DPI_B = make_cui("12345678", 4, 6)   # Tecpán Guatemala


def intake(**changes) -> dict:
    return {
        "solicitante_nombre": "Juan Sotz Cuxil", "solicitante_dpi": DPI_A, "municipio": "Tecpán Guatemala",
        "asunto": "Linderos entre las aldeas Xejuyú y Panimachavac",
        "partes": [{"nombre": "Comunidad de Xejuyú", "dpi": DPI_A, "comunidad": "Xejuyú",
                    "representante": "Juan Sotz Cuxil"},
                   {"nombre": "Familia Ajcalón", "dpi": DPI_B, "comunidad": "Panimachavac"}],
        "inmueble_finca": "1234", "inmueble_folio": "56", "inmueble_libro": "78E",
        "inmueble_codigo_catastral": "04-06-0123", "inmueble_latitud": 14.7625, "inmueble_longitud": -91.0014,
        "inmueble_area": 3.5, "inmueble_area_unidad": "ha", "tipo_conflicto": "linderos", "personas_afectadas": 12,
        "hubo_violencia": False, "descripcion": "Las dos partes reclaman la misma franja de terreno junto al río.",
        "telefono": "5512 3456",
    } | changes


# What every acta shows of the property, from the intake.
PROPERTY = ["Finca 1234, folio 56, libro 78E", "04-06-0123", "Latitud 14.7625, longitud -91.0014",
            "Linderos entre las aldeas Xejuyú y Panimachavac"]


def start(svc, at: datetime, **changes) -> Walk:
    svc.clock.now = at
    walk = Walk(svc, "mediacion_tierras", intake(**changes), actor="ventanilla1")
    assert walk.ready() == ["evaluar_admisibilidad"]
    return walk


def due(walk: Walk, element_id: str) -> datetime:
    rows = [d for (e, d, s) in walk.timers() if e == element_id and s == "waiting"]
    assert len(rows) == 1, f"{element_id}: {walk.timers()}"
    moment = rows[0] if isinstance(rows[0], datetime) else datetime.fromisoformat(str(rows[0]))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def waiting(walk: Walk) -> set[str]:
    return {e for (e, _d, s) in walk.timers() if s == "waiting"}


def oficio(destinatario: str, institucion: str, asunto: str) -> dict:
    return {"oficio_destinatario": destinatario, "oficio_institucion": institucion, "oficio_asunto": asunto,
            "oficio_cuerpo": f"Por este medio y dentro del expediente de mediación, solicito: {asunto.lower()}."}


def admit(walk: Walk, alto: bool = False, on: str = "2027-03-15") -> Walk:
    walk.complete("evaluar_admisibilidad", {"mediacion_admisible": True,
                                            "admisibilidad_razon": "Conflicto de linderos sin proceso judicial."},
                  actor="juridico1")
    assert walk.ready() == ["acta_admision"]
    walk.complete("acta_admision", {"admision_fecha": on, "admision_hora": "10:30",
                                    "admision_mediador": "Lic. Rosa Xinico",
                                    "admision_instituciones_convocadas": ["ric", "pnc", "municipalidad"]},
                  actor="mediador1")
    if alto:
        assert walk.ready() == ["coordinar_riesgo_alto"]
        walk.complete("coordinar_riesgo_alto", {"riesgo_instituciones_alertadas": ["pnc", "pdh", "copadeh"],
                                                "riesgo_medidas": "Patrullaje preventivo de la PNC en ambas aldeas."},
                      actor="gobernador")
    # The certificates were asked of the RIC and the property registry at once (oficio and reply link each).
    assert walk.ready() == ["citar_partes"]
    assert sorted(w[:2] for w in waits(walk.svc, walk.id) if w[2] == "waiting") == [
        ("recibir_certificacion_registro", "certificacion_registro"), ("recibir_certificacion_ric", "certificacion_ric")]
    return walk


def certificate(walk: Walk, who: str, **kw) -> dict:
    """The RIC ("ric") or the registry ("registro") answers on its link with the certificate."""
    text = {"ric": "Certificación catastral RIC-CERT-2027-55 del predio 04-06-0123.",
            "registro": "Certificación registral RGP-2027-9876 de la finca 1234, folio 56, libro 78E."}[who]
    return reply(walk, f"solicitud_{who}", text, pdf=f"certificacion_{who}.pdf", **kw)


def register_certificates(walk: Walk) -> Walk:
    certificate(walk, "ric")
    certificate(walk, "registro")
    assert walk.data["certificacion_ric"]["institucion"] == "ric"
    return walk


def summon_and_inspect(walk: Walk, first_session: str, inspected: str = "2027-03-20") -> Walk:
    walk.complete("citar_partes", {"citacion_fecha_primera_sesion": first_session,
                                   "citacion_lugar": "Salón comunal de Xejuyú",
                                   "citaciones": [{"parte": "Comunidad de Xejuyú", "forma": "personal",
                                                   "fecha": "2027-03-17"},
                                                  {"parte": "Familia Ajcalón", "forma": "cedula",
                                                   "fecha": "2027-03-17"}]}, actor="notificador1")
    assert "inspeccion_ocular" in walk.ready()
    return walk.complete("inspeccion_ocular", {
        "inspeccion_fecha": inspected, "inspeccion_hora": "09:00",
        "inspeccion_participantes": [{"nombre": "Juan Sotz Cuxil", "calidad": "Parte"},
                                     {"nombre": "Ing. Pedro Coy", "calidad": "RIC"}],
        "inspeccion_hallazgos": "Mojón norte desplazado unos 20 metros; cerco reciente de alambre.",
        "inspeccion_coordenadas_verificadas": True}, actor="mediador1")


def prepared(walk: Walk, first_session: str = "2027-06-07", inspected: str = "2027-03-20") -> Walk:
    """Admission done: certificates in time, parties summoned, inspection done; waiting for the first session."""
    summon_and_inspect(walk, first_session, inspected)
    register_certificates(walk)
    assert walk.ready() == ["registrar_sesion"]
    return walk


def session(walk: Walk, fecha: str, acuerdo: bool = False, agotado: bool = False) -> Walk:
    return walk.complete("registrar_sesion", {
        "sesion_fecha": fecha, "sesion_hora": "14:00", "sesion_resumen": "Se revisaron los planos del RIC y las propuestas de las partes.",
        "sesion_asistentes": [{"nombre": "Juan Sotz Cuxil", "calidad": "parte"},
                              {"nombre": "Marta Ajcalón", "calidad": "parte"},
                              {"nombre": "Lic. Rosa Xinico", "calidad": "mediador"}],
        "sesion_acuerdo": acuerdo, "sesion_dialogo_agotado": agotado}, actor="mediador1")


def acta(walk: Walk, fecha: str) -> Walk:
    walk.complete("acta_mediacion", {
        "acta_fecha": fecha, "acta_hora": "11:00", "acta_lugar": "Salón comunal de Xejuyú",
        "acta_compromisos": [{"compromiso": "Reponer el mojón norte en el punto fijado por el RIC",
                              "responsable": "Familia Ajcalón", "fecha_cumplimiento": "2027-07-31"},
                             {"compromiso": "Retirar el cerco de alambre", "responsable": "Comunidad de Xejuyú",
                              "fecha_cumplimiento": "2027-08-15"}],
        "acta_firmas_partes": [{"nombre": "Juan Sotz Cuxil", "dpi": DPI_A, "firmo": True},
                               {"nombre": "Marta Ajcalón", "dpi": DPI_B, "firmo": True}],
        "acta_testigos": [{"nombre": "Ing. Pedro Coy", "institucion": "RIC"}],
        "acta_firma_mediador": "Lic. Rosa Xinico", "acta_firma_gobernador": True}, actor="mediador1")
    assert walk.ready() == []
    return walk


def follow_up(walk: Walk, n: int, fecha: str, cumple: bool, accion: str | None = None) -> Walk:
    data = {"seguimiento_fecha": fecha, "seguimiento_cumple": cumple,
            "seguimiento_observaciones": "Visita de verificación con ambas partes."}
    if accion:
        data["seguimiento_accion"] = accion
    return walk.complete(f"verificar_cumplimiento_{n}", data, actor="mediador1")


def close(walk: Walk, remisiones: list[str], violencia: bool = False) -> Walk:
    return walk.complete("acta_cierre", {"cierre_fecha": "2026-08-04", "cierre_hora": "15:00",
                                         "cierre_resumen": "Las partes no llegaron a un acuerdo.",
                                         "cierre_remisiones": remisiones, "cierre_hechos_violencia": violencia},
                         actor="mediador1")


# -- risk (DMN riesgo_conflicto) --------------------------------------------------------------------

@pytest.mark.parametrize("violencia, personas, tipo, riesgo", [
    (True, 5, "linderos", "alto"),
    (False, 250, "servidumbre_paso", "alto"),
    (False, 200, "linderos", "alto"),
    (False, 60, "ocupacion", "alto"),
    (False, 10, "ocupacion", "medio"),
    (False, 80, "servidumbre_paso", "medio"),
    (False, 199, "linderos", "medio"),
    (False, 25, "regularizacion", "medio"),
    (False, 20, "derechos", "medio"),
    (False, 19, "derechos", "bajo"),
    (False, 30, "linderos", "bajo"),
    (False, 3, "servidumbre_paso", "bajo"),
])
def test_risk_level_by_violence_people_and_conflict_type(svc, violencia, personas, tipo, riesgo):
    walk = start(svc, local(2027, 3, 15), hubo_violencia=violencia, personas_afectadas=personas,
                 tipo_conflicto=tipo)
    assert walk.data["riesgo"] == riesgo
    assert walk.data["riesgo_motivo"]


# -- inadmissible ---------------------------------------------------------------------------------

def test_inadmissible_case_is_referred_with_its_target_recorded_and_closed(svc):
    walk = start(svc, local(2027, 3, 15))
    walk.complete("evaluar_admisibilidad", {
        "mediacion_admisible": False, "inadmision_motivo": "en_proceso_judicial",
        "remision_destino": "centro_mediacion_oj", "remision_destino_detalle": "Juzgado de Paz de Tecpán",
        "admisibilidad_razon": "Existe juicio ordinario sobre la misma franja."}, actor="juridico1")
    assert walk.ready() == ["emitir_remision"]
    walk.complete("emitir_remision", oficio("Lic. Carlos Boc", "Juzgado de Paz de Tecpán Guatemala",
                                            "Remisión de la solicitud de mediación"))
    assert walk.ready() == ["notificar_interesado"]
    walk.complete("notificar_interesado", {"notificacion_forma": "personal", "notificacion_lugar": "Aldea Xejuyú",
                                           "notificacion_fecha_hora": local(2027, 3, 17).isoformat(),
                                           "notificacion_recibido_por": "Juan Sotz Cuxil"}, actor="notificador1")
    assert walk.state == "completed"
    data = walk.data
    assert (data["remision_destino"], data["oficio_institucion"]) == ("centro_mediacion_oj",
                                                                       "Juzgado de Paz de Tecpán Guatemala")
    assert "acta_admision" not in walk.route
    assert_documents(walk, [
        ("oficio", "OF-GDCH-2027-0001", ["Lic. Carlos Boc", "Juzgado de Paz de Tecpán Guatemala",
                                         "Remisión de la solicitud de mediación"]),
        ("cedula_notificacion", "CED-GDCH-2027-0001", ["Juan Sotz Cuxil"])])


def test_a_request_needs_two_parties_with_a_valid_dpi(svc):
    bad = intake(partes=[{"nombre": "Comunidad de Xejuyú", "dpi": "1234567890123"}])
    with pytest.raises(FormInvalid) as err:
        Walk(svc, "mediacion_tierras", bad)
    assert sorted(e["field"] for e in err.value.errors) == ["partes", "partes/0/dpi"]


def test_inadmission_needs_a_reason_and_a_referral_target(svc):
    with pytest.raises(FormInvalid) as err:
        svc.forms.validate("mediacion_admisibilidad", {"mediacion_admisible": False,
                                                       "admisibilidad_razon": "Está en tribunales."})
    assert sorted(e["field"] for e in err.value.errors) == ["inadmision_motivo", "remision_destino"]


# -- agreement and follow-ups ------------------------------------------------------------------------

def test_high_risk_case_with_late_certificates_reaches_agreement_and_complies_at_30_60_90_days(svc):
    walk = start(svc, local(2027, 3, 15), hubo_violencia=True)
    assert walk.data["riesgo"] == "alto"
    walk.at(local(2027, 3, 16))
    admit(walk, alto=True)
    # 15 working days from Tue 16 Mar 2027, Holy Thursday-Saturday (25-27 Mar) skipped → Thu 8 Apr.
    assert due(walk, "certificacion_ric_vencida") == due(walk, "certificacion_registro_vencida") == closing(2027, 4, 8)
    first_link = institutions.link_for(svc, walk.data["solicitud_registro"]["solicitud"])
    summon_and_inspect(walk, "2027-06-07")
    assert walk.ready() == []  # the parallel join waits for the certificates
    walk.at(local(2027, 3, 30, 11))
    certificate(walk, "ric")  # the RIC answers in time
    assert waiting(walk) == {"certificacion_registro_vencida"}
    walk.at(closing(2027, 4, 8))
    assert walk.data["certificacion_registro_pedidas"] == 1
    walk.at(closing(2027, 4, 8) + ONE_MINUTE)
    # The registry did not: the request is reiterated (a new oficio, a new link) with a new 15 working days,
    # counted from Fri 9 Apr (the timer fired after 16:30).
    assert walk.data["certificacion_registro_pedidas"] == 2
    assert institutions.link_for(svc, walk.data["solicitud_registro"]["solicitud"]) != first_link
    assert due(walk, "certificacion_registro_vencida") == closing(2027, 4, 30)
    assert walk.ready() == []
    walk.at(local(2027, 4, 20))
    certificate(walk, "registro")
    assert walk.ready() == ["registrar_sesion"]
    # 60 calendar days from the scheduled first session (Mon 7 Jun) → Fri 6 Aug.
    assert due(walk, "plazo_dialogo_vencido") == closing(2027, 8, 6)
    session(walk, "2027-06-07")
    assert walk.ready() == ["registrar_sesion"]
    session(walk, "2027-06-26", acuerdo=True)
    assert walk.ready() == ["acta_mediacion"]
    acta(walk, "2027-06-26")
    # Follow-up 1: 30 days after Sat 26 Jun is Mon 26 Jul 2027, Chimaltenango's fair day → Tue 27 Jul.
    assert waiting(walk) == {"espera_seguimiento_1"}
    assert due(walk, "espera_seguimiento_1") == closing(2027, 7, 27)
    walk.at(closing(2027, 7, 27))
    assert walk.ready() == []
    walk.at(closing(2027, 7, 27) + ONE_MINUTE)
    assert walk.ready() == ["verificar_cumplimiento_1"]
    follow_up(walk, 1, "2027-07-28", cumple=True)
    assert due(walk, "espera_seguimiento_2") == closing(2027, 8, 25)   # Wed 25 Aug
    walk.at(closing(2027, 8, 25) + ONE_MINUTE)
    follow_up(walk, 2, "2027-08-26", cumple=True)
    assert due(walk, "espera_seguimiento_3") == closing(2027, 9, 24)   # Fri 24 Sep
    walk.at(closing(2027, 9, 24) + ONE_MINUTE)
    follow_up(walk, 3, "2027-09-27", cumple=True)
    assert walk.state == "completed"
    data = walk.data
    assert data["mediacion_resultado"] == "acuerdo_cumplido"
    assert [(s["seguimiento"], s["dias"], s["cumple"]) for s in data["mediacion_seguimientos"]] == \
        [(1, 30, True), (2, 60, True), (3, 90, True)]
    assert [(s["numero"], s["acuerdo"]) for s in data["mediacion_sesiones"]] == [(1, False), (2, True)]
    assert "acta_cierre" not in walk.route
    assert_documents(walk, [
        ("acta_admision", "ACTA-ADM-GDCH-2027-0001",
         ["quince de marzo de dos mil veintisiete", "10:30 horas", "Lic. Rosa Xinico", "se clasificó como alto",
          "Registro de Información Catastral (RIC)", "Policía Nacional Civil (PNC)", *PROPERTY]),
        ("oficio", "OF-GDCH-2027-0001", ["Registro de Información Catastral (RIC)",
                                         "Solicitud de certificación catastral del inmueble en conflicto"]),
        ("oficio", "OF-GDCH-2027-0002", ["Registro General de la Propiedad",
                                         "Solicitud de certificación registral del inmueble en conflicto"]),
        ("acta_inspeccion", "ACTA-INS-GDCH-2027-0001",
         ["veinte de marzo de dos mil veintisiete", "09:00 horas", "Ing. Pedro Coy", "Mojón norte desplazado",
          "se verificaron en el terreno", *PROPERTY]),
        ("oficio", "OF-GDCH-2027-0003", ["Registro General de la Propiedad",
                                         "Reiteración: solicitud de certificación registral del inmueble"]),
        ("acta_sesion", "ACTA-SES-GDCH-2027-0001",
         ["siete de junio de dos mil veintisiete", "Se revisaron los planos del RIC", "el diálogo continúa"]),
        ("acta_sesion", "ACTA-SES-GDCH-2027-0002", ["veintiséis de junio de dos mil veintisiete",
                                                    "Las partes alcanzaron un acuerdo"]),
        ("acta_mediacion", "ACTA-MED-GDCH-2027-0001",
         ["veintiséis de junio de dos mil veintisiete", "11:00 horas", "Salón comunal de Xejuyú",
          f"Juan Sotz Cuxil {DPI_A}", f"Marta Ajcalón {DPI_B}", "Reponer el mojón norte en el punto fijado por el RIC",
          "Familia Ajcalón 31 de julio de 2027", "Retirar el cerco de alambre", "Testigo, RIC", *PROPERTY]),
    ])


def test_breached_agreement_reopens_the_dialogue_once_then_closes_with_referral(svc):
    walk = start(svc, local(2027, 3, 15))
    assert walk.data["riesgo"] == "bajo"
    admit(walk)
    prepared(walk)
    session(walk, "2027-06-07", acuerdo=True)
    acta(walk, "2027-06-07")
    walk.at(closing(2027, 7, 7) + ONE_MINUTE)
    follow_up(walk, 1, "2027-07-08", cumple=False, accion="reabrir_dialogo")
    # Reopened (Wed 7 Jul after 16:30, so it counts from Thu 8 Jul): the session count and the 60 days
    # start again → Mon 6 Sep.
    assert walk.ready() == ["registrar_sesion"]
    assert walk.data["mediacion_reaperturas"] == 1
    assert walk.data["mediacion_sesiones_ronda"] == 0
    assert due(walk, "plazo_dialogo_vencido") == closing(2027, 9, 6)
    walk.at(local(2027, 7, 20))
    session(walk, "2027-07-20", acuerdo=True)
    acta(walk, "2027-07-20")
    assert due(walk, "espera_seguimiento_1") == closing(2027, 8, 19)
    walk.at(closing(2027, 8, 19) + ONE_MINUTE)
    follow_up(walk, 1, "2027-08-20", cumple=True)
    # 60 days after Tue 20 Jul is Sat 18 Sep: the office is closed → Mon 20 Sep.
    assert due(walk, "espera_seguimiento_2") == closing(2027, 9, 20)
    walk.at(closing(2027, 9, 20) + ONE_MINUTE)
    assert walk.ready() == ["verificar_cumplimiento_2"]
    # Breached again: the mediator asks to reopen, but the one reopening was used → closing with referral.
    follow_up(walk, 2, "2027-09-21", cumple=False, accion="reabrir_dialogo")
    assert walk.ready() == ["acta_cierre"]
    assert walk.data["mediacion_motivo_cierre"] == "incumplimiento"
    close(walk, ["organismo_judicial"])
    assert walk.state == "completed"
    assert walk.data["cierre_remision_sugerida"] == ["organismo_judicial", "subsecretaria_dialogo"]
    assert walk.data["cierre_remisiones"] == ["organismo_judicial"]
    assert [s["cumple"] for s in walk.data["mediacion_seguimientos"]] == [False, True, False]
    # Two rounds of dialogue, each with its session and its acta de mediación; then the closing record.
    assert_documents(walk, [
        # The certificates' oficios are issued by the service tasks inside the admission's step, before the
        # admission record the clerk's task issues when that step is stored.
        ("oficio", "OF-GDCH-2027-0001", []), ("oficio", "OF-GDCH-2027-0002", []),
        ("acta_admision", "ACTA-ADM-GDCH-2027-0001", []),
        ("acta_inspeccion", "ACTA-INS-GDCH-2027-0001", []),
        ("acta_sesion", "ACTA-SES-GDCH-2027-0001", ["siete de junio"]),
        ("acta_mediacion", "ACTA-MED-GDCH-2027-0001", ["siete de junio"]),
        ("acta_sesion", "ACTA-SES-GDCH-2027-0002", ["veinte de julio"]),
        ("acta_mediacion", "ACTA-MED-GDCH-2027-0002", ["veinte de julio"]),
        ("acta_cierre", "ACTA-CIE-GDCH-2027-0001",
         ["no se cumplieron los compromisos del acta de mediación", "Tribunales (Organismo Judicial)"]),
    ])


def test_breached_agreement_closed_with_referral_when_the_mediator_so_decides(svc):
    walk = start(svc, local(2027, 3, 15))
    admit(walk)
    prepared(walk)
    session(walk, "2027-06-07", acuerdo=True)
    acta(walk, "2027-06-07")
    walk.at(closing(2027, 7, 7) + ONE_MINUTE)
    follow_up(walk, 1, "2027-07-08", cumple=False, accion="cerrar_y_remitir")
    assert walk.ready() == ["acta_cierre"]
    assert walk.data["mediacion_reaperturas"] == 0
    close(walk, ["subsecretaria_dialogo"])
    assert walk.state == "completed"


# -- no agreement ------------------------------------------------------------------------------------

def test_session_loop_ends_at_the_maximum_number_of_sessions(svc):
    walk = start(svc, local(2027, 3, 15))
    admit(walk)
    prepared(walk)
    for day in (7, 9, 11, 14, 16):
        session(walk, f"2027-06-{day:02d}")
        assert walk.ready() == ["registrar_sesion"]
    session(walk, "2027-06-18")   # the sixth
    assert walk.ready() == ["acta_cierre"]
    data = walk.data
    assert (data["mediacion_motivo_cierre"], data["mediacion_sesiones_ronda"], len(data["mediacion_sesiones"])) == \
        ("limite_sesiones", 6, 6)
    assert waiting(walk) == set()
    close(walk, ["organismo_judicial", "subsecretaria_dialogo"])
    assert walk.state == "completed"
    assert "remitir_ministerio_publico" not in walk.route


def test_dialogue_exhausted_before_the_maximum_closes_without_agreement(svc):
    walk = start(svc, local(2027, 3, 15))
    admit(walk)
    prepared(walk)
    session(walk, "2027-06-07", agotado=True)
    assert walk.ready() == ["acta_cierre"]
    assert walk.data["mediacion_motivo_cierre"] == "dialogo_agotado"


def test_session_loop_ends_after_60_days_from_the_first_session_and_violence_goes_to_the_prosecutor(svc):
    walk = start(svc, local(2026, 3, 16), hubo_violencia=True, tipo_conflicto="ocupacion", personas_afectadas=80)
    assert walk.data["riesgo"] == "alto"
    admit(walk, alto=True, on="2026-03-16")  # a case of 2026: admitted and inspected in 2026, not ahead
    prepared(walk, first_session="2026-06-01", inspected="2026-03-20")
    # Scheduled first session Mon 1 Jun 2026 → 60 days: Fri 31 Jul.
    assert due(walk, "plazo_dialogo_vencido") == closing(2026, 7, 31)
    walk.at(local(2026, 6, 3))
    session(walk, "2026-06-03")
    # The first session was actually held Wed 3 Jun → 60 days is Sun 2 Aug: the office is closed → Mon 3 Aug.
    assert due(walk, "plazo_dialogo_vencido") == closing(2026, 8, 3)
    walk.at(local(2026, 6, 24))
    session(walk, "2026-06-24")
    walk.at(closing(2026, 8, 3))
    assert walk.ready() == ["registrar_sesion"]
    walk.at(closing(2026, 8, 3) + ONE_MINUTE)
    assert walk.ready() == ["acta_cierre"]
    data = walk.data
    assert data["mediacion_motivo_cierre"] == "plazo_maximo"
    # The clerk forgot the prosecutor: with violence it is always added.
    close(walk, ["subsecretaria_dialogo"])
    assert walk.data["cierre_remisiones"] == ["subsecretaria_dialogo", "ministerio_publico"]
    assert walk.data["cierre_remision_sugerida"] == ["organismo_judicial", "subsecretaria_dialogo", "ministerio_publico"]
    assert walk.ready() == ["remitir_ministerio_publico"]
    walk.complete("remitir_ministerio_publico", {
        **oficio("Fiscal de Distrito", "Ministerio Público, Fiscalía Distrital de Chimaltenango",
                 "Hechos de violencia en el conflicto de tierras"),
        "oficio_cuerpo": "Se hace de su conocimiento la quema de una vivienda en el área en disputa."})
    assert walk.state == "completed"
    assert_documents(walk, [
        ("acta_admision", "ACTA-ADM-GDCH-2026-0001", ["se clasificó como alto"]),
        ("oficio", "OF-GDCH-2026-0001", []), ("oficio", "OF-GDCH-2026-0002", []),
        ("acta_inspeccion", "ACTA-INS-GDCH-2026-0001", []),
        ("acta_sesion", "ACTA-SES-GDCH-2026-0001", ["tres de junio de dos mil veintiséis"]),
        ("acta_sesion", "ACTA-SES-GDCH-2026-0002", ["veinticuatro de junio de dos mil veintiséis"]),
        ("acta_cierre", "ACTA-CIE-GDCH-2026-0001",
         ["cuatro de agosto de dos mil veintiséis", "15:00 horas", "venció el plazo máximo del diálogo",
          "Las partes no llegaron a un acuerdo.", "Subsecretaría Presidencial de Diálogo", "Ministerio Público",
          "hechos de violencia", *PROPERTY]),
        ("oficio", "OF-GDCH-2026-0003", ["Fiscalía Distrital de Chimaltenango",
                                         "la quema de una vivienda en el área en disputa"]),
    ])


def test_violence_during_the_dialogue_also_goes_to_the_prosecutor(svc):
    walk = start(svc, local(2027, 3, 15))
    admit(walk)
    prepared(walk)
    session(walk, "2027-06-07", agotado=True)
    close(walk, ["organismo_judicial"], violencia=True)
    assert walk.ready() == ["remitir_ministerio_publico"]


# -- both database backends ---------------------------------------------------------------------------

def test_smoke_mediation_walk_on_both_backends(database_url, clock):
    svc = office(database_url, clock)
    try:
        walk = start(svc, local(2027, 3, 15))
        admit(walk)
        walk.at(local(2027, 3, 16))
        prepared(walk)
        session(walk, "2027-06-07", agotado=True)
        close(walk, ["organismo_judicial"])
        assert walk.state == "completed"
        assert_documents(walk, [
            ("oficio", "OF-GDCH-2027-0001", []), ("oficio", "OF-GDCH-2027-0002", []),
            ("acta_admision", "ACTA-ADM-GDCH-2027-0001", []),
            ("acta_inspeccion", "ACTA-INS-GDCH-2027-0001", []),
            ("acta_sesion", "ACTA-SES-GDCH-2027-0001", ["se da por agotado"]),
            ("acta_cierre", "ACTA-CIE-GDCH-2027-0001", ["las partes manifestaron no querer continuar el diálogo"]),
        ])
    finally:
        svc.db.dispose()
