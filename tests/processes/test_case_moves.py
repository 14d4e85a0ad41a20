"""Moving a case to another step (engine/usecases/case_moves.py) on the real licence procedure, saving and reloading
between steps: back to an earlier step, forward past the opinions, and the moves refused."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.errors import CaseNotFound, Conflict, Forbidden, InvalidInput
from engine.usecases import case_moves, cases
from tests.conftest import SYSTEM, principal_for
from tests.processes.institution_walk import waits
from tests.processes.licencia_walk import (
    certificate, closing, dictamen, local, notify, receive, sign, start, to_opinions,
)

SUPERVISOR = principal_for("supervisor1", role="supervisor")
ONE_MINUTE = timedelta(minutes=1)


def version(walk) -> int:
    return cases.get_case(walk.svc, SYSTEM, walk.id)["version"]


def moved_events(walk) -> list[dict]:
    return [e for e in cases.case_history(walk.svc, SYSTEM, walk.id) if e["kind"] == "case_moved"]


def test_targets_are_the_user_tasks_and_call_activities_of_the_process(svc):
    walk = start(svc, at=local(2026, 3, 30, 9))
    targets = {t["element_id"]: t["kind"] for t in case_moves.move_targets(svc, SUPERVISOR, walk.id)}
    assert targets["emitir_constancia"] == "user" and targets["elaborar_dictamen"] == "user"
    assert targets["revision_completitud"] == "call" and targets["registrar_recurso"] == "user"
    # Script tasks, gateways and the steps inside the called processes are not offered.
    assert "registrar_presentacion" not in targets and "revisar_completitud" not in targets


def test_move_back_to_an_earlier_step_then_the_case_goes_on_from_there(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    assert walk.ready() == ["revisar_completitud"]
    preview = case_moves.preview_move(svc, SUPERVISOR, walk.id, "emitir_constancia")
    assert preview["problems"] == []
    assert [(c["element_id"], c["what"]) for c in preview["close"]] == [("revisar_completitud", "task")]
    assert [(o["element_id"], o["name"]) for o in preview["open"]] == [
        ("emitir_constancia", "Emitir constancia de recepción")]
    assert walk.ready() == ["revisar_completitud"]  # a preview changes nothing
    before = version(walk)

    result = case_moves.move_case(svc, SUPERVISOR, walk.id, "emitir_constancia", "Folios mal contados", before)

    assert result["moved"] and result["version"] == before + 1 and result["state"] == "running"
    assert walk.ready() == ["emitir_constancia"] and walk.state == "running"
    [event] = moved_events(walk)
    assert event["actor"] == "supervisor1" and event["element_id"] == "emitir_constancia"
    assert event["data"]["reason"] == "Folios mal contados"
    assert event["data"]["from"] == ["revisar_completitud"] and event["data"]["to"] == "emitir_constancia"
    # The data gathered so far stays with the case; the step runs again as a clerk would run it.
    assert walk.data["solicitante_nombre"] == "Ana Lucía Xicará"
    receive(walk)
    assert walk.ready() == ["revisar_completitud"]


def test_move_forward_past_the_opinions_closes_their_timers_and_waits_and_the_case_completes(svc):
    walk = to_opinions(start(svc, at=local(2026, 3, 30, 9)))
    assert walk.ready() == []
    assert sorted(e for (e, _d, s) in walk.timers() if s == "waiting") == ["vence_opinion_coordinador",
                                                                           "vence_opinion_pnc"]
    preview = case_moves.preview_move(svc, SUPERVISOR, walk.id, "elaborar_dictamen")
    closed = sorted((c["element_id"], c["what"]) for c in preview["close"])
    assert ("vence_opinion_pnc", "timer") in closed and ("recibir_opinion_pnc", "wait") in closed
    assert [o["element_id"] for o in preview["open"]] == ["elaborar_dictamen"]

    case_moves.move_case(svc, SUPERVISOR, walk.id, "elaborar_dictamen", "Opiniones entregadas en papel",
                         version(walk))

    assert walk.ready() == ["elaborar_dictamen"]
    assert sorted(s for (_e, _d, s) in walk.timers()) == ["cancelled", "cancelled"]
    assert not [w for w in waits(svc, walk.id) if w[2] == "waiting"]
    svc.clock.now = local(2026, 4, 7, 10)
    dictamen(walk, "favorable")
    sign(walk, "favorable")
    notify(walk, local(2026, 6, 26, 10))
    certificate(walk)
    assert walk.ready() == ["registrar_recurso"]
    walk.at(closing(date(2026, 7, 6)) + ONE_MINUTE)
    assert walk.ready() == [] and walk.state == "completed"
    assert walk.data["estado_licencia"] == "otorgada"
    assert walk.history()[-1] == "case_completed"


def test_move_back_into_a_called_process_starts_it_over(svc):
    walk = to_opinions(start(svc, at=local(2026, 3, 30, 9)))
    case_moves.move_case(svc, SUPERVISOR, walk.id, "elaborar_dictamen", "Saltar opiniones", version(walk))
    assert walk.ready() == ["elaborar_dictamen"]

    case_moves.move_case(svc, SUPERVISOR, walk.id, "revision_completitud", "Falta revisar un anexo", version(walk))

    assert walk.ready() == ["revisar_completitud"]
    assert [e["data"]["to"] for e in moved_events(walk)] == ["elaborar_dictamen", "revision_completitud"]


def test_unknown_and_unmovable_targets_are_refused_naming_the_element_and_nothing_changes(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    before = version(walk)
    for element, words in (("no_existe", "no tiene el paso"), ("revisar_completitud", "dentro de un subproceso"),
                           ("registrar_presentacion", "no es una tarea de usuario"),
                           ("gw_archivado", "no es una tarea de usuario")):
        with pytest.raises(InvalidInput) as refused:
            case_moves.move_case(svc, SUPERVISOR, walk.id, element, "motivo", before)
        assert refused.value.errors[0]["field"] == "element_id" and words in refused.value.message, element
        assert element in refused.value.message
        assert case_moves.preview_move(svc, SUPERVISOR, walk.id, element)["problems"]
    with pytest.raises(InvalidInput) as no_reason:
        case_moves.move_case(svc, SUPERVISOR, walk.id, "emitir_constancia", "  ", before)
    assert no_reason.value.errors[0]["field"] == "reason"
    assert version(walk) == before and walk.ready() == ["revisar_completitud"] and not moved_events(walk)


def test_a_move_to_the_step_the_case_is_at_is_refused(svc):
    walk = start(svc, at=local(2026, 3, 30, 9))
    with pytest.raises(InvalidInput) as same:
        case_moves.move_case(svc, SUPERVISOR, walk.id, "emitir_constancia", "motivo", version(walk))
    assert same.value.errors[0]["field"] == "element_id" and "ya está en el paso" in same.value.message


def test_a_stale_version_loses_with_a_conflict(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    seen = version(walk)
    case_moves.move_case(svc, SUPERVISOR, walk.id, "emitir_constancia", "Primero", seen)
    with pytest.raises(Conflict):
        case_moves.move_case(svc, SUPERVISOR, walk.id, "elaborar_dictamen", "Segundo, con la página vieja", seen)
    assert walk.ready() == ["emitir_constancia"] and len(moved_events(walk)) == 1


def test_a_suspended_case_is_resumed_before_it_moves(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    cases.change_case_state(svc, SUPERVISOR, walk.id, "suspend", "Revisión de la jefatura")
    with pytest.raises(Conflict) as refused:
        case_moves.move_case(svc, SUPERVISOR, walk.id, "emitir_constancia", "motivo", version(walk))
    assert "suspended" in refused.value.message and "reanude" in refused.value.message
    assert case_moves.preview_move(svc, SUPERVISOR, walk.id, "emitir_constancia")["problems"]
    cases.change_case_state(svc, SUPERVISOR, walk.id, "resume", "Listo")
    case_moves.move_case(svc, SUPERVISOR, walk.id, "emitir_constancia", "motivo", version(walk))
    assert walk.ready() == ["emitir_constancia"]


def test_dry_run_describes_the_move_and_changes_nothing(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    before = version(walk)
    result = case_moves.move_case(svc, SUPERVISOR, walk.id, "emitir_constancia", "", before, dry_run=True)
    assert result["moved"] is False and [o["element_id"] for o in result["open"]] == ["emitir_constancia"]
    assert version(walk) == before and walk.ready() == ["revisar_completitud"]


def test_only_managers_move_and_a_clerk_cannot(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    clerk = principal_for("ventanilla1", role="clerk", groups=("ventanilla",))
    with pytest.raises(Forbidden):
        case_moves.move_case(svc, clerk, walk.id, "emitir_constancia", "motivo", version(walk))
    with pytest.raises(CaseNotFound):
        case_moves.preview_move(svc, SUPERVISOR, 999_999, "emitir_constancia")
