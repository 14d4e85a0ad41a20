"""Firing due timers: each exactly once, never against a case that has moved on."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update

from engine import models, serializer
from engine.cases import outcome_events
from engine.errors import Conflict
from engine.persistence import (
    append_events, event_row, project, read_case, snapshot, state_after, write_case,
)
from engine.services import Services

_timers = models.timers
# Strictly before now: SpiffWorkflow fires a timer only when due < now.
_DUE = (select(_timers.c.id).where(_timers.c.state == "waiting", _timers.c.due_at < bindparam("b_now"))
        .order_by(_timers.c.due_at, _timers.c.id).limit(bindparam("b_limit")))
_CLAIM = select(_timers.c.id, _timers.c.case_id, _timers.c.element_id).where(
    _timers.c.id == bindparam("b_id"), _timers.c.state == "waiting", _timers.c.due_at < bindparam("b_now"))
_NOTE_FAILURE = (update(_timers).where(_timers.c.id == bindparam("b_id"))
                 .values(attempts=_timers.c.attempts + 1, last_error=bindparam("b_error")))


@dataclass(frozen=True)
class FireResult:
    fired: int
    skipped: int  # taken by another scheduler, or the case was busy: tried again next round


def due_timer_ids(svc: Services, limit: int = 500) -> list[str]:
    """Ids of timers due now, earliest first (an index scan, no workflow loaded)."""
    with svc.uow(write=False) as uow:
        return list(uow.conn.execute(_DUE, {"b_now": svc.clock(), "b_limit": limit}).scalars())


def fire_due_timers(svc: Services, limit: int = 500) -> FireResult:
    """Fire every timer due now, each in its own transaction."""
    fired = skipped = 0
    for timer_id in due_timer_ids(svc, limit):
        try:
            if fire_timer(svc, timer_id):
                fired += 1
            else:
                skipped += 1
        except Conflict:
            skipped += 1
    return FireResult(fired, skipped)


def fire_timer(svc: Services, timer_id: str) -> bool:
    """Fire one timer if it is still waiting and due; False if someone else has it or it moved on."""
    with svc.uow() as uow:
        conn = uow.conn
        now = svc.clock()
        claim = _CLAIM
        if conn.dialect.name == "postgresql":
            # Several schedulers: a row another one holds is skipped, not waited for.
            claim = claim.with_for_update(skip_locked=True)
        row = conn.execute(claim, {"b_id": timer_id, "b_now": now}).first()
        if row is None:
            return False
        case = read_case(conn, row.case_id)
        if case.state != "running":
            return False  # suspended or in error: the timer waits until the case runs again
        spec, subs = svc.specs.get(conn, case.process_version_id)
        wf = svc.runtime.attach(serializer.load_workflow(case.workflow_json, spec, subs))
        before = snapshot(svc.runtime, wf)
        if timer_id not in before.timers:
            # The workflow no longer waits on it (the case moved on): never fire a stale timer.
            conn.execute(update(_timers).where(_timers.c.id == timer_id).values(state="cancelled", fired_at=now))
            uow.commit()
            return False
        failure = svc.runtime.fire_timers(wf)
        after = snapshot(svc.runtime, wf)
        if timer_id in after.timers and failure is None:
            return False  # not yet due by SpiffWorkflow's reckoning; leave it waiting
        state = state_after(wf, failure)
        write_case(conn, case, wf, state, failure, now)
        project(conn, case.id, case.process_key, before, after, now, fired_ids=frozenset({timer_id}))
        append_events(conn, [event_row(case.id, now, "timer_fired", element_id=row.element_id, task_id=timer_id)]
                      + outcome_events(case.id, now, state, failure))
        uow.commit()
    return True
