"""Task deadlines: due dates from `deadlineWorkingDays` and the moments of the alerts before them (pure arithmetic on
the office calendar; engine.storage.persistence stores the alerts, engine.usecases.deadline_alerts sends them)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction

log = logging.getLogger(__name__)
DEADLINE_PROPERTY = "deadlineWorkingDays"  # a number of working days, or the name of a plazo setting
OVERDUE_POINT = "vencido"
# Day 20 and day 25 of a 30-day petition (DOMAIN.md, assumed), as fractions so any deadline gets them.
DEFAULT_ALERT_POINTS = ("2/3", "5/6")


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
