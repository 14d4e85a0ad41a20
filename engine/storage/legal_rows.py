"""Legal deadlines as dated rows, kept in the step's transaction: opened, extended and closed by the elements their
diagrams mark (`plazoLegal`, engine/timekeeping/legal_deadlines.py; persistence.project calls `project`), and shown
as the due moment of the office's open tasks (the inbox's "Vence").

Reading them, their alert mail: engine.usecases.legal_deadlines; a closure day moving them:
engine.usecases.deadline_moves.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, func, insert, or_, select, update
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.runtime.runner import all_tasks
from engine.storage import models
from engine.timekeeping import legal_deadlines as catalogue
from engine.timekeeping.legal_deadlines import (CATALOGUE, OWNER_CITIZEN, OWNER_STAFF, Schedule, alert_moments,
                                                due_moment, parse_moment, read_path)

log = logging.getLogger(__name__)
_rows, _alerts, _tasks = models.legal_deadlines, models.legal_deadline_alerts, models.tasks
_groups, _lanes = models.groups, models.lane_groups
OVERDUE = "vencido"
_SPEC_ATTR = "_expediente_legal_actions"
_DECLARES_ATTR = "_expediente_declares_legal"


@dataclass(frozen=True)
class Mark:
    """A completed element that acts on legal deadlines: what it does and the data it carries for them."""

    element_id: str
    lane: str | None
    actions: tuple
    values: dict          # key -> {"start", "due", "days"} raw values from the task's data
    order: float          # when it completed (SpiffWorkflow's last state change): the order of a step's actions
    by_timer: bool        # a timer event: the time ran out


def spec_actions(spec) -> tuple:
    """The (action, key) pairs an element declares, parsed once per spec (a bad value: none, logged)."""
    cached = spec.__dict__.get(_SPEC_ATTR)
    if cached is None:
        props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
        try:
            cached = tuple(catalogue.parse_actions(props.get(catalogue.PROPERTY)))
        except ValueError as exc:
            log.warning("%s of %s: %s", catalogue.PROPERTY, getattr(spec, "bpmn_id", spec), exc)
            cached = ()
        spec.__dict__[_SPEC_ATTR] = cached
    return cached


def declares(wf) -> bool:
    """Whether the process (or a process it calls) marks any element with legal deadline actions (cached)."""
    spec = wf.spec
    cached = spec.__dict__.get(_DECLARES_ATTR)
    if cached is None:
        specs = [spec, *getattr(wf, "subprocess_specs", {}).values()]
        cached = any(spec_actions(t) for s in specs for t in s.task_specs.values())
        spec.__dict__[_DECLARES_ATTR] = cached
    return cached


def project(conn, case_id: int, process_key: str, before: dict, after: dict, new_tasks: list, now: datetime,
            actor: str | None, planner) -> None:
    """The step's part for legal deadlines: act on the new marks, then date the office's open tasks."""
    from engine.storage.persistence import append_events  # persistence imports this module
    keeper = Keeper(planner.calendar, planner.plazos, planner.policy)
    events = keeper.apply(conn, case_id, process_key, before, after, now, actor)
    if events:
        append_events(conn, events)
        date_tasks(conn, case_id, staff_due(conn, case_id))
    elif new_tasks:
        due = staff_due(conn, case_id)
        if due is not None:
            date_tasks(conn, case_id, due, [t.id for t in new_tasks])


def legal_marks(wf) -> dict[str, Mark]:
    """Completed tasks of the workflow whose elements act on legal deadlines, by task id."""
    found = {}
    for task in all_tasks(wf):
        actions = spec_actions(task.task_spec)
        if not actions or task.state != TaskState.COMPLETED:
            continue
        values = {}
        for _action, key in actions:
            kind = CATALOGUE[key]
            values[key] = {"start": read_path(task.data, kind.start_var), "due": read_path(task.data, kind.due_var),
                           "days": read_path(task.data, kind.days_var)}
        definition = getattr(task.task_spec, "event_definition", None)
        found[str(task.id)] = Mark(task.task_spec.bpmn_id, getattr(task.task_spec, "lane", None), actions, values,
                                   task.last_state_change, isinstance(definition, TimerEventDefinition))
    return found


class Keeper:
    """Applies a step's new marks to the case's rows (one instance per step; the services' calendar and plazos)."""

    def __init__(self, calendar, plazos: dict, policy):
        self.calendar, self.plazos, self.policy = calendar, plazos, policy

    def apply(self, conn, case_id: int, process_key: str, before: dict, after: dict, now: datetime,
              actor: str | None) -> list[dict]:
        """Act on the marks new in `after`; return history rows for the step (the caller appends them)."""
        new = sorted((m for tid, m in after.items() if tid not in before), key=lambda m: m.order)
        events = []
        for mark in new:
            for action, key in mark.actions:
                event = getattr(self, "_" + {"abre": "open", "prorroga": "extend", "aviso": "told",
                                             "cierra": "close"}[action])(conn, case_id, process_key, key, mark, now,
                                                                         actor)
                if event:
                    events.append(event)
        return events

    # -- actions -----------------------------------------------------------------------------------------------
    def _open(self, conn, case_id, process_key, key, mark, now, actor):
        kind = CATALOGUE[key]
        raw = mark.values[key]
        start = parse_moment(raw["start"], self.calendar.tz) or now
        days = _int(raw["days"]) if raw["days"] is not None else (
            int(self.plazos[kind.days_setting]) * kind.days_factor if kind.days_setting else None)
        schedule = Schedule(start, days, kind.counting, 0, self._alert_days(kind, days))
        due = self._due_from_data(raw["due"]) or due_moment(self.calendar, schedule)
        if due is None:
            log.warning("legal deadline %s of case %s has neither a due date nor days; not opened", key, case_id)
            return None
        due = due.astimezone(timezone.utc)
        current = _open_row(conn, case_id, key)
        if current is not None:
            if current.start_at == start.astimezone(timezone.utc) and current.due_at == due:
                return None  # the same deadline marked again (a loop passing its opening element)
            self._finish(conn, current.id, "cancelled", now, mark.element_id)
        group = self._group(conn, process_key, mark.lane) if kind.owner != OWNER_CITIZEN else None
        row_id = conn.execute(insert(_rows).values(
            case_id=case_id, key=key, title=kind.title, basis=kind.basis, owner=kind.owner, owner_group=group,
            element_id=mark.element_id, start_at=start.astimezone(timezone.utc), days=days, counting=kind.counting,
            extension_days=0, due_at=due, state="open", opened_at=now,
            alert_days_json=json.dumps(list(schedule.alert_days)))).inserted_primary_key[0]
        self._plan_alerts(conn, row_id, case_id, kind, schedule, due)
        return deadline_event(case_id, now, "deadline_opened", mark.element_id, actor,
                      {"plazo": key, "inicio": start.isoformat(), "dias": days, "vence": due.isoformat()})

    def _extend(self, conn, case_id, process_key, key, mark, now, actor):
        kind = CATALOGUE[key]
        row = _open_row(conn, case_id, key)
        due = parse_moment(mark.values[key]["due"], self.calendar.tz)
        if row is None or due is None or due.astimezone(timezone.utc) <= row.due_at:
            return None
        due = due.astimezone(timezone.utc)
        extra = int(self.plazos.get(kind.extension_setting, 0)) if kind.extension_setting else 0
        conn.execute(update(_rows).where(_rows.c.id == row.id).values(
            due_at=due, extension_days=row.extension_days + extra, extended_at=now, extended_by=actor))
        self._move_overdue_alert(conn, row.id, due)
        return deadline_event(case_id, now, "deadline_extended", mark.element_id, actor,
                      {"plazo": key, "antes": row.due_at.isoformat(), "vence": due.isoformat(),
                       "fundamento": kind.extension_basis})

    def _told(self, conn, case_id, process_key, key, mark, now, actor):
        row = _open_row(conn, case_id, key)
        if row is None or row.citizen_told_at is not None:
            return None
        conn.execute(update(_rows).where(_rows.c.id == row.id).values(citizen_told_at=now))
        return deadline_event(case_id, now, "deadline_extension_notified", mark.element_id, actor, {"plazo": key})

    def _close(self, conn, case_id, process_key, key, mark, now, actor):
        kind = CATALOGUE[key]
        row = _open_row(conn, case_id, key)
        if row is None:
            return None
        if mark.by_timer:
            state = "expired"
        elif kind.owner == OWNER_CITIZEN:
            state = "used"
        else:
            state = "met" if now <= row.due_at else "late"
        self._finish(conn, row.id, state, now, mark.element_id)
        return deadline_event(case_id, now, "deadline_closed", mark.element_id, actor,
                      {"plazo": key, "resultado": state, "vence": row.due_at.isoformat()})

    # -- helpers -----------------------------------------------------------------------------------------------
    def _due_from_data(self, value) -> datetime | None:
        """The due moment the diagram's data gives; a bare date (D3's "8 July") falls due at the office's closing
        that day, on the next working day if the office is closed then, like the diagrams' add_calendar_days."""
        moment = parse_moment(value, self.calendar.tz)
        if moment is not None and isinstance(value, str) and len(value.strip()) == 10:
            day = self.calendar.add_days(moment.date(), 0, working=False)
            moment = self.calendar.at_closing(day)
        return moment

    def _alert_days(self, kind, days: int | None) -> tuple[int, ...]:
        if not kind.alerts_staff or not days:
            return ()
        if kind.alert_settings:
            return tuple(sorted({int(self.plazos[s]) for s in kind.alert_settings if 0 < int(self.plazos[s]) < days}))
        return tuple(self.policy.alert_days(days))

    def _plan_alerts(self, conn, row_id, case_id, kind, schedule, due):
        if not kind.alerts_staff:
            return
        points = alert_moments(self.calendar, schedule) + [(OVERDUE, due)]
        conn.execute(insert(_alerts), [{"deadline_id": row_id, "case_id": case_id, "point": point, "due_at": at,
                                        "state": "pending", "sent_at": None} for point, at in points])

    def _move_overdue_alert(self, conn, row_id, due):
        conn.execute(update(_alerts).where(_alerts.c.deadline_id == row_id, _alerts.c.point == OVERDUE,
                                           _alerts.c.state == "pending").values(due_at=due))

    def _finish(self, conn, row_id, state, now, element_id):
        conn.execute(update(_rows).where(_rows.c.id == row_id, _rows.c.state == "open")
                     .values(state=state, closed_at=now, closed_by=element_id))
        conn.execute(update(_alerts).where(_alerts.c.deadline_id == row_id, _alerts.c.state == "pending")
                     .values(state="cancelled", sent_at=now))

    def _group(self, conn, process_key, lane):
        if not lane:
            return None
        return conn.execute(select(_groups.c.name).join(_lanes, _lanes.c.group_id == _groups.c.id)
                            .where(_lanes.c.lane == lane, _lanes.c.process_key.in_([process_key, "*"]))
                            .order_by(_lanes.c.process_key == "*").limit(1)).scalar()


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _open_row(conn, case_id: int, key: str):
    return conn.execute(select(_rows).where(_rows.c.case_id == case_id, _rows.c.key == key,
                                            _rows.c.state == "open").order_by(_rows.c.id.desc()).limit(1)).first()


def deadline_event(case_id, now, kind, element_id, actor, data) -> dict:
    from engine.storage.persistence import event_row  # persistence imports this module
    return event_row(case_id, now, kind, element_id=element_id, actor=actor, data=data)


# -- the due moment of the office's open tasks ----------------------------------------------------------------------
_STAFF_DUE = (select(func.min(_rows.c.due_at)).where(_rows.c.case_id == bindparam("b_case"), _rows.c.state == "open",
                                                     _rows.c.owner == OWNER_STAFF))


def staff_due(conn, case_id: int) -> datetime | None:
    """The earliest open deadline the office owns in a case: the due moment its open tasks show."""
    return conn.execute(_STAFF_DUE, {"b_case": case_id}).scalar()


def date_tasks(conn, case_id: int, due: datetime | None, task_ids: list[str] | None = None) -> None:
    """Give the case's ready tasks (or those named) the office's earliest open deadline when it comes sooner than
    their own; with no deadline open, tasks fall back to their own (their deadline alert's moment) or none."""
    where = [_tasks.c.case_id == case_id, _tasks.c.state == "ready"]
    if task_ids is not None:
        where.append(_tasks.c.id.in_(task_ids))
    own = (select(models.deadline_alerts.c.due_at).where(models.deadline_alerts.c.task_id == _tasks.c.id,
                                                          models.deadline_alerts.c.point == OVERDUE)
           .limit(1).scalar_subquery())
    if due is None:
        conn.execute(update(_tasks).where(*where).values(due_at=own))
    else:
        conn.execute(update(_tasks).where(*where, or_(_tasks.c.due_at.is_(None), _tasks.c.due_at != due))
                     .values(due_at=func.coalesce(func.min(own, due) if conn.dialect.name == "sqlite"
                                                  else func.least(own, due), due)))


# Built once: every completing case asks (building the statement cost more than running it).
_OPEN_OF_CASE = select(_rows.c.id).where(_rows.c.case_id == bindparam("b_case"), _rows.c.state == "open")


def close_all(conn, case_id: int, now: datetime, state: str = "cancelled") -> None:
    """A case that ended: its open deadlines end with it (their alerts with them)."""
    ids = list(conn.execute(_OPEN_OF_CASE, {"b_case": case_id}).scalars())
    if ids:
        conn.execute(update(_rows).where(_rows.c.id.in_(ids)).values(state=state, closed_at=now))
        conn.execute(update(_alerts).where(_alerts.c.deadline_id.in_(ids), _alerts.c.state == "pending")
                     .values(state="cancelled", sent_at=now))
