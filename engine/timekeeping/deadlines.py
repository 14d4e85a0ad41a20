"""Task deadlines: due dates from `deadlineWorkingDays`, alerts before them, escalation when they pass."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction

from sqlalchemy import bindparam, insert, select, update

from engine.storage import models
from engine.mail.notifications import date_and_hour, enqueue_template
from engine.storage.persistence import append_events, event_row

log = logging.getLogger(__name__)
DEADLINE_PROPERTY = "deadlineWorkingDays"  # a number of working days, or the name of a plazo setting
OVERDUE_POINT = "vencido"
# Day 20 and day 25 of a 30-day petition (DOMAIN.md, assumed), as fractions so any deadline gets them.
DEFAULT_ALERT_POINTS = ("2/3", "5/6")
_alerts, _tasks, _cases = models.deadline_alerts, models.tasks, models.cases
_users, _groups, _members = models.users, models.groups, models.user_groups


def _alert_day(point: str, working_days: int) -> int:
    """The working day of an n-day deadline a point names: '2/3' of it, or '20' itself."""
    if "/" in point:
        return int(Fraction(point) * working_days)
    return int(point)


@dataclass(frozen=True)
class AlertPolicy:
    """When to warn before a task deadline, and who else hears of an overdue one."""

    points: tuple[str, ...] = DEFAULT_ALERT_POINTS  # fractions "a/b" of the deadline or working days "N"
    escalation_email: str | None = None  # besides the supervisors of the task's group

    def __post_init__(self):
        for point in self.points:
            try:
                value = Fraction(point) if "/" in point else int(point)
            except (ValueError, ZeroDivisionError):
                value = None
            if value is None or not (0 < value < 1 if "/" in point else value > 0):
                raise ValueError(f"deadline alert point {point!r}: use a fraction like 2/3 or a day like 20")

    @classmethod
    def from_env(cls, environ=None) -> "AlertPolicy":
        """Read EXPEDIENTE_DEADLINE_ALERTS ('2/3,5/6' or '20,25') and EXPEDIENTE_ESCALATION_EMAIL."""
        env = os.environ if environ is None else environ
        kwargs = {}
        if env.get("EXPEDIENTE_DEADLINE_ALERTS") is not None:
            kwargs["points"] = tuple(p.strip() for p in env["EXPEDIENTE_DEADLINE_ALERTS"].split(",") if p.strip())
        if env.get("EXPEDIENTE_ESCALATION_EMAIL"):
            kwargs["escalation_email"] = env["EXPEDIENTE_ESCALATION_EMAIL"]
        return cls(**kwargs)

    def alert_days(self, working_days: int) -> list[int]:
        """Working days (1 to n-1) of an n-day deadline on whose morning an alert goes out."""
        days = {_alert_day(p, working_days) for p in self.points}
        return sorted(d for d in days if 1 <= d < working_days)


DEFAULT_POLICY = AlertPolicy()


@dataclass(frozen=True)
class Deadline:
    working_days: int
    due_at: datetime                            # UTC, the office closing time of the last working day
    alerts: tuple[tuple[str, datetime], ...]    # (point, UTC moment), the escalation last


class DeadlinePlanner:
    """Due and alert moments of new tasks on the office calendar (closure days included)."""

    def __init__(self, calendar, policy: AlertPolicy | None = None, plazos: dict | None = None):
        self.calendar = calendar
        self.policy = policy or DEFAULT_POLICY
        self.plazos = plazos or {}

    def working_days(self, properties: dict) -> int | None:
        """The task's deadline in working days from its property, or None."""
        raw = properties.get(DEADLINE_PROPERTY)
        text = str(raw).strip() if raw is not None else ""
        if not text:
            return None
        if text.isdigit() and int(text) > 0:
            return int(text)
        if text in self.plazos:
            return int(self.plazos[text])
        # A modelling slip must not stop the clerk's step; the task simply has no deadline.
        log.warning("%s=%r is neither a number of days nor a plazo setting; no deadline", DEADLINE_PROPERTY, raw)
        return None

    def deadline(self, working_days: int, start: datetime) -> Deadline:
        """Deadline of a task that appears at `start` (after the cut-off it counts from the next working day)."""
        cal = self.calendar
        base = cal.effective_filing_date(start)
        due = cal.at_closing(cal.add_working_days(base, working_days)).astimezone(timezone.utc)
        opening = cal.settings.opening_time
        alerts = [(f"dia-{day}", datetime.combine(cal.add_working_days(base, day), opening, tzinfo=cal.tz)
                   .astimezone(timezone.utc)) for day in self.policy.alert_days(working_days)]
        return Deadline(working_days, due, tuple(alerts) + ((OVERDUE_POINT, due),))

    def plan(self, tasks, now: datetime) -> dict[str, Deadline]:
        """Deadlines of the tasks that declare one, by task id."""
        plans = {}
        for task in tasks:
            days = self.working_days(task.properties)
            if days is not None:
                plans[task.id] = self.deadline(days, now)
        return plans

    def record(self, conn, case_id: int, plans: dict[str, Deadline]) -> None:
        """Store the alert moments of freshly written task rows."""
        conn.execute(insert(_alerts), [
            {"task_id": task_id, "case_id": case_id, "point": point, "working_days": plan.working_days,
             "due_at": at, "state": "pending", "sent_at": None}
            for task_id, plan in plans.items() for point, at in plan.alerts])


# -- sending alerts -----------------------------------------------------------------------------------
_DUE = (select(_alerts.c.id, _alerts.c.task_id, _alerts.c.case_id, _alerts.c.point, _alerts.c.working_days,
               _tasks.c.state.label("task_state"), _tasks.c.title, _tasks.c.element_id, _tasks.c.due_at,
               _tasks.c.assignee, _tasks.c.candidate_group, _cases.c.number)
        .join(_tasks, _tasks.c.id == _alerts.c.task_id).join(_cases, _cases.c.id == _alerts.c.case_id)
        .where(_alerts.c.state == "pending", _alerts.c.due_at <= bindparam("b_now"))
        .order_by(_alerts.c.due_at).limit(bindparam("b_limit")))
_SETTLE = (update(_alerts).where(_alerts.c.id == bindparam("b_id"), _alerts.c.state == "pending")
           .values(state=bindparam("b_state"), sent_at=bindparam("b_now")))
_ACTIVE_EMAIL = (_users.c.active.is_(True)) & _users.c.email.is_not(None) & (_users.c.email != "")


def send_due_alerts(svc, limit: int = 200) -> int:
    """Queue mail for deadline alerts that are due, and escalate overdue tasks; return how many went out."""
    sent = 0
    with svc.uow() as uow:
        conn = uow.conn
        now = svc.clock()
        query = _DUE
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=_alerts, skip_locked=True)  # another scheduler takes the rest
        for row in conn.execute(query, {"b_now": now, "b_limit": limit}).all():
            done = row.task_state == "ready"  # a completed or cancelled task needs no reminder
            if conn.execute(_SETTLE, {"b_id": row.id, "b_state": "sent" if done else "cancelled",
                                      "b_now": now}).rowcount != 1 or not done:
                continue
            _notify(svc, conn, row, now)
            sent += 1
        uow.commit()
    return sent


def _notify(svc, conn, row, now: datetime) -> None:
    values = {"tarea": row.title, "numero": row.number, "dias": row.working_days,
              "vence": date_and_hour(row.due_at, svc.calendar), "grupo": row.candidate_group or "(sin grupo)",
              "asignado": row.assignee or "(nadie todavía)"}
    if row.point == OVERDUE_POINT:
        extra = svc.deadlines.policy.escalation_email
        recipients = _supervisors(conn, row.candidate_group) + ([extra] if extra else [])
        template = "plazo_vencido"
    else:
        recipients = _workers(conn, row.assignee, row.candidate_group)
        template = "alerta_plazo"
        values["dia"] = row.point.removeprefix("dia-")
    recipients = list(dict.fromkeys(recipients))
    for to in recipients:
        enqueue_template(conn, template, to=to, now=now, case_id=row.case_id, **values)
    if row.point == OVERDUE_POINT:
        append_events(conn, [event_row(row.case_id, now, "escalated", element_id=row.element_id, task_id=row.task_id,
                                       data={"due_at": row.due_at.isoformat(), "notified": recipients})])


def _workers(conn, assignee: str | None, group: str | None) -> list[str]:
    """The assignee's address, or those of the task's group while nobody has taken it."""
    if assignee:
        query = select(_users.c.email).where(_users.c.username == assignee, _ACTIVE_EMAIL)
    elif group:
        query = _in_group(group)
    else:
        return []
    return list(conn.execute(query).scalars())


def _supervisors(conn, group: str | None) -> list[str]:
    """Supervisors of the task's group, or every supervisor when the group has none."""
    found = list(conn.execute(_in_group(group).where(_users.c.role == "supervisor")).scalars()) if group else []
    if not found:
        query = select(_users.c.email).where(_users.c.role == "supervisor", _ACTIVE_EMAIL).order_by(_users.c.id)
        found = list(conn.execute(query).scalars())
    return found


def _in_group(group: str):
    return (select(_users.c.email).join(_members, _members.c.user_id == _users.c.id)
            .join(_groups, _groups.c.id == _members.c.group_id)
            .where(_groups.c.name == group, _ACTIVE_EMAIL).order_by(_users.c.id))
