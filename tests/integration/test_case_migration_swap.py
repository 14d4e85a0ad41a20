"""Migrating cases the move cannot take, by swapping the spec under their live task tree (engine/runtime/spec_swap.py),
on SQLite and PostgreSQL: licences waiting for both institutions' opinions (parallel branches, receive tasks with
boundary timers) go to v2 and on to the end there; an oficio waiting for the consulted institution's answer goes to a
v2 copy of its procedure and the answer, the reply deadline's alert and the reminder still reach it; a waiting element
gone from the new version is refused naming it, or taken by hand under its new id, and undone."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.storage import models
from engine.usecases import case_migration as cm
from engine.usecases import case_migration_apply as ca
from engine.usecases import cases
from engine.usecases.deploy import deploy_files, list_versions, read_paths
from tests.conftest import SYSTEM, principal_for
from tests.integration.test_case_migration import _dictamen_form
from tests.migration_cases import V2
from tests.processes import licencia_walk as lw
from tests.processes.driver import PROCESSES, Walk, office
from tests.processes.institution_walk import message_state, reply
from tests.processes.test_correspondencia_oficial import (
    ANSWER, CONSULTA, PROVIDENCIA, RESPUESTA, answer_and_send, start, utc,
)

SUPERVISOR = principal_for("supervisor1", role="supervisor")
HAND = {"elaborar_dictamen": "redactar_dictamen"}
ONE_MINUTE = timedelta(minutes=1)
RENAMED = "recibir_respuesta_coordinador"


@pytest.fixture
def office_svc(database_url, clock):
    svc = office(database_url, clock)
    yield svc
    svc.db.dispose()


def deploy(svc, process_key: str, text: str) -> tuple[int, int]:
    """A new version of `process_key` from `text` (the processes it calls as they are); (first, last) version ids."""
    files = {name: data for name, data in read_paths([PROCESSES]).items() if name != f"{process_key}.bpmn"}
    deploy_files(svc, {**files, f"{process_key}.bpmn": text.encode()}, actor="tests", only=frozenset({process_key}))
    rows = list_versions(svc, process_key)
    return rows[0]["id"], rows[-1]["id"]


def version_of(svc, case_id: int) -> int:
    c = models.cases
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(c.c.process_version_id).where(c.c.id == case_id)).scalar_one()


def rows(svc, table, case_id: int, *columns) -> list[tuple]:
    with svc.uow(write=False) as uow:
        return sorted(tuple(r) for r in uow.conn.execute(
            select(*[table.c[c] for c in columns]).where(table.c.case_id == case_id)))


def waiting_waits(svc, case_id: int) -> list[tuple]:
    return [r[:2] for r in rows(svc, models.message_waits, case_id, "element_id", "id", "state") if r[2] == "waiting"]


def waiting_timers(svc, case_id: int) -> list[tuple]:
    return [r[:3] for r in rows(svc, models.timers, case_id, "element_id", "id", "due_at", "state")
            if r[3] == "waiting"]


def consult(svc, clock) -> Walk:
    """An oficio whose unit asked another institution on Mon 23 Mar: it waits for the answer (and its timers)."""
    walk = start(svc, clock, oficio_recibido="2026-03-20T10:00:00-06:00")
    walk.complete("emitir_providencia", PROVIDENCIA, actor="tramite1")
    clock.now = utc(2026, 3, 23, 16)
    walk.complete("preparar_respuesta", CONSULTA, actor="tramite1")
    assert walk.ready() == [] and [e for e, _i in waiting_waits(svc, walk.id)] == ["recibir_respuesta_institucion"]
    return walk


def opinion_deadlines(svc, case_id: int) -> dict:
    """The state of the case's legal deadlines of the institutions' opinions, by key."""
    d = models.legal_deadlines
    with svc.uow(write=False) as uow:
        return {key: state for key, state in uow.conn.execute(select(d.c.key, d.c.state).where(
            d.c.case_id == case_id, d.c.key.in_(["opinion_pnc", "opinion_coordinador"]))).all()}


def apply_all(svc, plan: dict) -> dict:
    step = ca.apply_batch(svc, SUPERVISOR, plan["id"])
    while step["remaining"]:
        step = ca.apply_batch(svc, SUPERVISOR, plan["id"])
    return step


def test_licences_waiting_for_both_opinions_migrate_and_end_on_v2(office_svc):
    svc = office_svc
    walk = lw.to_opinions(lw.start(svc, "espectaculo_publico", at=lw.local(2026, 3, 30, 9)))
    silent = lw.to_opinions(lw.start(svc, "espectaculo_publico", at=lw.local(2026, 3, 30, 9)))
    timers_before, waits_before = waiting_timers(svc, walk.id), waiting_waits(svc, walk.id)
    assert [t[0] for t in timers_before] == ["vence_opinion_coordinador", "vence_opinion_pnc"]
    deadlines_before = opinion_deadlines(svc, walk.id)
    assert deadlines_before == {"opinion_pnc": "open", "opinion_coordinador": "open"}
    v1, v2 = deploy(svc, "licencia", V2.read_text(encoding="utf-8"))

    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND)
    dry = {p["case_id"]: p for p in plan["cases"]}[walk.id]
    assert (dry["way"], dry["problem"], dry["target"]) == ("swap", None, None)
    assert dry["positions"] == ["recibir_opinion_coordinador", "recibir_opinion_pnc"]
    assert dry["close"] == dry["open"] == []  # nothing closes: the case keeps waiting where it waits
    assert {(k["element_id"], k["what"]) for k in dry["keep"]} == {
        ("recibir_opinion_pnc", "wait"), ("recibir_opinion_coordinador", "wait"),
        ("vence_opinion_pnc", "timer"), ("vence_opinion_coordinador", "timer")}
    assert version_of(svc, walk.id) == v1  # the dry run changed nothing

    step = apply_all(svc, plan)
    assert (step["migrated"], step["refused"]) == (2, 0)
    assert version_of(svc, walk.id) == version_of(svc, silent.id) == v2
    # The same waits and timers, with their ids and due moments: the reply links still reach the case.
    assert waiting_timers(svc, walk.id) == timers_before and waiting_waits(svc, walk.id) == waits_before
    [event] = [e for e in cases.case_history(svc, SYSTEM, walk.id) if e["kind"] == "case_migrated"]
    assert event["data"]["way"] == "swap" and event["data"]["to_version"] == 2

    # Both institutions answer on their links; the case goes on by v2 (the renamed dictamen, then the added review).
    lw.opinion(walk, "pnc")
    assert walk.ready() == [] and waiting_waits(svc, walk.id) == [w for w in waits_before
                                                                   if w[0] == "recibir_opinion_coordinador"]
    lw.opinion(walk, "coordinador")
    assert walk.ready() == ["redactar_dictamen"]
    assert [s for (_e, _d, s) in walk.timers()] == ["cancelled", "cancelled"]
    # The institutions' legal deadlines, opened on v1, are met by the answers received on v2.
    assert opinion_deadlines(svc, walk.id) == {"opinion_pnc": "met",
                                                                       "opinion_coordinador": "met"}

    # The other never hears back: its opinions' deadlines fire on v2 and it goes on without them.
    silent.at(lw.closing(date(2026, 4, 8)) - ONE_MINUTE)
    assert silent.ready() == []
    silent.at(lw.closing(date(2026, 4, 8)) + ONE_MINUTE)
    assert silent.ready() == ["redactar_dictamen"]
    assert silent.data["opinion_pnc_sentido"] == silent.data["opinion_coordinador_sentido"] == "sin_respuesta"
    assert silent.history().count("timer_fired") == 2
    assert opinion_deadlines(svc, silent.id) == {"opinion_pnc": "expired", "opinion_coordinador": "expired"}

    walk.complete("redactar_dictamen", _dictamen_form(), actor="juridico1")
    assert walk.ready() == ["revisar_dictamen"]
    walk.complete("revisar_dictamen", {}, actor="juridico1")
    assert walk.ready() == ["firmar_resolucion"]
    lw.sign(walk)
    svc.clock.now = lw.local(2026, 6, 26, 11)
    walk.complete("notificar_interesado", {"notificacion_forma": "personal",
                                           "notificacion_lugar": "Oficina de la Gobernación",
                                           "notificacion_fecha_hora": lw.iso(lw.local(2026, 6, 26, 10)),
                                           "notificacion_recibido_por": "Ana Lucía Xicará"}, actor="notificador1")
    assert walk.ready() == ["registrar_recurso"]  # v2 issues no certificate
    walk.at(lw.closing(date(2026, 7, 6)) + ONE_MINUTE)
    assert walk.ready() == [] and walk.state == "completed"


def test_an_oficio_waiting_for_the_institution_migrates_and_the_answer_and_timers_reach_it(office_svc, clock):
    svc = office_svc
    answered, silent = consult(svc, clock), consult(svc, clock)
    waits_before = waiting_waits(svc, silent.id)
    text = (PROCESSES / "correspondencia_oficial.bpmn").read_text(encoding="utf-8")
    v2_text = text.replace('name="Enviar recordatorio a la institución"',
                           'name="Recordar a la institución su respuesta pendiente"')
    assert v2_text != text
    v1, v2 = deploy(svc, "correspondencia_oficial", v2_text)

    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2)
    assert {p["way"] for p in plan["cases"]} == {"swap"} and plan["refused"] == 0
    assert apply_all(svc, plan)["migrated"] == 2
    assert version_of(svc, answered.id) == version_of(svc, silent.id) == v2
    assert waiting_waits(svc, silent.id) == waits_before

    # The answer posted after the migration reaches the waiting receive task, and the case goes on to the end.
    answered.later(days=4)
    receipt = reply(answered, "consulta_solicitud", ANSWER, pdf="cobertura.pdf")
    assert message_state(svc, receipt["message_id"])["state"] == "delivered"
    assert answered.ready() == ["preparar_respuesta"]
    assert answered.data["respuesta_institucion"]["respuesta"] == ANSWER
    answered.complete("preparar_respuesta", RESPUESTA, actor="tramite1")
    answer_and_send(answered)
    assert answered.state == "completed"

    # The silent institution: the reply deadline's alert, then the reminder (a task titled by v2), then the expiry.
    silent.at(utc(2026, 4, 1, 22, 31))
    assert silent.ready() == ["atender_alerta"]
    silent.complete("atender_alerta", {"alerta_accion": "Se espera la respuesta del Área de Salud."})
    silent.at(utc(2026, 4, 8, 22, 31))
    assert silent.ready() == ["enviar_recordatorio"]
    assert silent.task("enviar_recordatorio")["title"] == "Recordar a la institución su respuesta pendiente"
    silent.at(utc(2026, 4, 22, 22, 31))
    assert "preparar_respuesta" in silent.ready()
    assert silent.data["consulta_sin_respuesta"] is True


def test_a_waiting_element_gone_from_the_new_version_is_refused_or_mapped_by_hand_and_undone(office_svc):
    svc = office_svc
    walk = lw.to_opinions(lw.start(svc, "espectaculo_publico", at=lw.local(2026, 3, 30, 9)))
    timers_before, waits_before = waiting_timers(svc, walk.id), waiting_waits(svc, walk.id)
    v1, v2 = deploy(svc, "licencia", V2.read_text(encoding="utf-8").replace("recibir_opinion_coordinador", RENAMED))

    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND)
    [refused] = plan["cases"]
    assert refused["way"] == "swap" and "no tiene correspondencia" in refused["problem"]
    assert "«Recibir la opinión del coordinador de gestión de riesgo» (recibir_opinion_coordinador)" in refused[
        "problem"]
    assert plan["refused"] == 1 and apply_all(svc, plan)["migrated"] == 0
    assert version_of(svc, walk.id) == v1

    # Mapped by hand to its new id: the swap renames the task and its boundary events' specs; the rows follow.
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, {**HAND, "recibir_opinion_coordinador": RENAMED})
    [dry] = plan["cases"]
    assert dry["problem"] is None and dry["mapping"]["recibir_opinion_coordinador"] == RENAMED
    assert ("recibir_opinion_coordinador", "wait") in {(c["element_id"], c["what"]) for c in dry["close"]}
    assert (RENAMED, "wait") in {(c["element_id"], c["what"]) for c in dry["open"]}
    assert apply_all(svc, plan)["migrated"] == 1
    assert version_of(svc, walk.id) == v2
    assert sorted(e for e, _id in waiting_waits(svc, walk.id)) == ["recibir_opinion_pnc", RENAMED]
    assert {i for _e, i in waiting_waits(svc, walk.id)} == {i for _e, i in waits_before}  # the same waits
    assert waiting_timers(svc, walk.id) == timers_before

    # Undone before the case moved on: v1 again, with its rows as they were.
    undone = ca.undo_batch(svc, SUPERVISOR, plan["id"])
    assert undone["undone"] == 1 and undone["state"] == "undone"
    assert version_of(svc, walk.id) == v1
    assert waiting_waits(svc, walk.id) == waits_before and waiting_timers(svc, walk.id) == timers_before
    kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, walk.id)]
    assert kinds[-2:] == ["case_migrated", "case_migration_undone"]
    lw.opinion(walk, "pnc")
    lw.opinion(walk, "coordinador")
    assert Walk.of(svc, walk.id).ready() == ["elaborar_dictamen"]  # on v1 again


def test_a_waiting_element_whose_kind_changes_is_refused(office_svc, clock):
    svc = office_svc
    walk = consult(svc, clock)
    text = (PROCESSES / "correspondencia_oficial.bpmn").read_text(encoding="utf-8")
    v2_text = text.replace('<bpmn:receiveTask id="recibir_respuesta_institucion" name="Recibir la respuesta de la '
                           'institución" messageRef="msg_respuesta_consulta">',
                           '<bpmn:userTask id="recibir_respuesta_institucion" name="Recibir la respuesta de la '
                           'institución">').replace("</bpmn:receiveTask>", "</bpmn:userTask>")
    v2_text = v2_text.replace("<spiffworkflow:messageVariable>respuesta_institucion</spiffworkflow:messageVariable>",
                              "")
    v1, v2 = deploy(svc, "correspondencia_oficial", v2_text)
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2)
    [refused] = plan["cases"]
    assert refused["way"] == "swap" and refused["problem"] == (
        "el paso «Recibir la respuesta de la institución» (recibir_respuesta_institucion) es una tarea de recepción de "
        "mensaje "
        "y en la nueva versión es una tarea de usuario; no se migra")
    assert apply_all(svc, plan)["migrated"] == 0 and version_of(svc, walk.id) == v1


def test_a_mediation_preparing_its_sessions_while_waiting_for_certificates_migrates_and_goes_on(office_svc):
    from tests.processes.test_mediacion_tierras import admit, register_certificates, summon_and_inspect
    from tests.processes.test_mediacion_tierras import start as start_mediation
    svc = office_svc
    walk = admit(start_mediation(svc, lw.local(2027, 3, 15)))
    assert walk.ready() == ["citar_partes"]
    task_id = walk.task("citar_partes")["id"]
    timers_before, waits_before = waiting_timers(svc, walk.id), waiting_waits(svc, walk.id)
    assert len(waits_before) == 2
    text = (PROCESSES / "mediacion_tierras.bpmn").read_text(encoding="utf-8")
    v2_text = text.replace('name="Citar a las partes"', 'name="Citar a las partes a la mesa de diálogo"')
    assert v2_text != text
    v1, v2 = deploy(svc, "mediacion_tierras", v2_text)

    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2)
    [dry] = plan["cases"]
    assert dry["way"] == "swap" and dry["problem"] is None
    assert ("citar_partes", "task") in {(k["element_id"], k["what"]) for k in dry["keep"]}
    assert apply_all(svc, plan)["migrated"] == 1 and version_of(svc, walk.id) == v2
    # The same ready task (its id, its place in the inbox), titled as v2 says; the same waits and timers.
    task = walk.task("citar_partes")
    assert task["id"] == task_id and task["title"] == "Citar a las partes a la mesa de diálogo"
    i = models.inbox_items
    with svc.uow(write=False) as uow:
        assert uow.conn.execute(select(i.c.title).where(i.c.task_id == task_id)).scalar_one() == task["title"]
    assert waiting_timers(svc, walk.id) == timers_before and waiting_waits(svc, walk.id) == waits_before

    summon_and_inspect(walk, "2027-06-07")
    register_certificates(walk)
    assert walk.ready() == ["registrar_sesion"]


def test_a_waiting_element_whose_boundary_events_change_is_refused(office_svc, clock):
    svc = office_svc
    walk = consult(svc, clock)
    text = (PROCESSES / "correspondencia_oficial.bpmn").read_text(encoding="utf-8")
    # v2 sends no reminder: the reply's wait loses its non-interrupting boundary timer.
    v2_text = re.sub(r'\s*<bpmn:boundaryEvent id="recordatorio_consulta".*?</bpmn:boundaryEvent>', "", text,
                     flags=re.S)
    v2_text = re.sub(r'\s*<bpmndi:BPMN(Shape|Edge) id="(recordatorio_consulta|f_recordatorio)_di".*?</bpmndi:BPMN\1>',
                     "", v2_text, flags=re.S)
    for gone in ('<bpmn:flowNodeRef>recordatorio_consulta</bpmn:flowNodeRef>',
                 '<bpmn:incoming>f_recordatorio</bpmn:incoming>',
                 '<bpmn:sequenceFlow id="f_recordatorio" sourceRef="recordatorio_consulta" '
                 'targetRef="enviar_recordatorio" />'):
        assert gone in v2_text
        v2_text = v2_text.replace(gone, "")
    v1, v2 = deploy(svc, "correspondencia_oficial", v2_text)
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2)
    [refused] = plan["cases"]
    assert refused["problem"] == ("los eventos de borde del paso «Recibir la respuesta de la institución» "
                                  "(recibir_respuesta_institucion) cambian en la nueva versión; no se migra mientras "
                                  "espera allí")
    assert version_of(svc, walk.id) == v1


def test_a_migration_records_no_element_visits_either_way(office_svc):
    """The heat map counts the elements cases pass; moving a case to v2 passes none, by move or by swap."""
    svc = office_svc
    moved = lw.receive(lw.start(svc, "espectaculo_publico", at=lw.local(2026, 3, 30, 9)))
    swapped = lw.to_opinions(lw.start(svc, "espectaculo_publico", at=lw.local(2026, 3, 30, 10)))
    before = {c: rows(svc, models.element_visits, c, "element_id", "ended_at") for c in (moved.id, swapped.id)}
    assert all(before.values())
    v1, v2 = deploy(svc, "licencia", V2.read_text(encoding="utf-8"))
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND)
    assert {c["case_id"]: c["way"] for c in plan["cases"]} == {moved.id: "move", swapped.id: "swap"}
    assert apply_all(svc, plan)["migrated"] == 2
    assert {c: rows(svc, models.element_visits, c, "element_id", "ended_at") for c in (moved.id, swapped.id)} \
        == before
