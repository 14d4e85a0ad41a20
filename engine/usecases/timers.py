"""Firing due timers: each exactly once, never against a case that has moved on."""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import groupby

from sqlalchemy import bindparam, func, select, update

from engine.storage import models, visits
from engine.storage.closure_sync import sync_calendar
from engine.runtime import serializer
from engine.runtime.steps import StepContext, stepping
from engine.usecases.outcomes import outcome_events
from engine.errors import Conflict
from engine.storage.concurrency import bump_versions, versioned_update
from engine.storage.persistence import (
    CaseRow, append_events, dump_or_refuse, event_row, load_case_workflow, project, snapshot, state_after,
)

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

log = logging.getLogger(__name__)
# Timers fired per transaction: one commit for many, and SKIP LOCKED hands the next batch to another
# scheduler. A scheduler killed mid-batch loses that batch's work, never a timer: it is still waiting.
# PostgreSQL: a batch's fixed cost (claim, one statement per kind of write, sealing, commit) spread over 200
# cases; CPU per timer 0.63 ms at 25, 0.54 at 100, 0.51 at 200 (bench/timers.py's process, one scheduler, load
# 2.8); holding 200 cases keeps only a clerk stepping one of them waiting, for the batch (≈ 0.2-1 s).
# SQLite: a batch holds the only write lock, so it stays short for the web's sake.
TIMER_BATCH_SIZE = 200
SQLITE_TIMER_BATCH_SIZE = 25
_timers = models.timers
_cases = models.cases
# Strictly before now: SpiffWorkflow fires a timer only when due < now. Only running cases: a suspended
# or failed case keeps its timers waiting until it runs again. The case check is a scalar subquery (a
# primary-key lookup per row) rather than a join, so the plan stays an ordered index scan that stops at
# the limit even while a burst of new rows has left the table statistics stale.
_CASE_RUNNING = (select(_cases.c.state).where(_cases.c.id == _timers.c.case_id).scalar_subquery() == "running")
_CLAIM = (select(_timers.c.id, _timers.c.case_id, _timers.c.element_id)
          .where(_timers.c.state == "waiting", _timers.c.due_at < bindparam("b_now"), _CASE_RUNNING))
_CLAIM_BATCH = _CLAIM.order_by(_timers.c.due_at).limit(bindparam("b_limit"))
# Timers that failed earlier in this pass stay out of its later batches (the next pass tries them again).
_CLAIM_BATCH_SKIPPING = (_CLAIM.where(_timers.c.id.not_in(bindparam("b_skip", expanding=True)))
                         .order_by(_timers.c.due_at).limit(bindparam("b_limit")))
_CLAIM_ONE = _CLAIM.where(_timers.c.id == bindparam("b_id"))
# By primary key only (the state is checked in Python): a state condition invites the planner to read the
# whole state index when its statistics are stale; the same goes for marking timers fired below. The first six
# columns are a CaseRow; the number (for the step context) and the citizen's address (is there a closure notice
# to queue?) come along so that firing a case costs no query of its own.
_LOCK_CASES = (select(_cases.c.id, _cases.c.version, _cases.c.state, _cases.c.process_key,
                      _cases.c.process_version_id, _cases.c.workflow_json, _cases.c.number, _cases.c.citizen_email)
               .where(_cases.c.id.in_(bindparam("b_ids", expanding=True))))
_CANCEL_STALE = (update(_timers).where(_timers.c.id.in_(bindparam("b_ids", expanding=True)),
                                       _timers.c.state == "waiting")
                 .values(state="cancelled", fired_at=bindparam("b_now")))
_MARK_FIRED = (update(_timers).where(_timers.c.id.in_(bindparam("b_ids", expanding=True)))  # locked, so waiting
               .values(state="fired", fired_at=bindparam("b_now")))
# One statement for every case of a batch, so completed_at (set only by a case that completes) is kept by SQL.
_SAVE_CASE = versioned_update(_cases, completed_at=func.coalesce(bindparam("b_completed", type_=models.UtcDateTime),
                                                                 _cases.c.completed_at))
_OPEN_DEADLINES = (select(models.legal_deadlines.c.case_id).distinct()
                   .where(models.legal_deadlines.c.case_id.in_(bindparam("b_ids", expanding=True)),
                          models.legal_deadlines.c.state == "open"))
_NOTE_FAILURE = (update(_timers).where(_timers.c.id.in_(bindparam("b_ids", expanding=True)))
                 .values(attempts=_timers.c.attempts + 1, last_error=bindparam("b_error")))


@dataclass
class _Writes:
    """Rows every case of a batch writes alike, sent with one statement each at the end (few round trips)."""

    cases: list[tuple] = field(default_factory=list)  # (case id, version read, values)
    fired_ids: list[str] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    visits: list[dict] = field(default_factory=list)  # element visits (visits.record's rows)
    # Read once for the batch: the closure days' fingerprint (None: each case reads it) and the cases with an open
    # legal deadline before their step (None: unknown, each completing case looks).
    closures: tuple | None = None
    with_deadlines: frozenset | None = None

    def save_case(self, case: CaseRow, text: str, state: str, failure, now: datetime) -> None:
        """Queue what persistence.write_step would write, version check included."""
        self.cases.append((case.id, case.version, {
            "workflow_json": text,
            "serializer_version": serializer.SERIALIZER_VERSION, "state": state, "updated_at": now,
            "b_completed": now if state == "completed" else None,
            "error_element": failure.element_id if failure else None,
            "error_message": failure.message if failure else None}))

    def flush(self, conn, now: datetime) -> None:
        # On a conflict the batch is redone timer by timer.
        bump_versions(conn, _SAVE_CASE, self.cases, Conflict("a case changed while its timers fired"))
        if self.fired_ids:
            conn.execute(_MARK_FIRED, {"b_ids": self.fired_ids, "b_now": now})
        visits.write_rows(conn, self.visits)
        append_events(conn, self.events)


@dataclass(frozen=True)
class FireResult:
    fired: int
    skipped: int  # moved on, not due by SpiffWorkflow's reckoning, or failed: see timers.last_error


def _locked(conn, query, table):
    if conn.dialect.name == "postgresql":
        # Several schedulers: rows another one holds are skipped, not waited for. Holding the case row
        # also makes a clerk's concurrent step on it wait, then lose on the version check.
        return query.with_for_update(of=table, skip_locked=True)
    return query  # SQLite: writers are serialized by BEGIN IMMEDIATE


def _claim(conn, query, params: dict) -> list[tuple]:
    """Lock due timers and their cases; return (case or None if unavailable, its claimed timer rows) pairs."""
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        # The claim must walk the due-time index in order and stop at the limit. After a burst of new
        # timers, stale statistics make the planner read every due row and sort them instead: a cost per
        # batch that grows with the backlog (5 ms at 5,000 waiting, measured). For this statement only:
        # left on, it made the task inserts that follow 20 times slower.
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
    rows = conn.execute(_locked(conn, query, _timers), params).all()
    if postgresql:
        conn.exec_driver_sql("SET LOCAL enable_sort = on")
    if not rows:
        return []
    cases = {c.id: c for c in conn.execute(_locked(conn, _LOCK_CASES, _cases),
                                           {"b_ids": sorted({r.case_id for r in rows})}) if c.state == "running"}
    rows.sort(key=lambda r: r.case_id)
    return [(cases.get(case_id), list(group)) for case_id, group in groupby(rows, key=lambda r: r.case_id)]


def fire_due_timers(svc: Services, limit: int = 500, batch_size: int | None = None,
                    should_stop=lambda: False) -> FireResult:
    """Fire up to `limit` timers due now, a batch per transaction; a stop request ends it after a batch.

    `batch_size` None: TIMER_BATCH_SIZE, or SQLITE_TIMER_BATCH_SIZE on SQLite."""
    if not batch_size:
        batch_size = SQLITE_TIMER_BATCH_SIZE if svc.db.dialect.name == "sqlite" else TIMER_BATCH_SIZE
    fired = skipped = 0
    failed: list[str] = []
    while fired + skipped < limit and not should_stop():
        try:
            batch = _fire_batch(svc, min(batch_size, limit - fired - skipped), failed)
        except Conflict:  # the database is busy (SQLite lock timeout): the next pass tries again
            break
        if batch is None:
            break
        fired, skipped = fired + batch[0], skipped + batch[1]
        if not batch[2]:
            break  # what is left at the head of the queue cannot fire now; don't spin on it
    return FireResult(fired, skipped)


def _fire_batch(svc: Services, limit: int, failed: list[str]) -> tuple[int, int, bool] | None:
    """Claim and fire one batch; return (fired, skipped, whether any row changed), None if nothing is due."""
    claimed_ids: list[str] = []
    try:
        with svc.uow() as uow:
            conn = uow.conn
            now = svc.clock()
            params = {"b_now": now, "b_limit": limit, "b_skip": failed}
            claimed = _claim(conn, _CLAIM_BATCH_SKIPPING if failed else _CLAIM_BATCH, params)
            if not claimed:
                return None
            claimed_ids = [r.id for _case, rows in claimed for r in rows]
            fired = settled = 0
            # What every case of the batch would read for itself, read once: a round trip less per case.
            sync_calendar(svc, conn)
            case_ids = [case.id for case, _rows in claimed if case is not None]
            writes = _Writes(closures=svc.calendar.closures_fingerprint, with_deadlines=frozenset(
                conn.execute(_OPEN_DEADLINES, {"b_ids": case_ids}).scalars()) if case_ids else frozenset())
            for case, rows in claimed:
                if case is None:
                    continue  # another scheduler or a clerk holds the case (or it stopped running): next round
                done = _fire_case(svc, conn, case, rows, now, writes)
                fired, settled = fired + done[0], settled + done[0] + done[1]
            writes.flush(conn, now)
            uow.commit()
    except Exception as exc:  # noqa: BLE001 - rolled back whole; isolate the culprit below
        if not claimed_ids:
            raise
        # Savepoints per case would cost two round trips each; failures are rare, so redo this batch
        # one timer per transaction instead and let only the broken case stay behind.
        log.warning("a batch of %d timers failed (%s); firing them one by one", len(claimed_ids), exc)
        outcomes = {timer_id: _fire_alone(svc, timer_id) for timer_id in claimed_ids}
        failed.extend(timer_id for timer_id, outcome in outcomes.items() if outcome is None)
        fired = sum(1 for outcome in outcomes.values() if outcome)
        return fired, len(claimed_ids) - fired, True
    return fired, len(claimed_ids) - fired, settled > 0


def _fire_alone(svc: Services, timer_id: str) -> bool | None:
    """Fire one timer in its own transaction; None if it failed (noted on its row)."""
    try:
        return fire_timer(svc, timer_id)
    except Conflict:
        return False
    except Exception as exc:  # noqa: BLE001 - recorded on the timer row; tried again next pass
        log.exception("timer %s failed", timer_id)
        with svc.uow() as uow:
            uow.conn.execute(_NOTE_FAILURE, {"b_ids": [timer_id], "b_error": f"{type(exc).__name__}: {exc}"[:2000]})
            uow.commit()
        return None


def fire_timer(svc: Services, timer_id: str) -> bool:
    """Fire one timer if it is still waiting and due; False if someone else has it or it moved on."""
    with svc.uow() as uow:
        conn = uow.conn
        now = svc.clock()
        claimed = _claim(conn, _CLAIM_ONE, {"b_id": timer_id, "b_now": now})
        if not claimed or claimed[0][0] is None:
            return False
        writes = _Writes()
        fired, _cancelled = _fire_case(svc, conn, *claimed[0], now, writes)
        writes.flush(conn, now)
        uow.commit()
    return fired > 0


def _fire_case(svc: Services, conn, locked, rows: list, now: datetime, writes: _Writes) -> tuple[int, int]:
    """Fire the claimed timers of one locked case; return (fired, cancelled as stale)."""
    case = CaseRow(*locked[:6])
    wf = load_case_workflow(svc, conn, case, closures=writes.closures)
    before = snapshot(svc.runtime, wf)
    stale = [r.id for r in rows if r.id not in before.timers]
    if stale:  # the workflow no longer waits on them (the case moved on): never fire a stale timer
        conn.execute(_CANCEL_STALE, {"b_ids": stale, "b_now": now})
    if len(stale) == len(rows):
        return 0, len(stale)
    with stepping(StepContext(svc, conn, case.id, locked.number, case.process_key, now, None)):
        failure = svc.runtime.fire_timers(wf)
    after = snapshot(svc.runtime, wf)
    # SpiffWorkflow fires all of a case's due timers at once: a due timer that is gone fired; a cycle
    # timer that fired stays, due again later (project() moves its row).
    due = {tid: moment for tid, (_e, moment) in before.timers.items() if moment < now}
    gone = sorted(tid for tid in due if tid not in after.timers)
    fired = gone + sorted(tid for tid in due if tid in after.timers and after.timers[tid][1] != due[tid])
    if not fired and failure is None:
        return 0, len(stale)  # not yet due by SpiffWorkflow's reckoning; leave it waiting
    text, state, failure = dump_or_refuse(wf, state_after(wf, failure), failure)
    if text is None:  # in error with the state from before the timer; its rows stay waiting
        writes.save_case(case, case.workflow_json, state, failure, now)
        writes.events.extend(outcome_events(svc, conn, case.id, now, "error", failure))
        return 0, len(stale)
    writes.save_case(case, text, state, failure, now)
    # The gone rows are marked fired by the batch (`writes`), so project() must see them as still waiting.
    unfired = replace(before, timers={tid: v for tid, v in before.timers.items() if tid not in gone})
    project(conn, case.id, case.process_key, unfired, after, now, deadlines=svc.deadlines, visit_rows=writes.visits)
    writes.fired_ids.extend(gone)
    # A case without an open legal deadline before its step, whose step could open none (its workflow declares
    # none), has none to close if it completes.
    open_deadlines = writes.with_deadlines is None or case.id in writes.with_deadlines or after.legal
    writes.events.extend([event_row(case.id, now, "timer_fired", element_id=before.timers[tid][0], task_id=tid)
                          for tid in fired] + outcome_events(svc, conn, case.id, now, state, failure,
                                                               has_citizen_email=bool(locked.citizen_email),
                                                               open_deadlines=open_deadlines))
    return len({r.id for r in rows} & set(fired)), len(stale)
