"""Procedure B (solicitud ciudadana) walked along every path, saving and reloading between steps.

Every deadline is asserted on its exact working-day date. The dates cross the calendar's hard spots: Holy Week
2026 (2-4 April), 1 May, Army Day 2026 (moved to Monday 29 June) and 15 August (a working day here: it is a
holiday only in Guatemala department). The 30-day petition term is counted in working days (Ley del Organismo
Judicial art. 45; see the diagram's documentation).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.runtime import serializer
from engine.errors import FormInvalid
from engine.storage.persistence import read_case
from engine.usecases import messaging
from tests.processes.case_documents import assert_documents
from tests.processes.driver import Walk, closing, local, office
from tests.unit.test_validators import make_cui

GT = ZoneInfo("America/Guatemala")
ONE_MINUTE = timedelta(minutes=1)
DPI = make_cui("24567890", 4, 3)  # San Martín Jilotepeque


def intake(categoria: str = "acceso_informacion", **changes) -> dict:
    return {"solicitante_nombre": "María Tuyuc Chicol", "solicitante_dpi": DPI, "municipio": "San Martín Jilotepeque",
            "canal": "en_linea", "solicitud_categoria": categoria, "asunto": "Presupuesto de la Gobernación 2026",
            "resumen": "Solicito copia del presupuesto aprobado y ejecutado de la Gobernación en 2026.",
            "correo": "maria.tuyuc@example.com"} | changes


def start(svc, at: datetime, categoria: str = "acceso_informacion", **changes) -> Walk:
    svc.clock.now = at
    return Walk(svc, "solicitud_ciudadana", intake(categoria, **changes), actor="ventanilla1")


def due(walk: Walk, element_id: str) -> datetime:
    """Due moment (UTC) of the waiting timer `element_id`."""
    rows = [d for (e, d, s) in walk.timers() if e == element_id and s == "waiting"]
    assert len(rows) == 1, f"{element_id}: {walk.timers()}"
    moment = rows[0] if isinstance(rows[0], datetime) else datetime.fromisoformat(str(rows[0]))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def waiting(walk: Walk) -> set[str]:
    return {e for (e, _d, s) in walk.timers() if s == "waiting"}


def alertas(walk: Walk) -> list[dict]:
    """The case's `alertas` data object (shared by the main path and the alert branches)."""
    with walk.svc.uow(write=False) as uow:
        case = read_case(uow.conn, walk.id)
        spec, subs = walk.svc.specs.get(uow.conn, case.process_version_id)
    return serializer.load_workflow(case.workflow_json, spec, subs).data_objects.get("alertas", [])


def notify(walk: Walk, at: datetime, **optional) -> Walk:
    return walk.complete("notificar_interesado", {"notificacion_forma": "correo_electronico",
                                                  "notificacion_lugar": "maria.tuyuc@example.com",
                                                  "notificacion_fecha_hora": at.isoformat(),
                                                  "notificacion_recibido_por": "María Tuyuc Chicol", **optional},
                         actor="notificador1")


# What the legal adviser drafts for the petition's resolution; the Governor's form has the same fields.
PETITION_RESOLUTION = {
    "resolucion_considerandos": ["Que la peticionaria solicitó una constancia que obra en los registros de la "
                                 "Gobernación.", "Que el área responsable informó que los registros existen."],
    "resolucion_fundamento": "Constitución art. 28; Decreto 119-96, arts. 1 y 3.",
    "resolucion_puntos": ["Se extiende la constancia solicitada."],
}


def sign(walk: Walk) -> Walk:
    walk.complete("firmar_resolucion", {**PETITION_RESOLUTION, "resolucion_decision": "favorable"},
                  actor="gobernador")
    assert walk.ready() == ["notificar_interesado"]
    return walk


EXTENSION = "La prórroga de 10 días hábiles del plazo para resolver (Decreto 57-2008, art. 43)"


# -- LAIP ------------------------------------------------------------------------------------------

def gestionar(walk: Walk, prorroga: bool = False) -> Walk:
    data = {"laip_unidades_consultadas": ["administracion_financiera"], "laip_informacion_localizada": "si",
            "laip_prorroga": prorroga}
    if prorroga:
        data["laip_prorroga_motivo"] = "La información abarca 12 meses de ejecución y debe reunirse de tres unidades."
    return walk.complete("laip_gestionar", data, actor="uip1")


def resolver_laip(walk: Walk) -> Walk:
    walk.complete("laip_resolver", {"laip_sentido": "entrega_total", "laip_modalidad_entrega": "correo_electronico",
                                    "resolucion_considerandos": ["Que la información solicitada es pública y obra "
                                                                 "en la Jefatura Administrativa-Financiera."],
                                    "resolucion_fundamento": "Decreto 57-2008, arts. 42 y 45.",
                                    "resolucion_puntos": ["Se entrega la información solicitada por correo "
                                                          "electrónico."]}, actor="uip1")
    assert walk.ready() == ["notificar_interesado"]
    return walk


@pytest.mark.parametrize("filed, deadline", [
    # Mon 30 Mar 2026 10:00: counting starts Tue 31; Holy Thursday-Saturday (2-4 Apr) skipped → Wed 15 Apr.
    (local(2026, 3, 30, 10), (2026, 4, 15)),
    # 16:30 sharp still counts that day; 16:31 counts as filed on Tue 31 Mar → one working day later.
    (local(2026, 3, 30, 16, 30), (2026, 4, 15)),
    (local(2026, 3, 30, 16, 31), (2026, 4, 16)),
    # Filed on Holy Thursday (office closed): counts as filed Mon 6 Apr → Mon 20 Apr.
    (local(2026, 4, 2, 9), (2026, 4, 20)),
    # Mon 11 Aug 2025: 15 Aug (Friday) is a working day in Chimaltenango → Mon 25 Aug, not Tue 26.
    (local(2025, 8, 11, 10), (2025, 8, 25)),
])
def test_laip_deadline_counts_working_days_from_the_next_day_with_the_1630_cutoff(svc, filed, deadline):
    walk = start(svc, filed)
    assert walk.ready() == ["laip_gestionar"]
    assert walk.data["solicitud_ruta"] == "laip"
    assert due(walk, "laip_vence_gestion") == closing(*deadline)
    assert walk.data["laip_fecha_limite"] == datetime.combine(date(*deadline), time(16, 30), tzinfo=GT).isoformat()


def test_laip_without_extension_resolved_notified_and_review_window_expires(svc):
    walk = start(svc, local(2026, 3, 30, 10))
    walk.at(local(2026, 4, 10, 9))
    gestionar(walk)
    assert walk.ready() == ["laip_resolver"]
    # The resolution step carries the same deadline (no extension).
    assert due(walk, "laip_vence_resolucion") == closing(2026, 4, 15)
    assert waiting(walk) == {"laip_vence_resolucion"}
    walk.at(local(2026, 4, 14, 11))
    resolver_laip(walk)
    assert walk.data["laip_resuelta_en_plazo"] is True
    assert walk.data["laip_alertas"] == []
    notify(walk, local(2026, 4, 14, 15))
    assert walk.ready() == ["laip_registrar_recurso"]
    # 15 working days for the review appeal from Tue 14 Apr: 1 May is a holiday → Wed 6 May.
    assert due(walk, "laip_vence_revision") == closing(2026, 5, 6)
    walk.at(closing(2026, 5, 6))
    assert walk.ready() == ["laip_registrar_recurso"] and walk.state == "running"
    walk.at(closing(2026, 5, 6) + ONE_MINUTE)
    assert walk.state == "completed"
    assert walk.ready() == []
    assert walk.history().count("timer_fired") == 1


def test_laip_extension_moves_the_deadline_and_the_timer_fires_on_the_extended_date(svc):
    # Filed Tue 14 Apr 2026 at 16:31: counts as filed Wed 15 Apr → deadline Wed 29 Apr.
    walk = start(svc, local(2026, 4, 14, 16, 31))
    assert due(walk, "laip_vence_gestion") == closing(2026, 4, 29)
    walk.at(local(2026, 4, 27, 9))
    gestionar(walk, prorroga=True)
    assert walk.ready() == ["notificar_interesado"]
    assert walk.data["laip_prorroga_aplicada"] is True
    # +10 working days from Wed 29 Apr, skipping Fri 1 May → Thu 14 May.
    assert walk.data["laip_fecha_limite"] == "2026-05-14T16:30:00-06:00"
    assert walk.data["laip_fecha_limite_original"] == "2026-04-29T16:30:00-06:00"
    assert waiting(walk) == set()  # the original deadline's timer went with the finished task
    notify(walk, local(2026, 4, 27, 12), notificacion_acto=EXTENSION, notificacion_observaciones="Aviso de prórroga.")
    assert walk.ready() == ["laip_resolver"]
    assert due(walk, "laip_vence_resolucion") == closing(2026, 5, 14)
    # The original deadline passes quietly: the extension was notified in time.
    walk.at(closing(2026, 4, 29) + ONE_MINUTE)
    assert walk.history().count("timer_fired") == 0
    walk.at(closing(2026, 5, 14))
    assert alertas(walk) == []
    walk.at(closing(2026, 5, 14) + ONE_MINUTE)
    # Non-interrupting: the resolution is still pending, the breach is recorded.
    assert walk.ready() == ["laip_resolver"]
    [alerta] = alertas(walk)
    assert (alerta["tipo"], alerta["fecha_limite"]) == ("laip_plazo_vencido", "2026-05-14T16:30:00-06:00")
    walk.at(local(2026, 5, 15, 9))
    resolver_laip(walk)
    assert walk.data["laip_resuelta_en_plazo"] is False
    assert [a["tipo"] for a in walk.data["laip_alertas"]] == ["laip_plazo_vencido"]
    notify(walk, local(2026, 5, 15, 12))
    walk.complete("laip_registrar_recurso", {"laip_recurso_fecha": local(2026, 5, 20, 9).isoformat(),
                                             "laip_recurso_motivo": "La información entregada está incompleta."})
    assert walk.ready() == ["laip_resolver_revision"]
    assert waiting(walk) == set()
    walk.complete("laip_resolver_revision", {"laip_revision_decision": "modifica",
                                             "resolucion_considerandos": ["Que la información entregada omitió "
                                                                          "dos meses de ejecución."],
                                             "resolucion_fundamento": "Decreto 57-2008, art. 60.",
                                             "resolucion_puntos": ["Se modifica la resolución recurrida.",
                                                                   "Entréguese la ejecución de los doce meses."]},
                  actor="gobernador")
    notify(walk, local(2026, 5, 26, 10))
    assert walk.state == "completed"
    assert walk.route[-3:] == ["laip_registrar_recurso", "laip_resolver_revision", "notificar_interesado"]
    # The extension's cédula names what the notifier typed (no document was issued yet); the information unit's
    # resolution and the Governor's on the review, each notified; what the first cédula said does not carry over.
    docs = assert_documents(
        walk,
        ("constancia_recepcion", None, []),
        ("cedula_notificacion", "CED-GDCH-2026-0001", [EXTENSION, "Aviso de prórroga."]),
        ("resolucion", "RES-GDCH-2026-0001", ["Decreto 57-2008, arts. 42 y 45.", "CITA DE LEYES",
                                              "I. Se entrega la información solicitada por correo electrónico.",
                                              "Encargado(a) de la Unidad de Información Pública"]),
        ("cedula_notificacion", "CED-GDCH-2026-0002", ["Resolución número RES-GDCH-2026-0001",
                                                       "Por correo electrónico dirigido a maria.tuyuc@example.com"]),
        ("resolucion", "RES-GDCH-2026-0002", ["Decreto 57-2008, art. 60.", "I. Se modifica la resolución recurrida.",
                                              "II. Entréguese la ejecución de los doce meses.", "III. NOTIFÍQUESE.",
                                              "Gobernador(a) Departamental"]),
        ("cedula_notificacion", "CED-GDCH-2026-0003", ["Resolución número RES-GDCH-2026-0002"]))
    assert not any(EXTENSION in d["text"] or "Aviso de prórroga" in d["text"] for d in docs[2:])


def test_laip_extension_asked_after_the_deadline_is_not_granted_and_the_breach_is_recorded_once(svc):
    walk = start(svc, local(2026, 3, 30, 10))
    walk.at(closing(2026, 4, 15) + ONE_MINUTE)
    assert walk.ready() == ["laip_gestionar"]  # non-interrupting
    assert [a["tipo"] for a in alertas(walk)] == ["laip_plazo_vencido"]
    gestionar(walk, prorroga=True)
    # Too late for an extension (LAIP art. 43): straight to the resolution, no notification of an extension.
    assert walk.ready() == ["laip_resolver"]
    assert walk.data["laip_prorroga_en_plazo"] is False
    assert walk.data["laip_prorroga_aplicada"] is False
    # The resolution step's timer (same deadline, already past) fires as soon as the step starts, but the
    # breach is recorded once.
    walk.later(minutes=1)
    assert waiting(walk) == set()
    assert len(alertas(walk)) == 1
    resolver_laip(walk)
    assert walk.data["laip_resuelta_en_plazo"] is False


# -- routing (DMN ruta_solicitud) --------------------------------------------------------------------

@pytest.mark.parametrize("categoria, ruta, first_task, area, institucion", [
    ("acceso_informacion", "laip", "laip_gestionar", "unidad_informacion", ""),
    ("constancia", "peticion_general", "peticion_evaluar_competencia", "secretaria", ""),
    ("queja_servicio", "peticion_general", "peticion_evaluar_competencia", "despacho", ""),
    ("apoyo_comunitario", "peticion_general", "peticion_evaluar_competencia", "enlace_codede", ""),
    ("audiencia", "peticion_general", "peticion_evaluar_competencia", "despacho", ""),
    ("orden_publico", "peticion_general", "peticion_evaluar_competencia", "despacho", ""),
    ("otro", "peticion_general", "peticion_evaluar_competencia", "asesoria_juridica", ""),
    ("denuncia_delito", "traslado", "peticion_oficio_traslado", "",
     "Ministerio Público, Fiscalía Distrital de Chimaltenango"),
    ("servicio_municipal", "traslado", "peticion_oficio_traslado", "", "Municipalidad del municipio indicado"),
    ("conflicto_tierras", "mediacion", "solicitud_derivar_mediacion", "mediacion", ""),
])
def test_category_routes_the_request(svc, categoria, ruta, first_task, area, institucion):
    walk = start(svc, local(2026, 3, 2, 9), categoria)
    assert walk.ready() == [first_task]
    data = walk.data
    assert (data["solicitud_ruta"], data["solicitud_area_sugerida"], data["solicitud_institucion_sugerida"]) == \
        (ruta, area, institucion)
    assert data["fecha_presentacion"] == local(2026, 3, 2, 9).isoformat()


def traslado(institucion: str, fecha: str) -> dict:
    """The oficio that forwards the request to the competent institution."""
    return {"oficio_destinatario": "Titular de la institución", "oficio_institucion": institucion,
            "oficio_asunto": "Traslado de solicitud por competencia",
            "oficio_cuerpo": "Se traslada la solicitud adjunta por corresponder a esa institución.",
            "oficio_adjuntos": ["Solicitud original"], "traslado_fecha": fecha}


def test_direct_forwarding_route_sends_an_oficio_and_notifies_the_citizen(svc):
    walk = start(svc, local(2026, 3, 2, 9), "denuncia_delito", asunto="Amenazas en la aldea")
    walk.complete("peticion_oficio_traslado", traslado("Ministerio Público, Fiscalía Distrital", "2026-03-03"))
    notify(walk, local(2026, 3, 3, 12))
    assert walk.state == "completed"
    assert walk.data["documento_oficio"]["numero"] == "OF-GDCH-2026-0001"
    assert_documents(
        walk,
        ("constancia_recepcion", None, []),
        ("oficio", "OF-GDCH-2026-0001", ["Ministerio Público, Fiscalía Distrital", "Solicitud original",
                                         "Traslado de solicitud por competencia", "Decreto 114-97",
                                         "Por la Gobernación Departamental"]),
        ("cedula_notificacion", "CED-GDCH-2026-0001", ["Oficio número OF-GDCH-2026-0001"]))


def test_land_conflict_is_derived_to_a_mediation_case(svc):
    walk = start(svc, local(2026, 3, 2, 9), "conflicto_tierras")
    walk.complete("solicitud_derivar_mediacion", {"derivacion_expediente_mediacion": "EXP-GDCH-2026-00077"})
    assert walk.ready() == ["notificar_interesado"]
    notify(walk, local(2026, 3, 3, 12))
    assert walk.state == "completed"


def test_intake_needs_a_phone_when_no_email_is_given(svc):
    data = intake()
    del data["correo"]
    with pytest.raises(FormInvalid) as err:
        svc.forms.validate("solicitud_ciudadana", data)
    assert [e["field"] for e in err.value.errors] == ["telefono"]
    assert svc.forms.validate("solicitud_ciudadana", data | {"telefono": "5512 3456"})


def test_a_request_without_email_or_phone_is_refused_and_no_case_is_created(svc):
    data = intake()
    del data["correo"]
    with pytest.raises(FormInvalid) as err:
        Walk(svc, "solicitud_ciudadana", data)
    assert [e["field"] for e in err.value.errors] == ["telefono"]
    with svc.uow(write=False) as uow:
        assert uow.conn.exec_driver_sql("SELECT count(*) FROM cases").scalar() == 0


# -- general petition -------------------------------------------------------------------------------

def competencia(walk: Walk, competente: bool) -> Walk:
    data = {"peticion_competente": competente, "peticion_competencia_razon": "Decreto 114-97, art. 47."}
    data |= {"peticion_area_responsable": "secretaria"} if competente else \
        {"peticion_institucion_competente": "Registro Nacional de las Personas (RENAP)"}
    return walk.complete("peticion_evaluar_competencia", data, actor="juridico1")


def providencia(walk: Walk) -> Walk:
    walk.complete("peticion_providencia", {"providencia_unidad": "secretaria",
                                           "providencia_instrucciones": "Informe si existen registros del caso."})
    assert walk.ready() == ["peticion_informe_area"]
    return walk


def informe(walk: Walk, listo: bool, fecha: str) -> Walk:
    return walk.complete("peticion_informe_area", {"informe_area_fecha": fecha, "informe_expediente_listo": listo,
                                                   "informe_area_resumen": "Constan los registros solicitados."})


def proyectar(walk: Walk) -> Walk:
    walk.complete("peticion_proyectar_resolucion", {"proyecto_sentido": "favorable", **PETITION_RESOLUTION},
                  actor="juridico1")
    assert walk.ready() == ["firmar_resolucion"]
    return walk


def test_not_competent_petition_opens_the_forwarding_oficio_and_waits_for_it(svc):
    # The oficio is drafted, signed and sent in the correspondence case the petition opens; the petition waits for
    # its notice, then notifies the citizen (walked in test_traslado_por_competencia.py).
    walk = start(svc, local(2026, 3, 2, 9), "otro")
    competencia(walk, competente=False)
    assert walk.ready() == [] and walk.state == "running"
    assert walk.data["peticion_fecha_limite"] == closing(2026, 4, 15).isoformat()
    assert due(walk, "peticion_vence_traslado") == closing(2026, 4, 15)
    with walk.svc.uow(write=False) as uow:
        [opened] = messaging.linked_cases(uow.conn, walk.id)
    assert (opened["process_key"], opened["direction"]) == ("correspondencia_oficial", "derivado")
    assert "peticion_providencia" not in walk.route and "peticion_oficio_traslado" not in walk.route


def test_petition_30_working_day_deadline_with_non_interrupting_alerts_at_days_20_and_25(svc):
    walk = start(svc, local(2026, 5, 4, 10), "constancia")
    competencia(walk, competente=True)
    assert walk.ready() == ["peticion_providencia"]
    providencia(walk)
    # Area report: 5 working days from Mon 4 May → Mon 11 May; a reminder, the report stays pending.
    assert due(walk, "peticion_recordatorio_informe") == closing(2026, 5, 11)
    walk.at(closing(2026, 5, 11))
    assert alertas(walk) == []
    walk.at(closing(2026, 5, 11) + ONE_MINUTE)
    assert walk.ready() == ["peticion_informe_area"]
    assert [a["tipo"] for a in alertas(walk)] == ["informe_area_vencido"]
    # The report asks for more: a new providencia, and a new 5-day reminder from Tue 12 May → Tue 19 May.
    walk.at(local(2026, 5, 12, 9))
    informe(walk, listo=False, fecha="2026-05-12")
    assert walk.ready() == ["peticion_providencia"]
    providencia(walk)
    assert due(walk, "peticion_recordatorio_informe") == closing(2026, 5, 19)
    # Ready to resolve on Mon 1 Jun 2026 (the second reminder, due Tue 19 May, fired meanwhile).
    walk.at(local(2026, 6, 1, 10))
    assert [a["tipo"] for a in alertas(walk)] == ["informe_area_vencido", "informe_area_vencido"]
    informe(walk, listo=True, fecha="2026-06-01")
    assert walk.ready() == ["peticion_proyectar_resolucion"]
    assert walk.data["peticion_fecha_listo"] == local(2026, 6, 1, 10).isoformat()
    # Working days from Tue 2 Jun; Army Day is Mon 29 Jun in 2026 (moved from Tuesday 30, Decreto 19-2018):
    # day 20 = Tue 30 Jun, day 25 = Tue 7 Jul, day 30 = Tue 14 Jul.
    assert due(walk, "peticion_alerta_dia_20") == closing(2026, 6, 30)
    assert due(walk, "peticion_alerta_dia_25") == closing(2026, 7, 7)
    assert due(walk, "peticion_plazo_vencido") == closing(2026, 7, 14)
    walk.at(closing(2026, 6, 30))
    assert walk.history().count("timer_fired") == 2  # only the two area reminders so far
    walk.at(closing(2026, 6, 30) + ONE_MINUTE)
    # The alert is recorded and the resolution work goes on: NOT interrupted.
    assert walk.ready() == ["peticion_proyectar_resolucion"]
    assert [a["tipo"] for a in alertas(walk)][-1] == "peticion_dia_20"
    assert waiting(walk) == {"peticion_alerta_dia_25", "peticion_plazo_vencido"}
    walk.at(closing(2026, 7, 7) + ONE_MINUTE)
    assert walk.ready() == ["peticion_proyectar_resolucion"]
    assert [a["tipo"] for a in alertas(walk)][-1] == "peticion_dia_25"
    walk.at(local(2026, 7, 8, 9))
    proyectar(walk)
    sign(walk)
    # Day 30 passes while the notification is pending: recorded, the notification still due.
    walk.at(closing(2026, 7, 14) + ONE_MINUTE)
    assert walk.ready() == ["notificar_interesado"]
    assert [a["tipo"] for a in alertas(walk)][-1] == "peticion_plazo_vencido"
    assert waiting(walk) == set()
    walk.at(local(2026, 7, 15, 9))
    notify(walk, local(2026, 7, 15, 8, 45))
    data = walk.data
    assert data["peticion_resuelta_en_plazo"] is False
    assert [a["tipo"] for a in data["peticion_alertas"]] == [
        "informe_area_vencido", "informe_area_vencido", "peticion_dia_20", "peticion_dia_25", "peticion_plazo_vencido"]
    assert (data["documento_resolucion"]["numero"], data["resolucion_decision"]) == ("RES-GDCH-2026-0001", "favorable")
    # Appeal window: 5 working days from Wed 15 Jul → Wed 22 Jul; nobody appeals, the resolution is final.
    assert walk.ready() == ["peticion_registrar_recurso"]
    assert due(walk, "peticion_vence_recurso") == closing(2026, 7, 22)
    walk.at(closing(2026, 7, 22))
    assert walk.state == "running"
    walk.at(closing(2026, 7, 22) + ONE_MINUTE)
    assert walk.state == "completed"


def test_petition_resolved_in_time_raises_no_alert_and_an_appeal_is_elevated(svc):
    walk = start(svc, local(2026, 6, 1, 9), "audiencia")
    competencia(walk, competente=True)
    providencia(walk)
    walk.at(local(2026, 6, 3, 9))
    informe(walk, listo=True, fecha="2026-06-03")
    assert due(walk, "peticion_plazo_vencido") == closing(2026, 7, 16)
    walk.at(local(2026, 6, 10, 9))
    proyectar(walk)
    sign(walk)
    notify(walk, local(2026, 6, 10, 15))
    data = walk.data
    assert data["peticion_resuelta_en_plazo"] is True
    assert data["peticion_alertas"] == []
    assert waiting(walk) == {"peticion_vence_recurso"}
    assert due(walk, "peticion_vence_recurso") == closing(2026, 6, 17)
    walk.at(local(2026, 6, 17, 16))
    walk.complete("peticion_registrar_recurso", {
        "peticion_recurso_tipo": "revocatoria", "peticion_recurso_fecha": local(2026, 6, 17, 15).isoformat(),
        "peticion_recurso_argumentos": "No se consideró la solicitud de audiencia urgente."})
    assert walk.ready() == ["peticion_tramitar_recurso"]
    walk.complete("peticion_tramitar_recurso", {
        "oficio_destinatario": "Ministro de Gobernación", "oficio_institucion": "Ministerio de Gobernación",
        "oficio_asunto": "Se eleva recurso de revocatoria con informe",
        "oficio_cuerpo": "Se eleva con el expediente completo el recurso interpuesto el 17 de junio de 2026."},
        actor="juridico1")
    assert walk.state == "completed"
    # Later dates fire nothing: every timer of the case was cancelled when its step ended.
    walk.at(closing(2026, 7, 31))
    assert walk.history().count("timer_fired") == 0
    assert_documents(
        walk,
        ("constancia_recepcion", None, []),
        ("providencia", "PROV-GDCH-2026-0001", ["Pase a Secretaría de la Gobernación para",
                                                "Informe si existen registros del caso.", "Decreto 119-96"]),
        ("resolucion", "RES-GDCH-2026-0001", ["Constitución art. 28; Decreto 119-96, arts. 1 y 3.",
                                              "CONSIDERANDO: Que el área responsable informó que los registros existen.",
                                              "I. Se extiende la constancia solicitada.", "II. NOTIFÍQUESE."]),
        ("cedula_notificacion", "CED-GDCH-2026-0001", ["Resolución número RES-GDCH-2026-0001"]),
        # The appeal goes up to the Ministry by oficio, with the report.
        ("oficio", "OF-GDCH-2026-0001", ["Ministerio de Gobernación", "Se eleva recurso de revocatoria con informe",
                                         "Se eleva con el expediente completo", "Asesoría Jurídica, por la "
                                         "Gobernación Departamental"]))


# -- both database backends ---------------------------------------------------------------------------

def test_smoke_laip_walk_on_both_backends(database_url, clock):
    svc = office(database_url, clock)
    try:
        walk = start(svc, local(2026, 3, 30, 10))
        gestionar(walk)
        resolver_laip(walk)
        notify(walk, local(2026, 3, 31, 12))
        assert due(walk, "laip_vence_revision") == closing(2026, 4, 23)
        walk.at(closing(2026, 4, 23) + ONE_MINUTE)
        assert walk.state == "completed"
    finally:
        svc.db.dispose()
