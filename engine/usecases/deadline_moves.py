"""A closure day added or removed moves what was counted over it: the open legal deadlines whose window holds the
day (their rows, alerts, the data their diagrams' timers read, the institutions' requests) and the waiting timers
whose window holds it (their date expressions evaluated again on the new calendar), in the caller's transaction,
each move recorded in the case's history.

A timer whose expression reads the clock (`now()`) is left as it is: evaluated again it would count from now, not
from when it started. Cases in error keep their stored workflow (their rows still move); they are listed.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select, update
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.runtime.runner import all_tasks
from engine.storage import models
from engine.storage.persistence import (append_events, event_row, load_case_workflow, project, read_case, snapshot,
                                        write_case)
from engine.timekeeping import legal_deadlines as catalogue
from engine.timekeeping.legal_deadlines import CATALOGUE, Schedule, alert_moments, due_moment, parse_moment
from engine.storage import legal_rows
from engine.storage.legal_rows import OVERDUE

log = logging.getLogger(__name__)
_rows, _alerts, _timers = models.legal_deadlines, models.legal_deadline_alerts, models.timers
_requests = models.institution_requests
_REWRITABLE = ("running", "suspended")


def move_for_closure(svc, conn, day: date, now: datetime, actor: str | None, added: bool) -> dict:
    """Move what counted over `day` on the services' calendar as it now is (the caller changed it); return
    {"deadlines": n, "timers": n, "cases": [numbers], "skipped": [numbers of cases in error]}."""
    cal = svc.calendar
    start = datetime.combine(day, time(0), tzinfo=cal.tz).astimezone(timezone.utc)
    end = start + timedelta(days=1)
    change = {"dia": day.isoformat(), "cierre": "agregado" if added else "quitado"}
    rewrites: dict[int, dict[str, str]] = {}   # case -> {data path: new due}
    moved_rows = 0
    rows = conn.execute(select(_rows).where(_rows.c.state == "open", _rows.c.days.is_not(None),
                                            _rows.c.start_at < end, _rows.c.due_at >= start)
                        .order_by(_rows.c.case_id, _rows.c.id)).mappings().all()
    before_cal = _without_change(cal, day, added)
    events = []
    for row in rows:
        schedule = Schedule(row["start_at"], row["days"], row["counting"], row["extension_days"],
                            tuple(json.loads(row["alert_days_json"] or "[]")))
        due = _moved_due(before_cal, cal, schedule, row["due_at"])
        if due is None or due == row["due_at"]:
            continue
        moved_rows += 1
        conn.execute(update(_rows).where(_rows.c.id == row["id"]).values(due_at=due))
        for point, at in alert_moments(cal, schedule) + [(OVERDUE, due)]:
            conn.execute(update(_alerts).where(_alerts.c.deadline_id == row["id"], _alerts.c.point == point,
                                               _alerts.c.state == "pending").values(due_at=at))
        conn.execute(update(_requests).where(_requests.c.case_id == row["case_id"], _requests.c.state == "open",
                                             _requests.c.due_at == row["due_at"]).values(due_at=due))
        kind = CATALOGUE.get(row["key"])
        if kind is not None and kind.due_var:
            rewrites.setdefault(row["case_id"], {})[kind.due_var] = due
        events.append(event_row(row["case_id"], now, "deadline_moved", actor=actor,
                                data={**change, "plazo": row["key"], "antes": row["due_at"].isoformat(),
                                      "vence": due.isoformat()}))
    append_events(conn, events)
    for case_id in sorted({row["case_id"] for row in rows}):  # the office's open tasks show the moved due moments
        legal_rows.date_tasks(conn, case_id, legal_rows.staff_due(conn, case_id))
    timer_cases = set(conn.execute(select(_timers.c.case_id).where(
        _timers.c.state == "waiting", _timers.c.created_at < end, _timers.c.due_at >= start)).scalars())
    moved_timers, touched, skipped = 0, [], []
    for case_id in sorted(timer_cases | set(rewrites)):
        case = read_case(conn, case_id)
        if case is None or case.state not in _REWRITABLE:
            if case is not None and case.state == "error":
                skipped.append(case_id)
            continue
        moved = _rewrite_case(svc, conn, case, rewrites.get(case_id, {}), now, actor, change)
        if moved is not None:
            moved_timers += moved
            touched.append(case_id)
    return {"deadlines": moved_rows, "timers": moved_timers, "cases": _numbers(conn, set(touched) | set(rewrites)),
            "skipped": _numbers(conn, set(skipped))}


def _without_change(cal, day: date, added: bool):
    """The calendar as it was before `day` was added (or removed) as a closure day."""
    if added:
        return type(cal)(cal.settings, {d: why for d, why in cal.closures.items() if d != day})
    return cal.with_closures([day])


def _moved_due(before_cal, cal, schedule: Schedule, due_at: datetime) -> datetime | None:
    """The row's due moment on the changed calendar. A due moment the diagram fixed otherwise than by counting the
    row's days from its start (an oficio inheriting what remains of a petition's term, an institution's earlier
    date) keeps its own length: the working days from the start to it on the calendar before the change."""
    if due_moment(before_cal, schedule) == due_at:
        return due_moment(cal, schedule)
    first, last = before_cal.local_date(schedule.start), before_cal.local_date(due_at)
    days = before_cal.working_days_between(first, last)
    if days <= 0:
        return None
    moved_day = cal.add_working_days(first, days)
    local_due = before_cal.to_local(due_at)
    if local_due.time() == before_cal.closing_time(last):
        return cal.at_closing(moved_day).astimezone(timezone.utc)
    return datetime.combine(moved_day, local_due.time(), tzinfo=cal.tz).astimezone(timezone.utc)


def _rewrite_case(svc, conn, case, rewrites: dict, now, actor, change) -> int | None:
    """Write the moved due dates into the case's open data and evaluate its date timers again; save if anything
    changed; return how many timers moved (None: nothing changed)."""
    wf = load_case_workflow(svc, conn, case)
    before = snapshot(svc.runtime, wf)
    changed = False
    # The open tasks and the tasks they inherit from: SpiffWorkflow merges a waiting task's parent's data over
    # its own each time it is updated (at every later step), which would bring the old due moment back.
    open_tasks = [t for t in all_tasks(wf) if t.state & TaskState.NOT_FINISHED_MASK]
    holders = {id(t): t for t in open_tasks + [t.parent for t in open_tasks if t.parent is not None]}
    for task in holders.values():
        for path, due in rewrites.items():
            old = catalogue.read_path(task.data, path)
            if old is not None:
                changed |= catalogue.write_path(task.data, path, _like(old, due, svc.calendar.tz))
    moved = 0
    for task in all_tasks(wf):
        definition = getattr(task.task_spec, "event_definition", None)
        if not (task.state & TaskState.WAITING and isinstance(definition, TimeDateEventDefinition)):
            continue
        if "now(" in (definition.expression or "") or task._get_internal_data("event_value") is None:
            continue
        value = wf.script_engine.evaluate(task, definition.expression)
        value = value.isoformat() if isinstance(value, datetime) else value
        if value != task._get_internal_data("event_value"):
            task._set_internal_data(event_value=value)
            moved += 1
            changed = True
    if not changed:
        return None
    write_case(conn, case, wf, case.state, None, now)
    after = snapshot(svc.runtime, wf)
    project(conn, case.id, case.process_key, before, after, now, deadlines=svc.deadlines, actor=actor)
    moves = [{"elemento": after.timers[tid][0], "antes": before.timers[tid][1].isoformat(),
              "vence": after.timers[tid][1].isoformat()}
             for tid in after.timers if tid in before.timers and before.timers[tid][1] != after.timers[tid][1]]
    if moves:
        append_events(conn, [event_row(case.id, now, "timers_moved", actor=actor, data={**change, "timers": moves})])
    return moved


def _like(old, due: datetime, tz) -> str:
    """The new due moment written as the diagram wrote the old one (UTC, or with the office's offset)."""
    previous = parse_moment(old, tz)
    zone = previous.tzinfo if previous is not None else timezone.utc
    return due.astimezone(zone).isoformat()


def _numbers(conn, case_ids: set) -> list[str]:
    if not case_ids:
        return []
    c = models.cases
    return list(conn.execute(select(c.c.number).where(c.c.id.in_(sorted(case_ids))).order_by(c.c.id)).scalars())

