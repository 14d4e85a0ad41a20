"""Migrating running licence cases from v1 to v2 (tests/fixtures/licencia_v2.bpmn: elaborar_dictamen renamed
redactar_dictamen, revisar_dictamen added, emitir_certificado removed), on SQLite and PostgreSQL: 1,000 running cases
at eight different steps, the dry run per case, the batches, the history, a case changed between the dry run and the
batch, and undo (engine/usecases/case_migration*.py)."""
from __future__ import annotations

from collections import Counter

import orjson
import pytest
from sqlalchemy import select

from engine.errors import Forbidden, InvalidInput
from engine.storage import models
from engine.usecases import case_migration as cm
from engine.usecases import case_migration_apply as ca
from engine.usecases import cases
from engine.usecases.deploy import list_versions
from tests.conftest import SYSTEM, principal_for
from tests.migration_cases import deploy_v2, running_cases
from tests.processes.driver import Walk, office

SUPERVISOR = principal_for("supervisor1", role="supervisor")
CLERK = principal_for("oficial1", role="clerk", groups=("ventanilla",))
HAND = {"elaborar_dictamen": "redactar_dictamen"}
# Where a case of each v1 position is after the migration (its ready tasks), or None: refused.
EXPECTED = {
    "emitir_constancia": ["emitir_constancia"],
    "revision_completitud": ["revisar_completitud"],      # the call activity starts its review over
    "recibir_opinion_pnc": [],                             # parallel branches: its tree kept on v2 (a swap)
    "elaborar_dictamen": ["redactar_dictamen"],            # renamed: by hand
    "firma_gobernador": ["firmar_resolucion"],
    "notificar_resolucion": ["notificar_interesado"],
    "emitir_certificado": None,                            # removed, no mapping: refused
    "registrar_recurso": ["registrar_recurso"],
}


@pytest.fixture
def office_svc(database_url, clock):
    svc = office(database_url, clock)
    yield svc
    svc.db.dispose()


def versions(svc) -> tuple[int, int]:
    rows = list_versions(svc, "licencia")
    return rows[0]["id"], rows[-1]["id"]


def ready(svc, case_id: int) -> list[str]:
    t = models.tasks
    with svc.uow(write=False) as uow:
        return sorted(uow.conn.execute(select(t.c.element_id).where(t.c.case_id == case_id, t.c.state == "ready"))
                      .scalars())


def inbox(svc, case_id: int) -> list[str]:
    i = models.inbox_items
    with svc.uow(write=False) as uow:
        return sorted(uow.conn.execute(select(i.c.element_id).where(i.c.case_id == case_id)).scalars())


def case_row(svc, case_id: int):
    c = models.cases
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(c).where(c.c.id == case_id)).mappings().one()


def waiting_due(svc, case_id: int, element_id: str):
    t = models.timers
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(t.c.due_at).where(t.c.case_id == case_id, t.c.element_id == element_id,
                                                         t.c.state == "waiting")).scalar_one()


def data_of(svc, case_id: int) -> dict:
    return cases.case_data(svc, SYSTEM, case_id)


def test_a_thousand_running_licences_move_to_v2_and_back(office_svc):
    svc = office_svc
    where = running_cases(svc, 1000)
    assert len(where) == 1000 and set(Counter(where.values())) == set(EXPECTED)
    sample = {}
    for case_id, position in where.items():
        sample.setdefault(position, case_id)
    data_before = {cid: data_of(svc, cid) for cid in sample.values()}
    appeal_due = waiting_due(svc, sample["registrar_recurso"], "vence_plazo_recurso")
    svc.clock.advance(days=1)  # the migration happens later than the steps: what it recomputes counts from now
    deploy_v2(svc)
    v1, v2 = versions(svc)

    choices = cm.migration_choices(svc, SUPERVISOR, v1, v2)
    auto = {e["element_id"]: e["auto"] for e in choices["old_elements"]}
    assert auto["emitir_constancia"] == "emitir_constancia" and auto["elaborar_dictamen"] is None
    assert auto["emitir_certificado"] is None
    assert "revisar_dictamen" in {e["element_id"] for e in choices["new_elements"]}
    assert choices["cases"] == 1000

    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND)
    by_case = {p["case_id"]: p for p in plan["cases"]}
    assert len(by_case) == 1000
    refused = {cid for cid, p in by_case.items() if p["problem"]}
    assert refused == {cid for cid, pos in where.items() if EXPECTED[pos] is None}
    assert plan["planned"] == 875 and plan["refused"] == 125
    dictamen = by_case[sample["elaborar_dictamen"]]
    assert dictamen["target"] == "redactar_dictamen"
    assert [c["element_id"] for c in dictamen["close"]] == ["elaborar_dictamen"]
    assert [c["element_id"] for c in dictamen["open"]] == ["redactar_dictamen"]
    assert dictamen["due"]["redactar_dictamen"]  # the task's deadline, recomputed
    assert "no tiene correspondencia" in by_case[sample["emitir_certificado"]]["problem"]
    opinion = by_case[sample["recibir_opinion_pnc"]]
    assert opinion["way"] == "swap" and dictamen["way"] == "move" and opinion["problem"] is None
    assert {(c["element_id"], c["what"]) for c in opinion["keep"]} == {
        ("recibir_opinion_pnc", "wait"), ("vence_opinion_pnc", "timer")} and opinion["close"] == opinion["open"] == []
    appeal = by_case[sample["registrar_recurso"]]
    assert {c["what"] for c in appeal["open"]} == {"task", "timer"}
    assert "certificado_vigencia_desde" in appeal["fields_not_in_forms"]  # emitir_certificado's form is gone in v2
    # The dry run changed nothing.
    assert case_row(svc, sample["elaborar_dictamen"])["process_version_id"] == v1
    assert ready(svc, sample["elaborar_dictamen"]) == ["elaborar_dictamen"]

    # A case worked after the dry run is skipped, not migrated with a stale plan.
    changed = sample["emitir_constancia"]
    cases.change_case_state(svc, SUPERVISOR, changed, "suspend", "Esperando un documento")

    batches, progress = 0, []
    while True:
        step = ca.apply_batch(svc, SUPERVISOR, plan["id"], 100)
        batches += 1
        progress.append(step["remaining"])
        if step["remaining"] == 0:
            break
        assert batches < 20
    assert progress == sorted(progress, reverse=True) and batches == 9
    assert step["state"] == "applied"
    assert (step["migrated"], step["refused"], step["skipped"]) == (874, 125, 1)
    skipped = cm.read_migration(svc, SUPERVISOR, plan["id"], item_state="skipped")["items"]
    assert [i["case_id"] for i in skipped] == [changed] and "cambió" in skipped[0]["problem"]

    for position, case_id in sample.items():
        row = case_row(svc, case_id)
        if EXPECTED[position] is None or case_id == changed:
            assert row["process_version_id"] == v1, position
            continue
        assert row["process_version_id"] == v2, position
        assert ready(svc, case_id) == EXPECTED[position], position
        assert inbox(svc, case_id) == EXPECTED[position], position
        after = data_of(svc, case_id)
        assert {k: after.get(k) for k in data_before[case_id]} == data_before[case_id], position  # all data kept
        [event] = [e for e in cases.case_history(svc, SYSTEM, case_id) if e["kind"] == "case_migrated"]
        assert event["data"]["from_version"] == 1 and event["data"]["to_version"] == 2
        assert event["actor"] == "supervisor1"
    every = Counter()
    for case_id, position in where.items():
        if EXPECTED[position] is not None and case_id != changed:
            every[tuple(ready(svc, case_id)) == tuple(EXPECTED[position])] += 1
    assert every == {True: 874}
    appeal_id = sample["registrar_recurso"]
    t = models.timers
    with svc.uow(write=False) as uow:
        timer_states = Counter(uow.conn.execute(select(t.c.state).where(
            t.c.case_id == appeal_id, t.c.element_id == "vence_plazo_recurso")).scalars())
    assert timer_states == {"waiting": 1, "cancelled": 1}
    assert waiting_due(svc, appeal_id, "vence_plazo_recurso") == appeal_due  # the appeal window is not given again
    assert appeal["due"]["vence_plazo_recurso"] == appeal_due.isoformat()

    # The migrated dictamen case goes on in v2: the added review comes after the renamed task.
    dictamen_id = sample["elaborar_dictamen"]
    walk = Walk.of(svc, dictamen_id)
    walk.complete("redactar_dictamen", {**_dictamen_form()}, actor="juridico1")
    assert walk.ready() == ["revisar_dictamen"]

    # Undo: every migrated case returns to v1 where it waited, except the one that moved on.
    undone = ca.undo_batch(svc, SUPERVISOR, plan["id"], 200)
    while undone["left"]:
        undone = ca.undo_batch(svc, SUPERVISOR, plan["id"], 200)
    assert undone["undone"] == 873 and undone["state"] == "undone"
    kept = cm.read_migration(svc, SUPERVISOR, plan["id"], item_state="kept")["items"]
    assert [i["case_id"] for i in kept] == [dictamen_id]
    assert case_row(svc, dictamen_id)["process_version_id"] == v2
    for position, case_id in sample.items():
        if EXPECTED[position] is None or case_id in (changed, dictamen_id):
            continue
        row = case_row(svc, case_id)
        assert row["process_version_id"] == v1, position
        v1_ready = {"revision_completitud": ["revisar_completitud"], "firma_gobernador": ["firmar_resolucion"],
                    "notificar_resolucion": ["notificar_interesado"], "recibir_opinion_pnc": []}.get(position, [position])
        assert ready(svc, case_id) == v1_ready, position
        assert inbox(svc, case_id) == v1_ready, position
        kinds = [e["kind"] for e in cases.case_history(svc, SYSTEM, case_id)]
        assert kinds[-2:] == ["case_migrated", "case_migration_undone"], position
    with svc.uow(write=False) as uow:
        timer_states = Counter(uow.conn.execute(select(t.c.state).where(
            t.c.case_id == appeal_id, t.c.element_id == "vence_plazo_recurso")).scalars())
    assert timer_states == {"waiting": 1, "cancelled": 1}


def _dictamen_form() -> dict:
    return {"dictamen_sentido": "favorable", "dictamen_antecedentes": "Solicitud completa.",
            "dictamen_analisis": "Cumple los requisitos.", "dictamen_fundamento": "Decreto 574, art. 1.",
            "dictamen_conclusion": "Procede otorgar.", "licencia_condiciones": "Finalizar a las 23:00.",
            "resolucion_considerandos": ["Que cumple."], "resolucion_fundamento": "Decreto 574, art. 1.",
            "resolucion_puntos": ["Se autoriza."]}


def test_bad_input_and_roles_are_refused_before_anything_is_written(office_svc):
    svc = office_svc
    running_cases(svc, 8)
    deploy_v2(svc)
    v1, v2 = versions(svc)
    with pytest.raises(Forbidden):
        cm.plan_migration(svc, CLERK, v1, v2, HAND)
    for args, field in [((v1, v1, {}), "to_version_id"), ((v1, 99999, {}), "to_version_id"),
                        ((v1, v2, {"no_existe": "x"}), "mapping.no_existe"),
                        ((v1, v2, {"elaborar_dictamen": "no_existe"}), "mapping.elaborar_dictamen"),
                        ((v1, v2, ["x"]), "mapping")]:
        with pytest.raises(InvalidInput) as raised:
            cm.plan_migration(svc, SUPERVISOR, *args)
        assert raised.value.errors[0]["field"] == field
    with pytest.raises(InvalidInput) as raised:
        cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND, {"states": ["completed"]})
    assert raised.value.errors[0]["field"] == "filters.states"
    with pytest.raises(InvalidInput) as raised:
        cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND, {"created_after": "ayer"})
    assert raised.value.errors[0]["field"] == "filters.created_after"
    assert cm.list_migrations(svc, SUPERVISOR) == []


def test_filters_choose_the_cases(office_svc):
    svc = office_svc
    where = running_cases(svc, 16)
    deploy_v2(svc)
    v1, v2 = versions(svc)
    at_dictamen = sorted(cid for cid, pos in where.items() if pos == "elaborar_dictamen")
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND, {"element": "elaborar_dictamen"})
    assert sorted(p["case_id"] for p in plan["cases"]) == at_dictamen
    some = sorted(where)[:3]
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND, {"case_ids": some})
    assert sorted(p["case_id"] for p in plan["cases"]) == some
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND, {"municipality": "Patzún"})
    assert plan["cases"] == []
    stored = cm.read_migration(svc, SUPERVISOR, plan["id"])
    assert stored["filters"]["municipality"] == "Patzún" and orjson.dumps(stored["mapping"])
    assert [m["id"] for m in cm.list_migrations(svc, SUPERVISOR, "licencia")][0] == plan["id"]

    # A suspended case moves and stays suspended.
    paused = sorted(cid for cid, pos in where.items() if pos == "emitir_constancia")[0]
    cases.change_case_state(svc, SUPERVISOR, paused, "suspend", "Falta un documento")
    plan = cm.plan_migration(svc, SUPERVISOR, v1, v2, HAND, {"states": ["suspended"]})
    assert [p["case_id"] for p in plan["cases"]] == [paused]
    assert ca.apply_batch(svc, SUPERVISOR, plan["id"])["migrated"] == 1
    row = case_row(svc, paused)
    assert row["state"] == "suspended" and row["process_version_id"] == v2
    assert ready(svc, paused) == ["emitir_constancia"]
