"""Procedure A (licencias y autorizaciones) walked along every path, saving and reloading between steps.

Dates are chosen to cross the calendar's hard spots: Holy Week 2026 (2-4 April), Army Day 2026 (moved to
Monday 29 June) and Chimaltenango's fair day (Monday 26 July 2027).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine.usecases import cases
from engine.storage import models
from engine.timekeeping.legal_deadlines import CATALOGUE, OWNER_CITIZEN
from engine.usecases.deploy import deploy_files, read_paths
from engine.documents.codes import parse_verification_code
from engine.errors import FormInvalid
from forms.validators import FORMAT_MESSAGES
from engine.usecases import delivery, messaging
from tests.conftest import SYSTEM, principal_for
from tests.processes.case_documents import assert_documents
from tests.processes.driver import PROCESSES, office, Walk
from tests.processes.institution_walk import reply, waits
from tests.processes.licencia_walk import (
    DPI_ANA, appeal, certificate, closing, dictamen, due, intake,  local, notify, opinion, receive,
    request_opinions, resolve_appeal, review, sign, start, to_opinions,
)

ONE_MINUTE = timedelta(minutes=1)


def licence_code(data: dict) -> str:
    """The certificate's verification code: the issued licence document's random code (engine.documents.codes),
    not anything derived from the case's data."""
    code = data["documento_licencia"]["codigo"]
    assert parse_verification_code(code) == code
    return code


def waiting(walk: Walk) -> set[str]:
    return {e for (e, _d, s) in walk.timers() if s == "waiting"}


def opinions_in_time(walk: Walk) -> Walk:
    """Opinions asked when the file was found complete (Mon 30 Mar 2026), both answered Mon 6 Apr (after Holy
    Week) on their reply links."""
    request_opinions(walk)
    walk.svc.clock.now = local(2026, 4, 6, 11)
    opinion(walk, "pnc")
    assert walk.ready() == []
    opinion(walk, "coordinador", sentido="favorable_con_recomendaciones")
    assert walk.ready() == ["elaborar_dictamen"]
    return walk


# -- requirements by kind (DMN) -------------------------------------------------------------------

@pytest.mark.parametrize("kind, requirements, coordinator", [
    ("espectaculo_publico", ["Aval del Ministerio de Cultura y Deportes", "Plan de seguridad avalado por CONRED",
                             "Licencia municipal de sonido"], True),
    ("actividad_via_publica", ["Croquis del recorrido"], True),
    ("rifa_sorteo", ["Fianza que garantiza la entrega de los premios", "Listado de premios con su valor"], False),
    ("colecta_publica", ["Acta municipal de registro del comité"], False),
])
def test_each_kind_gets_its_requirements_and_opinions_from_the_table(svc, kind, requirements, coordinator):
    walk = receive(start(svc, kind, at=local(2026, 3, 30, 9)))
    data = walk.data
    assert data["requisitos"] == requirements
    assert data["requiere_opinion_pnc"] is True
    assert data["requiere_opinion_coordinador"] is coordinator
    review(walk)
    request_opinions(walk)
    expected = ["coordinador", "pnc"] if coordinator else ["pnc"]
    assert walk.ready() == []  # no clerk's step: the case waits for the institutions
    assert sorted(e for (e, _d, s) in walk.timers() if s == "waiting") == [f"vence_opinion_{w}" for w in expected]
    assert sorted(w[0] for w in waits(svc, walk.id) if w[2] == "waiting") == \
        [f"recibir_opinion_{w}" for w in expected]


# -- approval ---------------------------------------------------------------------------------------

def test_event_approved_with_both_opinions_is_certified_and_becomes_final(svc):
    walk = start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9))
    assert walk.task("emitir_constancia")["candidate_group"] == "ventanilla"
    to_opinions(walk)
    # Ready to resolve on Mon 30 Mar: 15 working days (Holy Thursday and Good Friday skipped) → Wed 22 Apr.
    assert walk.data["respuesta_vence"] == closing(date(2026, 4, 22)).isoformat()
    opinions_in_time(walk)
    assert [s for (e, _d, s) in walk.timers()] == ["cancelled", "cancelled"]
    assert walk.task("elaborar_dictamen")["candidate_group"] == "juridico"
    dictamen(walk, "favorable")
    assert walk.task("firmar_resolucion")["candidate_group"] == "despacho"
    sign(walk, "favorable")
    assert walk.task("notificar_interesado")["candidate_group"] == "notificador"
    # Notified Fri 26 Jun 2026: Army Day is Mon 29 Jun, so 5 working days end Mon 6 Jul.
    walk.svc.clock.now = local(2026, 6, 26, 11)
    notify(walk, local(2026, 6, 26, 10))
    assert walk.ready() == ["emitir_certificado"]
    assert walk.data["fecha_notificacion"] == local(2026, 6, 26, 10).isoformat()
    certificate(walk)
    data = walk.data
    assert re.fullmatch(r"LIC-GDCH-2026-\d{4}", data["documento_licencia"]["numero"])
    licence_code(data)
    assert "codigo_verificacion" not in data  # the old unkeyed hash is gone
    assert data["certificado_emitido"] is True and data["licencia_otorgada"] is True
    assert walk.ready() == ["registrar_recurso"]
    assert due(walk, "vence_plazo_recurso") == closing(date(2026, 7, 6))
    walk.at(closing(date(2026, 7, 6)) - ONE_MINUTE)
    assert walk.ready() == ["registrar_recurso"] and walk.state == "running"
    walk.at(closing(date(2026, 7, 6)) + ONE_MINUTE)
    assert walk.ready() == [] and walk.state == "completed"
    data = walk.data
    assert data["estado_licencia"] == "otorgada" and data["resolucion_firme"] is True
    assert data["resolucion_decision"] == "favorable"
    assert re.fullmatch(r"RES-GDCH-2026-\d{4}", data["documento_resolucion"]["numero"])
    assert data["resolucion_fundamento"].startswith("Decreto 574")
    assert walk.route == ["emitir_constancia", "revisar_completitud", "elaborar_dictamen", "firmar_resolucion",
                          "notificar_interesado", "emitir_certificado"]
    assert walk.data["opinion_conred"]["respuesta"].startswith("Opinión favorable con recomendaciones")
    assert walk.history().count("timer_fired") == 1
    docs = assert_documents(
        walk,
        ("constancia_recepcion", None, ["Festival de la Feria", "Ana Lucía Xicará"]),
        # The requests' oficios, issued by the service tasks (the institutions' records; due in 5 working days).
        ("oficio", "OF-GDCH-2026-0001", ["Jefe(a) de la comisaría", "Policía Nacional Civil (PNC)", "Decreto 114-97",
                                         "Solicitud de opinión sobre el orden público y la seguridad: Festival",
                                         "8 de abril de 2026", "Por la Gobernación Departamental"]),
        ("oficio", "OF-GDCH-2026-0002", ["CONRED, coordinación departamental de gestión de riesgo",
                                         "Solicitud de opinión sobre gestión de riesgo: Festival de la Feria"]),
        ("dictamen", "DICT-GDCH-2026-0001", ["Decreto 574, art. 1; Decreto 114-97, art. 47.", "no una resolución",
                                             "Solicitud presentada con el plan de seguridad",
                                             "Procede otorgar la licencia con las condiciones indicadas."]),
        ("resolucion", "RES-GDCH-2026-0001", ["Decreto 574, art. 1; Decreto 119-96, art. 3.", "CITA DE LEYES",
                                              "CONSIDERANDO: Que la Policía Nacional Civil opinó favorablemente.",
                                              "I. Se autoriza el evento en las condiciones indicadas.",
                                              "II. NOTIFÍQUESE.", "Ana Lucía Cutzal"]),
        ("cedula_notificacion", "CED-GDCH-2026-0001", ["26 de junio de 2026, a las 10:00 horas", "Decreto 119-96",
                                                       "Resolución número RES-GDCH-2026-0001",
                                                       "Oficina de la Gobernación"]),
        ("licencia", "LIC-GDCH-2026-0001", ["conforme a la resolución RES-GDCH-2026-0001", "Decreto 114-97",
                                            "Festival de la Feria", "Parque central", "800 personas",
                                            "del 20 de diciembre de 2027 al 21 de diciembre de 2027",
                                            "Finalizar a las 23:00."]))
    # The resolution's co-signer signs the resolution only, not the later cédula and licence.
    assert ["cosigner" in d["signers_json"] for d in docs] == [False] * 4 + [True, False, False]
    # The certificate's code is the issued document's, printed on it (and findable on /verificar).
    assert docs[-1]["verification_code"] == licence_code(data) and licence_code(data) in docs[-1]["text"]


def test_verification_code_differs_between_certificates(svc):
    codes = set()
    numbers = []
    for _ in range(2):
        walk = to_opinions(start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9)))
        opinions_in_time(walk)
        sign(dictamen(walk))
        notify(walk, local(2026, 4, 7))
        data = certificate(walk).data
        codes.add(licence_code(data))
        numbers.append(data["documento_licencia"]["numero"])
    assert len(codes) == 2
    assert numbers == ["LIC-GDCH-2026-0001", "LIC-GDCH-2026-0002"]  # numbered per kind and year, no gaps


def test_each_opinion_request_issues_its_oficio_and_mails_its_reply_link(svc):
    walk = to_opinions(start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9)))
    data = walk.data
    assert [data[f"solicitud_{w}"]["documento"]["numero"] for w in ("pnc", "coordinador")] == \
        ["OF-GDCH-2026-0001", "OF-GDCH-2026-0002"]
    assert data["solicitud_pnc"]["vence"] == closing(date(2026, 4, 8)).isoformat()
    assert data["solicitud_pnc"]["solicitud"] != data["solicitud_coordinador"]["solicitud"]
    assert not any("/responder/" in str(value) for value in data.values())  # the links are not the staff's
    assert walk.history().count("institution_requested") == 2


# -- opinions late ----------------------------------------------------------------------------------

def test_opinions_not_received_in_time_the_case_continues_without_them(svc):
    walk = to_opinions(start(svc, "actividad_via_publica", at=local(2026, 3, 30, 9)))
    # Asked Mon 30 Mar: 31, Apr 1, (Holy Thu 2, Good Fri 3, Holy Sat 4, Sun 5), 6, 7, 8 → due Wed 8 Apr 16:30.
    request_opinions(walk)
    assert due(walk, "vence_opinion_pnc") == due(walk, "vence_opinion_coordinador") == closing(date(2026, 4, 8))
    walk.at(closing(date(2026, 4, 8)) - ONE_MINUTE)
    assert walk.ready() == []
    walk.at(closing(date(2026, 4, 8)) + ONE_MINUTE)
    assert walk.ready() == ["elaborar_dictamen"]
    data = walk.data
    assert data["opinion_pnc_sentido"] == data["opinion_coordinador_sentido"] == "sin_respuesta"
    assert walk.history().count("timer_fired") == 2
    # The police answer the next day, on a link that still takes answers: the case went on without them, so the
    # message is kept pending with its reason, in the supervisors' list, and never reaches the dictamen's data.
    walk.at(local(2026, 4, 9, 10))
    late = reply(walk, "solicitud_pnc", "Opinión favorable (tardía).")
    kept = messaging.get_message(svc, SYSTEM, late["message_id"])
    assert kept["state"] == "pending" and kept["reason"]
    assert late["message_id"] in {m["id"] for m in messaging.list_messages(svc, SYSTEM, state="pending")["items"]}
    assert "opinion_pnc" not in walk.data and walk.ready() == ["elaborar_dictamen"]
    # Nothing ever claims it: past the keeping time of early messages it is undeliverable, still listed.
    walk.later(days=svc.settings.message_pending_days + 1)
    delivery.deliver_queued(svc, sweep=True)
    assert messaging.get_message(svc, SYSTEM, late["message_id"])["state"] == "undeliverable"


def test_an_opinion_posted_before_the_case_asks_for_it_is_kept_and_taken_when_it_waits(svc):
    walk = receive(start(svc, "actividad_via_publica", at=local(2026, 3, 30, 9)))
    early = messaging.post_message(svc, SYSTEM, "opinion_pnc", {"caso": walk.id},
                                   {"respuesta": "Sin objeción de la comisaría (adelantada por teléfono)."})
    assert early["state"] == "pending" and walk.case.number in early["reason"]
    review(walk)
    # The PNC's wait started when the file was found complete: the early opinion was delivered to it at once.
    assert messaging.get_message(svc, SYSTEM, early["id"])["state"] == "delivered"
    assert walk.data["opinion_pnc"]["respuesta"].startswith("Sin objeción")
    assert waiting(walk) == {"vence_opinion_coordinador"} and walk.ready() == []
    opinion(walk, "coordinador")
    assert walk.ready() == ["elaborar_dictamen"]


def test_police_answers_in_time_and_the_coordinator_does_not(svc):
    walk = to_opinions(start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9)))
    request_opinions(walk)
    walk.svc.clock.now = local(2026, 4, 8)
    opinion(walk, "pnc", sentido="favorable_con_recomendaciones")
    assert walk.ready() == [] and waiting(walk) == {"vence_opinion_coordinador"}
    walk.at(closing(date(2026, 4, 8)) + ONE_MINUTE)
    assert walk.ready() == ["elaborar_dictamen"]
    assert dict((e, s) for (e, _d, s) in walk.timers()) == {"vence_opinion_pnc": "cancelled",
                                                           "vence_opinion_coordinador": "fired"}
    data = walk.data
    assert data["opinion_pnc"]["respuesta"].startswith("Opinión favorable con recomendaciones")
    assert "opinion_pnc_sentido" not in data
    assert data["opinion_coordinador_sentido"] == "sin_respuesta"


def test_collection_skips_the_police_when_the_table_says_so(svc):
    # The office may change the table without touching the diagram: a variant where collections need no PNC.
    files = read_paths([PROCESSES])
    table = files["requisitos_licencia.dmn"].decode()
    changed = re.sub(r'(<outputEntry id="regla_colecta_publica_pnc"><text>)True', r"\1False", table)
    assert changed != table
    deploy_files(svc, {**files, "requisitos_licencia.dmn": changed.encode()}, actor="tests")
    walk = to_opinions(start(svc, "colecta_publica", at=local(2026, 3, 30, 9)))
    assert walk.data["requiere_opinion_pnc"] is False
    request_opinions(walk, local(2026, 3, 31))
    assert walk.ready() == ["elaborar_dictamen"]
    assert walk.timers() == []
    assert "opinion_pnc_sentido" not in walk.data


# -- denial and appeals -----------------------------------------------------------------------------

def to_denial_notified(svc, kind: str, notified):
    walk = to_opinions(start(svc, kind, at=local(2026, 3, 30, 9)))
    request_opinions(walk, local(2026, 3, 31))
    walk.svc.clock.now = local(2026, 4, 6)
    opinion(walk, "pnc", local(2026, 4, 6), "desfavorable")
    if kind in ("espectaculo_publico", "actividad_via_publica"):
        opinion(walk, "coordinador", local(2026, 4, 6), "desfavorable")
    sign(dictamen(walk, "desfavorable"), "desfavorable")
    walk.svc.clock.now = notified
    notify(walk, notified)
    assert walk.ready() == ["registrar_recurso"]  # no certificate for a denial
    return walk


def test_raffle_denied_without_appeal_becomes_final(svc):
    # Notified Wed 21 Jul 2027: 22, 23, (Sat, Sun, Santa Ana Mon 26), 27, 28, 29 → due Thu 29 Jul.
    walk = to_denial_notified(svc, "rifa_sorteo", local(2027, 7, 21, 9))
    assert due(walk, "vence_plazo_recurso") == closing(date(2027, 7, 29))
    walk.at(closing(date(2027, 7, 29)) - ONE_MINUTE)
    assert walk.ready() == ["registrar_recurso"]
    walk.at(closing(date(2027, 7, 29)) + ONE_MINUTE)
    assert walk.state == "completed"
    data = walk.data
    assert data["estado_licencia"] == "denegada" and data["resolucion_firme"] is True
    assert data["licencia_otorgada"] is False and "documento_licencia" not in data
    assert "emitir_certificado" not in walk.route


def test_denial_appealed_and_upheld_issues_the_licence(svc):
    walk = to_denial_notified(svc, "espectaculo_publico", local(2026, 6, 26, 10))
    # Filed on the last day of the window (Mon 6 Jul, Army Day skipped): the timer is cancelled.
    walk.svc.clock.now = local(2026, 7, 6, 16)
    appeal(walk, local(2026, 7, 6, 16))
    assert [s for (e, _d, s) in walk.timers() if e == "vence_plazo_recurso"] == ["cancelled"]
    assert walk.task("resolver_recurso")["candidate_group"] == "juridico"
    resolve_appeal(walk, "con_lugar")
    notify(walk, local(2026, 7, 20, 10))
    assert walk.ready() == ["emitir_certificado"]
    certificate(walk)
    assert walk.state == "completed"
    data = walk.data
    assert data["estado_licencia"] == "otorgada" and data["recurso_resuelto"] is True
    licence_code(data)
    assert data["fecha_notificacion"] == local(2026, 7, 20, 10).isoformat()  # the appeal's notification
    assert walk.route[-4:] == ["registrar_recurso", "resolver_recurso", "notificar_interesado", "emitir_certificado"]
    # A denial and its cédula, the appeal's cédula, then the licence, citing the denial and the appeal's
    # resolution that revoked it (recorded by its number: resolver_recurso issues no document).
    assert_documents(
        walk,
        ("constancia_recepcion", None, []),
        ("oficio", "OF-GDCH-2026-0001", ["Policía Nacional Civil"]),
        ("oficio", "OF-GDCH-2026-0002", ["CONRED, coordinación departamental de gestión de riesgo"]),
        ("dictamen", "DICT-GDCH-2026-0001", ["NO PROCEDE"]),
        ("resolucion", "RES-GDCH-2026-0001", ["CITA DE LEYES"]),
        ("cedula_notificacion", "CED-GDCH-2026-0001", ["26 de junio de 2026"]),
        ("cedula_notificacion", "CED-GDCH-2026-0002", ["20 de julio de 2026"]),
        ("licencia", "LIC-GDCH-2026-0001", ["conforme a la resolución RES-GDCH-2026-0001",
                                            "revocada o modificada por la resolución RES-GDCH-2026-0150"]))


def test_denial_appealed_and_rejected_stays_denied(svc):
    walk = to_denial_notified(svc, "actividad_via_publica", local(2026, 6, 26, 10))
    appeal(walk, local(2026, 6, 30, 9))
    resolve_appeal(walk, "sin_lugar")
    notify(walk, local(2026, 7, 14, 10))
    assert walk.ready() == [] and walk.state == "completed"
    data = walk.data
    assert data["estado_licencia"] == "denegada" and data["recurso_decision"] == "sin_lugar"
    assert "documento_licencia" not in data


def test_approval_appealed_keeps_its_single_certificate(svc):
    walk = to_opinions(start(svc, "colecta_publica", at=local(2026, 3, 30, 9)))
    request_opinions(walk, local(2026, 3, 31))
    opinion(walk, "pnc", local(2026, 4, 1))
    sign(dictamen(walk))
    notify(walk, local(2026, 4, 14, 10))
    certificate(walk)
    code = licence_code(walk.data)
    appeal(walk, local(2026, 4, 15, 10))  # e.g. against the conditions
    resolve_appeal(walk, "con_lugar")
    notify(walk, local(2026, 4, 28, 10))
    assert walk.state == "completed"
    assert walk.route.count("emitir_certificado") == 1
    data = walk.data
    assert data["estado_licencia"] == "otorgada" and licence_code(data) == code


# -- intake validation --------------------------------------------------------------------------------

def count(svc, table) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(table)).scalar_one()


def wrong_dpi() -> str:
    return DPI_ANA[:8] + str((int(DPI_ANA[8]) + 1) % 10) + DPI_ANA[9:]  # bad check digit


def test_intake_form_refuses_a_wrong_dpi_naming_the_field_in_spanish(svc):
    with pytest.raises(FormInvalid) as refused:
        svc.forms.validate("licencia_solicitud", intake(solicitante_dpi=wrong_dpi()))
    assert refused.value.errors == [{"field": "solicitante_dpi", "message": FORMAT_MESSAGES["cui"],
                                     "keyword": "format"}]
    assert refused.value.message == "El formulario tiene errores; corríjalos y envíelo de nuevo."


def test_wrong_dpi_is_refused_and_nothing_is_created(svc):
    with pytest.raises(FormInvalid) as refused:
        cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake(solicitante_dpi=wrong_dpi()))
    assert [e["field"] for e in refused.value.errors] == ["solicitante_dpi"]
    assert count(svc, models.cases) == 0 and count(svc, models.tasks) == 0 and count(svc, models.timers) == 0


def test_case_row_shows_the_applicant_and_event_from_the_intake(svc):
    started = cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake())
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(select(models.cases).where(models.cases.c.id == started.id)).mappings().one()
    assert (row["applicant_name"], row["applicant_dpi"], row["municipality"], row["title"]) == \
        ("Ana Lucía Xicará", DPI_ANA, "Chimaltenango", "Festival de la Feria")


@pytest.mark.parametrize("kind, missing", [
    ("rifa_sorteo", "fianza_numero"), ("rifa_sorteo", "premios"), ("actividad_via_publica", "recorrido"),
    ("espectaculo_publico", "evento_aforo"), ("colecta_publica", "representante_legal"),
    ("colecta_publica", "comite_miembros"),
])
def test_what_each_kind_requires_is_refused_when_missing(svc, kind, missing):
    data = intake(kind)
    del data[missing]
    with pytest.raises(FormInvalid) as refused:
        svc.forms.validate("licencia_solicitud", data)
    assert [(e["field"], e["message"]) for e in refused.value.errors] == [(missing, "Este campo es obligatorio.")]


def test_a_raffle_needs_at_least_one_prize_and_members_need_a_valid_dpi(svc):
    with pytest.raises(FormInvalid) as refused:
        svc.forms.validate("licencia_solicitud", intake("rifa_sorteo", premios=[]))
    assert [(e["field"], e["message"]) for e in refused.value.errors] == \
        [("premios", "Liste al menos un premio con su valor.")]
    members = [{"nombre": "Luis Cúmez", "dpi": wrong_dpi(), "cargo": "Presidente"}]
    with pytest.raises(FormInvalid) as refused:
        svc.forms.validate("licencia_solicitud", intake("colecta_publica", comite_miembros=members))
    assert [e["field"] for e in refused.value.errors] == ["comite_miembros/0/dpi"]


def test_event_date_in_the_past_and_bad_phone_are_refused(svc, clock):
    clock.now = local(2026, 3, 30, 9)
    with pytest.raises(FormInvalid) as refused:
        svc.forms.validate("licencia_solicitud", intake(evento_fecha="2026-03-29", contacto_telefono="1234"))
    assert {e["field"]: e["message"] for e in refused.value.errors} == {
        "contacto_telefono": FORMAT_MESSAGES["phone-gt"], "evento_fecha": FORMAT_MESSAGES["date-not-past"]}
    assert svc.forms.validate("licencia_solicitud", intake(evento_fecha="2026-03-30"))  # today is fine


# -- both backends ------------------------------------------------------------------------------------

def test_approval_walk_on_each_database(database_url, clock):
    svc = office(database_url, clock)
    try:
        walk = to_opinions(start(svc, "rifa_sorteo", at=local(2026, 3, 30, 9)))
        request_opinions(walk)
        walk.at(closing(date(2026, 4, 8)) + ONE_MINUTE)  # the police never answered
        sign(dictamen(walk))
        notify(walk, local(2026, 6, 26, 10))
        certificate(walk)
        assert due(walk, "vence_plazo_recurso") == closing(date(2026, 7, 6))
        walk.at(closing(date(2026, 7, 6)) + ONE_MINUTE)
        assert walk.state == "completed"
        assert walk.data["estado_licencia"] == "otorgada"
        assert walk.data["opinion_pnc_sentido"] == "sin_respuesta"
    finally:
        svc.db.dispose()


# -- the citizen's windows ------------------------------------------------------------------------------

@pytest.mark.parametrize("file, task, key, setting", [
    ("comun_revision_completitud.bpmn", "recibir_subsanacion", "subsanacion", "subsanacion_dias"),
    ("licencia.bpmn", "registrar_recurso", "recurso_revocatoria", "apelacion_dias"),
])
def test_a_citizens_window_is_a_row_of_the_citizen_not_a_deadline_of_the_staff_task_waiting_on_it(
        file, task, key, setting):
    """The time to fix a previo or to appeal is the citizen's: the clerk's task that waits for it has no deadline of
    its own (it would turn overdue when nobody appeals); the window is the citizen's legal deadline row, closed by
    the task (used) or by its timer (expired), counted with the setting the timer reads."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    root = etree.parse(str(PROCESSES / file)).getroot()
    [element] = root.xpath(f"//bpmn:userTask[@id='{task}']", namespaces=ns)
    assert not element.xpath(".//spiffworkflow:property[@name='deadlineWorkingDays']", namespaces=ns)
    assert element.xpath(".//spiffworkflow:property[@name='plazoLegal']/@value", namespaces=ns) == [f"cierra:{key}"]
    [timer] = root.xpath(f"//bpmn:boundaryEvent[@attachedToRef='{task}']", namespaces=ns)
    assert timer.xpath(".//spiffworkflow:property[@name='plazoLegal']/@value", namespaces=ns) == [f"cierra:{key}"]
    assert CATALOGUE[key].owner == OWNER_CITIZEN and CATALOGUE[key].days_setting == setting
    reads = timer.xpath(".//bpmn:timeDate/text()", namespaces=ns)[0]
    if "plazo(" not in reads:
        reads = root.xpath("//bpmn:scriptTask[@id='calcular_plazo_subsanacion']/bpmn:script/text()", namespaces=ns)[0]
    assert f'plazo("{setting}")' in reads
