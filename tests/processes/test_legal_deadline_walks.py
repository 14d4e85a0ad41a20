"""The remaining legal deadlines (docs/legal_deadlines.md) walked through their procedures, each row of
`legal_deadlines` checked against dates counted by hand: its key, owner, owner group, days, start and due moment,
how it ends, and the due moment the office's open tasks show ("Vence", only for the office's own deadlines); and
closure days added mid-way (one removed again) moving the row, the timer the diagram waits on and the tasks.

Counting (engine/timekeeping/calendar.py): working days skip weekends, Guatemala's holidays (Holy Thursday and
Friday, 1 May, Army Day moved to Monday 29 June 2026, 15 September, 1 January…), the local fair (26 July) and the
office's closure days; 24 and 31 December are half days (noon); counting starts the day after; a deadline falls
due at 16:30 office time (UTC-6).
"""
from __future__ import annotations

from datetime import date, timedelta

from engine.usecases import closures
from tests.conftest import principal_for
from tests.processes.driver import closing, local
from tests.processes.test_legal_deadlines import rows, task_due

ADMIN = principal_for("admin")
ONE_MINUTE = timedelta(minutes=1)


def timer_due(walk, element_id: str):
    """The due moment (UTC) of the case's one waiting timer `element_id`."""
    from tests.processes.test_solicitud_ciudadana import due
    return due(walk, element_id)


def close_day(svc, day: date, at) -> dict:
    """The administrator declares `day` a closure day at `at`; what moved."""
    svc.clock.now = at
    return closures.add_closure(svc, ADMIN, day, "Cierre por emergencia declarada")["moved"]


def reopen_day(svc, day: date, at) -> dict:
    svc.clock.now = at
    return closures.remove_closure(svc, ADMIN, day)["moved"]


def shape(row: dict) -> tuple:
    return row["owner"], row["owner_group"], row["days"], row["state"]


# -- subsanación (comun_revision_completitud, through the licence) -----------------------------------------------

def test_subsanacion_window_moved_by_a_closure_day_is_used_by_a_fix_received_on_the_moved_day(svc):
    from tests.processes.licencia_walk import issue_previo, present_fix
    from tests.processes.test_comun import incomplete
    walk = incomplete(svc)
    # Previo notified Mon 30 Mar 2026 10:00; 10 working days from Tue 31: 31 (1), Wed 1 Apr (2), Holy Thursday
    # and Good Friday (2-3 Apr) skipped, 6 (3), 7, 8, 9, 10 (7), 13, 14, Wed 15 Apr (10).
    issue_previo(walk, local(2026, 3, 30, 10))
    row = rows(walk)["subsanacion"]
    assert shape(row) == ("ciudadano", None, 10, "open")
    assert row["start_at"] == local(2026, 3, 30, 10)
    assert row["due_at"] == closing(2026, 4, 15) == timer_due(walk, "vence_subsanacion")
    assert task_due(walk, "recibir_subsanacion") is None   # the citizen's time is no staff deadline
    # Tue 7 Apr: the office is declared closed on Thu 9 Apr → day 10 is Thu 16 Apr: row, data and timer move.
    moved = close_day(svc, date(2026, 4, 9), local(2026, 4, 7, 9))
    assert (moved["deadlines"], moved["timers"]) == (1, 1)
    assert rows(walk)["subsanacion"]["due_at"] == closing(2026, 4, 16) == timer_due(walk, "vence_subsanacion")
    assert walk.data["subsanacion_vence"] == closing(2026, 4, 16).isoformat()
    assert task_due(walk, "recibir_subsanacion") is None
    # Past the first due moment nothing fires; the fix is received Thu 16 Apr 10:00, in the moved window.
    walk.at(closing(2026, 4, 15) + ONE_MINUTE)
    assert walk.ready() == ["recibir_subsanacion"] and walk.history().count("timer_fired") == 0
    present_fix(walk, local(2026, 4, 16, 10))
    row = rows(walk)["subsanacion"]
    assert (row["state"], row["closed_by"], row["due_at"]) == ("used", "recibir_subsanacion", closing(2026, 4, 16))


def test_subsanacion_window_expires_when_its_timer_fires(svc):
    from tests.processes.licencia_walk import issue_previo
    from tests.processes.test_comun import incomplete
    walk = incomplete(svc)
    # Notified Mon 13 Apr 2026 15:00: 14 (1) … 17 (4), 20-24 (9), Mon 27 Apr (10).
    walk.at(local(2026, 4, 13, 15))
    issue_previo(walk, local(2026, 4, 13, 15))
    assert rows(walk)["subsanacion"]["due_at"] == closing(2026, 4, 27) == timer_due(walk, "vence_subsanacion")
    walk.at(closing(2026, 4, 27))
    assert rows(walk)["subsanacion"]["state"] == "open"
    walk.at(closing(2026, 4, 27) + ONE_MINUTE)
    assert walk.state == "completed"
    row = rows(walk)["subsanacion"]
    assert (row["state"], row["closed_by"]) == ("expired", "vence_subsanacion")


# -- the general petition: the appeal window and the forwarding of a petition outside the office's competence ----

def resolved_petition(svc):
    """A petition filed Mon 1 Jun 2026, ready to resolve Wed 3 Jun, resolved and notified Wed 10 Jun 15:00."""
    from tests.processes.test_solicitud_ciudadana import competencia, informe, notify, providencia, proyectar, sign, \
        start
    walk = start(svc, local(2026, 6, 1, 9), "audiencia")
    competencia(walk, competente=True)
    providencia(walk)
    walk.at(local(2026, 6, 3, 9))
    informe(walk, listo=True, fecha="2026-06-03")
    # 30 working days from Thu 4 Jun: 4, 5 (2), 8-12 (7), 15-19 (12), 22-26 (17), Army Day Mon 29 Jun skipped,
    # 30 Jun-3 Jul (21), 6-10 (26), 13, 14, 15, Thu 16 Jul (30).
    resolution = rows(walk)["peticion_resolucion"]
    assert (resolution["owner"], resolution["days"], resolution["due_at"]) == ("oficina", 30, closing(2026, 7, 16))
    assert task_due(walk, "peticion_proyectar_resolucion") == closing(2026, 7, 16)
    walk.at(local(2026, 6, 10, 9))
    proyectar(walk)
    sign(walk)
    notify(walk, local(2026, 6, 10, 15))
    assert rows(walk)["peticion_resolucion"]["state"] == "met"
    return walk


def test_petition_appeal_window_opens_at_the_notification_and_is_used_by_an_appeal(svc):
    walk = resolved_petition(svc)
    window = rows(walk)["recurso_revocatoria"]
    # 5 working days from Wed 10 Jun: 11, 12, 15, 16, Wed 17 Jun.
    assert shape(window) == ("ciudadano", None, 5, "open")
    assert window["element_id"] == "peticion_registrar_cumplimiento"
    assert window["start_at"] == local(2026, 6, 10, 15)
    assert window["due_at"] == closing(2026, 6, 17) == timer_due(walk, "peticion_vence_recurso")
    assert task_due(walk, "peticion_registrar_recurso") is None
    walk.at(local(2026, 6, 17, 16))
    walk.complete("peticion_registrar_recurso", {
        "peticion_recurso_tipo": "revocatoria", "peticion_recurso_fecha": local(2026, 6, 17, 15).isoformat(),
        "peticion_recurso_argumentos": "No se consideró la solicitud de audiencia urgente."})
    window = rows(walk)["recurso_revocatoria"]
    assert (window["state"], window["closed_by"]) == ("used", "peticion_registrar_recurso")


def test_petition_appeal_window_moved_by_a_closure_day_and_back_then_expires(svc):
    walk = resolved_petition(svc)
    # Fri 12 Jun: the office closes on Mon 15 Jun → 11, 12, 16, 17, Thu 18 Jun; reopened on Sat 13, back to 17 Jun.
    moved = close_day(svc, date(2026, 6, 15), local(2026, 6, 12, 9))
    assert moved["deadlines"] == 1 and moved["timers"] == 1
    assert rows(walk)["recurso_revocatoria"]["due_at"] == closing(2026, 6, 18)
    assert timer_due(walk, "peticion_vence_recurso") == closing(2026, 6, 18)
    moved = reopen_day(svc, date(2026, 6, 15), local(2026, 6, 13, 9))
    assert moved["deadlines"] == 1 and moved["timers"] == 1
    assert rows(walk)["recurso_revocatoria"]["due_at"] == closing(2026, 6, 17)
    assert timer_due(walk, "peticion_vence_recurso") == closing(2026, 6, 17)
    walk.at(closing(2026, 6, 17))
    assert rows(walk)["recurso_revocatoria"]["state"] == "open"
    walk.at(closing(2026, 6, 17) + ONE_MINUTE)
    assert walk.state == "completed"
    window = rows(walk)["recurso_revocatoria"]
    assert (window["state"], window["closed_by"]) == ("expired", "peticion_vence_recurso")


def test_petition_outside_competence_forwarding_row_and_the_oficio_inheriting_it_moved_by_a_closure_day(svc):
    from tests.processes.test_solicitud_ciudadana import notify
    from tests.processes.test_traslado_por_competencia import not_competent, send_oficio
    # Filed Mon 2 Mar 2026 09:00, decided not competent Wed 4 Mar. 30 working days from Tue 3 Mar: 3-6 (4),
    # 9-13 (9), 16-20 (14), 23-27 (19), 30, 31 Mar, 1 Apr (22), Holy Thursday and Good Friday skipped,
    # 6-10 Apr (27), 13, 14, Wed 15 Apr (30).
    petition, d1 = not_competent(svc)
    forwarding = rows(petition)["peticion_traslado"]
    assert shape(forwarding) == ("oficina", "juridico", 30, "open")
    assert forwarding["element_id"] == "peticion_plazo_traslado"
    assert forwarding["start_at"] == local(2026, 3, 2, 0)          # fecha_presentacion_efectiva: the day
    assert forwarding["due_at"] == closing(2026, 4, 15) == timer_due(petition, "peticion_vence_traslado")
    # The correspondence case it opened (received Wed 4 Mar) inherits the petition's due moment, not a fresh 30.
    reply = rows(d1)["oficio_respuesta"]
    assert shape(reply) == ("oficina", "ventanilla", 30, "open")
    assert (reply["start_at"], reply["due_at"]) == (local(2026, 3, 4, 0), closing(2026, 4, 15))
    assert task_due(d1, "emitir_providencia") == closing(2026, 4, 15)
    # Fri 6 Mar: the office is declared closed on Mon 9 Mar, inside both windows → both end Thu 16 Apr: the
    # petition's row, its data and its timer; the oficio's row, its data and its task's "Vence". (Before the fix
    # in engine/usecases/deadline_moves.py the oficio's row was counted again as 30 fresh days from 4 Mar: Mon
    # 20 Apr, past the petition's own term.)
    moved = close_day(svc, date(2026, 3, 9), local(2026, 3, 6, 9))
    assert moved["deadlines"] == 2
    assert rows(petition)["peticion_traslado"]["due_at"] == closing(2026, 4, 16)
    assert timer_due(petition, "peticion_vence_traslado") == closing(2026, 4, 16)
    assert petition.data["peticion_fecha_limite"] == closing(2026, 4, 16).isoformat()
    assert rows(d1)["oficio_respuesta"]["due_at"] == closing(2026, 4, 16)
    assert d1.data["oficio_vencimiento"] == closing(2026, 4, 16).isoformat()
    assert task_due(d1, "emitir_providencia") == closing(2026, 4, 16)
    # Reopened on Sat 7 Mar: both back to Wed 15 Apr (the inherited moment too, not a fresh 30 days from 4 Mar).
    assert reopen_day(svc, date(2026, 3, 9), local(2026, 3, 7, 9))["deadlines"] == 2
    assert rows(petition)["peticion_traslado"]["due_at"] == closing(2026, 4, 15)
    assert timer_due(petition, "peticion_vence_traslado") == closing(2026, 4, 15)
    assert rows(d1)["oficio_respuesta"]["due_at"] == closing(2026, 4, 15)
    assert d1.data["oficio_vencimiento"] == closing(2026, 4, 15).isoformat()
    assert task_due(d1, "emitir_providencia") == closing(2026, 4, 15)
    # The oficio goes out Tue 7 Apr; the petition notifies the citizen Wed 8 Apr: both met.
    send_oficio(d1, local(2026, 4, 7, 10))
    reply = rows(d1)["oficio_respuesta"]
    assert (reply["state"], reply["closed_by"]) == ("met", "registrar_envio")
    notify(petition, local(2026, 4, 8, 12), notificacion_acto="Oficio de traslado número OF-GDCH-2026-0001")
    forwarding = rows(petition)["peticion_traslado"]
    assert (forwarding["state"], forwarding["closed_by"]) == ("met", "peticion_notificar_traslado")
    assert petition.state == "completed"


# -- D3: the prioritization's delivery, a date ----------------------------------------------------------------------

def test_prioritization_delivery_is_due_at_closing_on_8_july_and_met_that_morning(svc, clock):
    from tests.processes.test_priorizacion_proyectos import PRIORIZADA, at_resolution
    walk = at_resolution(svc, clock)          # registered in the SNIP Thu 12 Mar 2026 10:00
    row = rows(walk)["priorizacion_entrega"]
    # A date, not days: due Wed 8 Jul 2026 at the office's closing (16:30), like every working-day deadline.
    assert shape(row) == ("oficina", "codede", None, "open")
    assert (row["element_id"], row["start_at"]) == ("calcular_recordatorio", local(2026, 3, 12, 10))
    assert row["due_at"] == closing(2026, 7, 8)
    assert task_due(walk, "resolucion_codede") == closing(2026, 7, 8)
    # The reminder (5 working days before: Wed 1 Jul at 16:30) fires; its task shows the same due moment.
    walk.at(local(2026, 7, 8, 9))
    assert walk.ready() == ["atender_recordatorio", "resolucion_codede"]
    assert task_due(walk, "atender_recordatorio") == closing(2026, 7, 8)
    walk.at(local(2026, 7, 8, 10))
    walk.complete("resolucion_codede", PRIORIZADA, actor="codede1")
    row = rows(walk)["priorizacion_entrega"]
    assert (row["state"], row["closed_by"], row["closed_at"]) == ("met", "resolucion_codede", local(2026, 7, 8, 10))


# -- mediation: the institutions' certificates and the dialogue's calendar days ----------------------------------

def all_rows(walk, key: str) -> list[dict]:
    """Every row of `key` in the case, oldest first."""
    from sqlalchemy import select
    from engine.storage import models
    t = models.legal_deadlines
    with walk.svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(select(t).where(t.c.case_id == walk.id, t.c.key == key)
                                                  .order_by(t.c.id)).mappings()]


def test_certificates_moved_by_a_closure_day_one_met_the_other_expired_and_reopened_by_the_reiteration(svc):
    from tests.processes.test_mediacion_tierras import admit, certificate, start
    walk = start(svc, local(2027, 3, 15))
    walk.at(local(2027, 3, 16))
    admit(walk)          # Tue 16 Mar 2027 10:00: both certificates asked at once
    # 15 working days from Wed 17 Mar (asked before the 16:30 cut-off): 17, 18, 19 (3), 22-24 (6), Holy Thursday
    # and Good Friday (25-26 Mar) skipped, 29-31 (9), 1, 2 Apr (11), 5, 6, 7, Thu 8 Apr (15).
    for key, timer in (("certificacion_ric", "certificacion_ric_vencida"),
                       ("certificacion_registro", "certificacion_registro_vencida")):
        row = rows(walk)[key]
        assert shape(row) == ("institucion", "tramite", 15, "open")
        assert (row["start_at"], row["counting"]) == (local(2027, 3, 16, 10), "habiles_corte")
        assert row["due_at"] == closing(2027, 4, 8) == timer_due(walk, timer)
    # Fri 19 Mar: the office closes on Mon 22 Mar → day 15 is Fri 9 Apr, for rows, requests' dates and timers.
    moved = close_day(svc, date(2027, 3, 22), local(2027, 3, 19, 9))
    assert (moved["deadlines"], moved["timers"]) == (2, 2)
    for key, timer in (("certificacion_ric", "certificacion_ric_vencida"),
                       ("certificacion_registro", "certificacion_registro_vencida")):
        assert rows(walk)[key]["due_at"] == closing(2027, 4, 9) == timer_due(walk, timer)
    assert walk.data["solicitud_ric"]["vence"] == closing(2027, 4, 9).isoformat()
    # The RIC answers Tue 30 Mar: met.
    walk.at(local(2027, 3, 30, 11))
    certificate(walk, "ric")
    ric = rows(walk)["certificacion_ric"]
    assert (ric["state"], ric["closed_by"]) == ("met", "recibir_certificacion_ric")
    # The registry does not: on the first due moment nothing happens, one minute after the moved one it expires.
    walk.at(closing(2027, 4, 8) + ONE_MINUTE)
    assert rows(walk)["certificacion_registro"]["state"] == "open"
    walk.at(closing(2027, 4, 9) + ONE_MINUTE)
    first, again = all_rows(walk, "certificacion_registro")
    assert (first["state"], first["closed_by"]) == ("expired", "certificacion_registro_vencida")
    # Reiterated at Fri 9 Apr 16:31, after the cut-off: counts as asked Mon 12 Apr → 13-16 (4), 19-23 (9),
    # 26-30 (14), Mon 3 May (15; Sat 1 May is no working day anyway).
    assert shape(again) == ("institucion", "tramite", 15, "open")
    assert again["start_at"] == closing(2027, 4, 9) + ONE_MINUTE
    assert again["due_at"] == closing(2027, 5, 3) == timer_due(walk, "certificacion_registro_vencida")
    walk.at(local(2027, 4, 20))
    certificate(walk, "registro")
    again = all_rows(walk, "certificacion_registro")[-1]
    assert (again["state"], again["closed_by"]) == ("met", "recibir_certificacion_registro")


def dialogue(svc):
    """A mediation whose first session is held Mon 7 Jun 2027: the dialogue's 60 calendar days open."""
    from tests.processes.test_mediacion_tierras import admit, prepared, session, start
    walk = start(svc, local(2027, 3, 15))
    admit(walk)
    prepared(walk, "2027-06-07")
    session(walk, "2027-06-07")
    row = rows(walk)["mediacion_dialogo"]
    # 7 Jun + 60 calendar days: 23 to 30 Jun, 54 to 31 Jul → Fri 6 Aug 2027, a working day.
    assert shape(row) == ("oficina", "mediador", 60, "open")
    assert (row["element_id"], row["counting"], row["start_at"]) == ("registrar_sesion", "calendario",
                                                                     local(2027, 6, 7, 0))
    assert row["due_at"] == closing(2027, 8, 6) == timer_due(walk, "plazo_dialogo_vencido")
    assert task_due(walk, "registrar_sesion") == closing(2027, 8, 6)
    return walk


def test_dialogue_closed_by_the_agreement_is_met(svc):
    from tests.processes.test_mediacion_tierras import acta, session
    walk = dialogue(svc)
    session(walk, "2027-06-26", acuerdo=True)
    assert task_due(walk, "acta_mediacion") == closing(2027, 8, 6)
    acta(walk, "2027-06-26")
    row = rows(walk)["mediacion_dialogo"]
    assert (row["state"], row["closed_by"]) == ("met", "acta_mediacion")


def test_dialogue_ending_on_a_closure_day_runs_to_the_next_working_day_then_its_timer_closes_it(svc):
    walk = dialogue(svc)
    # Mon 2 Aug: the office is declared closed on Fri 6 Aug, the 60th day → the term runs to Mon 9 Aug: row,
    # timer and the mediator's task.
    moved = close_day(svc, date(2027, 8, 6), local(2027, 8, 2, 9))
    assert (moved["deadlines"], moved["timers"]) == (1, 1)
    assert rows(walk)["mediacion_dialogo"]["due_at"] == closing(2027, 8, 9)
    assert timer_due(walk, "plazo_dialogo_vencido") == closing(2027, 8, 9)
    assert task_due(walk, "registrar_sesion") == closing(2027, 8, 9)
    walk.at(closing(2027, 8, 9))
    assert rows(walk)["mediacion_dialogo"]["state"] == "open"
    walk.at(closing(2027, 8, 9) + ONE_MINUTE)
    assert walk.ready() == ["acta_cierre"]
    row = rows(walk)["mediacion_dialogo"]
    assert (row["state"], row["closed_by"]) == ("expired", "plazo_dialogo_vencido")


# -- D1: the reply to an oficio and the consultation of another institution ----------------------------------------

def test_oficio_reply_and_its_consultation_moved_by_a_closure_day_both_met(svc, clock):
    from tests.processes.institution_walk import reply
    from tests.processes.test_correspondencia_oficial import (ANSWER, CONSULTA, PROVIDENCIA, RESPUESTA,
                                                              answer_and_send, start)
    walk = start(svc, clock, oficio_recibido="2026-03-20T10:00:00-06:00")
    # Received Fri 20 Mar 2026; the setting's 10 working days: 23-27 (5), 30, 31 Mar, 1 Apr (8), Holy Thursday
    # and Good Friday skipped, 6, Tue 7 Apr (10).
    row = rows(walk)["oficio_respuesta"]
    assert shape(row) == ("oficina", "ventanilla", 10, "open")
    assert (row["element_id"], row["start_at"]) == ("calcular_vencimiento", local(2026, 3, 20, 0))
    assert row["due_at"] == closing(2026, 4, 7)
    assert task_due(walk, "emitir_providencia") == closing(2026, 4, 7)
    # The alert 2 working days before: Mon 6 Apr (1), Holy Thursday and Good Friday skipped, Wed 1 Apr (2).
    assert timer_due(walk, "alerta_vencimiento") == closing(2026, 4, 1)
    walk.complete("emitir_providencia", PROVIDENCIA, actor="tramite1")
    assert task_due(walk, "preparar_respuesta") == closing(2026, 4, 7)
    # Mon 23 Mar 10:00 the unit consults another institution: twice the setting, 20 working days from Tue 24 Mar
    # (before the cut-off): 24-27 (4), 30, 31, 1 Apr (7), 6-10 (12), 13-17 (17), 20, 21, Wed 22 Apr (20).
    clock.now = local(2026, 3, 23, 10)
    walk.complete("preparar_respuesta", CONSULTA, actor="tramite1")
    consulta = rows(walk)["consulta_institucion"]
    assert shape(consulta) == ("institucion", "tramite", 20, "open")
    assert (consulta["element_id"], consulta["start_at"]) == ("enviar_consulta", local(2026, 3, 23, 10))
    assert consulta["due_at"] == closing(2026, 4, 22) == timer_due(walk, "espera_vencida")
    assert timer_due(walk, "recordatorio_consulta") == closing(2026, 4, 8)    # 10 working days before
    # Wed 25 Mar: the office closes on Thu 26 Mar → the reply is due Wed 8 Apr, the consultation Thu 23 Apr (its
    # timer, the request's date and the reminder 10 working days before it, Thu 9 Apr, with it).
    moved = close_day(svc, date(2026, 3, 26), local(2026, 3, 25, 9))
    assert moved["deadlines"] == 2
    assert rows(walk)["oficio_respuesta"]["due_at"] == closing(2026, 4, 8)
    assert rows(walk)["consulta_institucion"]["due_at"] == closing(2026, 4, 23)
    assert timer_due(walk, "espera_vencida") == closing(2026, 4, 23)
    assert timer_due(walk, "recordatorio_consulta") == closing(2026, 4, 9)
    assert timer_due(walk, "alerta_vencimiento") == closing(2026, 4, 6)   # 2 before Wed 8 Apr: 7 (1), Mon 6 (2)
    assert walk.data["consulta_solicitud"]["vence"] == closing(2026, 4, 23).isoformat()
    # The institution answers Mon 30 Mar: met; the unit's task shows the moved reply deadline.
    walk.at(local(2026, 3, 30, 10))
    reply(walk, "consulta_solicitud", ANSWER)
    consulta = rows(walk)["consulta_institucion"]
    assert (consulta["state"], consulta["closed_by"]) == ("met", "recibir_respuesta_institucion")
    assert task_due(walk, "preparar_respuesta") == closing(2026, 4, 8)
    assert walk.data["oficio_vencimiento"] == closing(2026, 4, 8).isoformat()
    walk.complete("preparar_respuesta", RESPUESTA, actor="tramite1")
    answer_and_send(walk)
    row = rows(walk)["oficio_respuesta"]
    assert (row["state"], row["closed_by"], row["due_at"]) == ("met", "registrar_envio", closing(2026, 4, 8))


def test_oficio_linked_to_a_petition_has_its_30_days_and_a_silent_consultation_expires_then_the_reply_is_late(
        svc, clock):
    from tests.processes.test_correspondencia_oficial import (CONSULTA, PROVIDENCIA, RESPUESTA, answer_and_send,
                                                              start)
    walk = start(svc, clock, oficio_recibido="2026-06-01T10:00:00-06:00",
                 oficio_expediente_vinculado="EXP-GDCH-2026-00042")
    # Received Mon 1 Jun 2026 for a petition: its 30 working days: 2-5 (4), 8-12 (9), 15-19 (14), 22-26 (19),
    # Army Day Mon 29 Jun skipped, 30 Jun-3 Jul (23), 6-10 (28), 13, Tue 14 Jul (30).
    row = rows(walk)["oficio_respuesta"]
    assert shape(row) == ("oficina", "ventanilla", 30, "open")
    assert (row["start_at"], row["due_at"]) == (local(2026, 6, 1, 0), closing(2026, 7, 14))
    assert task_due(walk, "emitir_providencia") == closing(2026, 7, 14)
    walk.complete("emitir_providencia", PROVIDENCIA, actor="tramite1")
    # Thu 9 Jul 15:00 the unit consults: 20 working days from Fri 10 Jul: 10 (1), 13-17 (6), 20-24 (11), 27-31
    # (16; the fair, 26 July, is a Sunday in 2026), 3, 4, 5, Thu 6 Aug (20).
    clock.now = local(2026, 7, 9, 15)
    walk.complete("preparar_respuesta", CONSULTA, actor="tramite1")
    consulta = rows(walk)["consulta_institucion"]
    assert (consulta["days"], consulta["due_at"]) == (20, closing(2026, 8, 6))
    assert timer_due(walk, "espera_vencida") == closing(2026, 8, 6)
    walk.at(closing(2026, 8, 6))
    assert rows(walk)["consulta_institucion"]["state"] == "open"
    walk.at(closing(2026, 8, 6) + ONE_MINUTE)
    consulta = rows(walk)["consulta_institucion"]
    assert (consulta["state"], consulta["closed_by"]) == ("expired", "espera_vencida")
    assert task_due(walk, "preparar_respuesta") == closing(2026, 7, 14)   # past, still the office's deadline
    walk.complete("preparar_respuesta", RESPUESTA, actor="tramite1")
    answer_and_send(walk)
    row = rows(walk)["oficio_respuesta"]
    assert (row["state"], row["closed_by"]) == ("late", "registrar_envio")
