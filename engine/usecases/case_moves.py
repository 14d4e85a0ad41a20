"""Move a case to another step (a supervisor's process instance modification): preview it, then apply it.

The move itself is engine/runtime/moves.py (what it can and cannot do, and why). Here: who may (case.manage),
which cases (running or in error: a suspended case is resumed first, a closed one stays closed), the version
the supervisor saw (a stale form loses with a conflict), and the write: the workflow, its projection (tasks,
timers, waits, inbox rows through storage.persistence) and a `case_moved` event, in one transaction.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.errors import Conflict, InvalidInput
from engine.messages import msg
from engine.runtime import moves
from engine.runtime.runner import ready_human_tasks
from engine.runtime.steps import StepContext, stepping
from engine.storage.persistence import (
    Snapshot, append_events, event_row, load_case_workflow, project, require_case, snapshot, state_after, write_step,
)
from engine.usecases.cases import case_number, check_version
from engine.usecases.outcomes import outcome_events

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

MOVABLE_STATES = ("running", "error")
MAX_REASON_CHARS = 2000


@use_case("case.manage")
def move_targets(svc: Services, principal: Principal, case_id: int) -> list[dict]:
    """The steps the case may be moved to: element_id, name, kind (user, manual, call)."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        case = require_case(uow.conn, case_id)
        spec, _subs = svc.specs.get(uow.conn, case.process_version_id)
        return targets_of(spec)


def targets_of(spec) -> list[dict]:
    return [{"element_id": t.element_id, "name": t.name, "kind": t.kind} for t in moves.move_targets(spec)]


@use_case("case.manage")
def preview_move(svc: Services, principal: Principal, case_id: int, target_element_id: str) -> dict:
    """What moving the case to `target_element_id` would do, without doing it: `close` and `open` (element_id,
    name, what: task, timer, wait or error) and `problems` (why it cannot be done; then nothing closes or opens)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        case = require_case(conn, case_id)
        try:
            wf, before, after, _now, errored = _moved(svc, conn, case, target_element_id, principal.username)
        except (InvalidInput, Conflict) as exc:
            return {"case_id": case_id, "version": case.version, "target": target_element_id, "close": [],
                    "open": [], "problems": [exc.message]}
        # Nothing is committed: the unit of work rolls back what the move's steps may have written.
    return {"case_id": case_id, "version": case.version, "target": target_element_id,
            **_changes(wf, before, after, errored), "problems": []}


@use_case("case.manage")
def move_case(svc: Services, principal: Principal, case_id: int, target_element_id: str, reason: str,
              expected_version: int | None, dry_run: bool = False) -> dict:
    """Move the case to `target_element_id`: close its open tasks and waits, make the target ready, record
    `case_moved` with the reason. `expected_version` is the version the caller saw (a newer one: Conflict).
    With `dry_run`, check and describe it (as preview_move, but refusing as the move would) and change nothing."""
    reason = (reason or "").strip()
    if not dry_run and not reason:
        raise InvalidInput(msg("indique el motivo del cambio de paso"),
                           errors=[{"field": "reason", "message": "required"}])
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(msg("el motivo es demasiado largo"),
                           errors=[{"field": "reason", "message": f"at most {MAX_REASON_CHARS} characters"}])
    with svc.uow(write=not dry_run) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        case = require_case(conn, case_id)
        check_version(case, expected_version)
        wf, before, after, now, errored = _moved(svc, conn, case, target_element_id, principal.username)
        changes = _changes(wf, before, after, errored)
        if dry_run:
            return {"case_id": case_id, "version": case.version, "target": target_element_id, **changes,
                    "problems": [], "moved": False}
        version, state, failure, refused = write_step(conn, case, wf, state_after(wf, None), None, now)
        if refused:
            raise InvalidInput(msg("el expediente no se pudo mover a «%(element)s»: %(reason)s",
                                   element=target_element_id, reason=failure.message),
                               errors=[{"field": "element_id", "message": failure.message}])
        project(conn, case_id, case.process_key, before, after, now, deadlines=svc.deadlines, actor=principal.username)
        moved_from = sorted({c["element_id"] for c in changes["close"]})
        append_events(conn, [event_row(case_id, now, "case_moved", element_id=target_element_id,
                                       actor=principal.username,
                                       data={"reason": reason, "from": moved_from, "to": target_element_id,
                                             "previous_state": case.state, "closed": changes["close"],
                                             "opened": changes["open"]})]
                      + outcome_events(svc, conn, case_id, now, state, failure))
        uow.commit()
    return {"case_id": case_id, "version": version, "state": state, "target": target_element_id, **changes,
            "problems": [], "moved": True}


def _moved(svc: Services, conn, case, element_id: str, actor: str | None):
    """The case's workflow moved to `element_id` in memory: (workflow, snapshot before, snapshot after, now, the
    elements of its errored tasks, which the move closes too).
    InvalidInput names a target that cannot be; Conflict a case that cannot move now."""
    if case.state not in MOVABLE_STATES:
        raise Conflict(msg("el expediente está «%(state)s»; solo se mueve un expediente en trámite o con error "
                           "(reanude primero uno suspendido)", state=case.state), state=case.state)
    if not isinstance(element_id, str) or not element_id.strip():
        raise InvalidInput(msg("elija el paso al que mover el expediente"),
                           errors=[{"field": "element_id", "message": "required"}])
    wf = load_case_workflow(svc, conn, case)
    problem = moves.target_problem(wf.spec, wf.subprocess_specs, element_id)
    if problem is None and element_id in {t.element_id for t in ready_human_tasks(wf)}:
        problem = msg("el expediente ya está en el paso «%(element)s»", element=element_id)
    if problem is not None:
        raise InvalidInput(problem, errors=[{"field": "element_id", "message": problem}], element_id=element_id)
    before = snapshot(svc.runtime, wf)
    errored = moves.errored_elements(wf)
    now = svc.clock()
    with stepping(StepContext(svc, conn, case.id, case_number(conn, case.id), case.process_key, now, actor)):
        failure = moves.move(svc.runtime, wf, element_id)
    if failure is not None:
        problem = msg("al mover el expediente a «%(element)s» el paso «%(failed)s» falló: %(reason)s",
                      element=element_id, failed=failure.element_id or element_id, reason=failure.message)
        raise InvalidInput(problem, errors=[{"field": "element_id", "message": problem}], element_id=element_id)
    return wf, before, snapshot(svc.runtime, wf), now, errored


def _changes(wf, before: Snapshot, after: Snapshot, errored: list[str]) -> dict:
    """What closes and what opens between two snapshots (and the errored steps, which close), each as
    element_id, name and what it is (task, timer, wait, error)."""
    names = moves.element_names(wf)

    def listed(snap: Snapshot, other: Snapshot) -> list[dict]:
        out = [{"element_id": t.element_id, "name": t.title, "what": "task"}
               for t in snap.tasks if t.id not in {o.id for o in other.tasks}]
        out += [{"element_id": element, "name": names.get(element, element), "what": "timer"}
                for tid, (element, _due) in snap.timers.items() if tid not in other.timers]
        out += [{"element_id": w[0], "name": names.get(w[0], w[0]), "what": "wait"}
                for wid, w in snap.waits.items() if wid not in other.waits]
        return out
    closed = [{"element_id": e, "name": names.get(e, e), "what": "error"} for e in errored]
    return {"close": closed + listed(before, after), "open": listed(after, before)}
