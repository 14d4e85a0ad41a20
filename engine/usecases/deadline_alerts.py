"""Sending task deadline alerts: mail before a deadline, escalation to supervisors when it passes."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import bindparam, select, update

from engine.mail.notifications import date_and_hour, enqueue_template
from engine.storage import models
from engine.storage.persistence import append_events, event_row
from engine.timekeeping.deadlines import OVERDUE_POINT

log = logging.getLogger(__name__)
_alerts, _tasks, _cases = models.deadline_alerts, models.tasks, models.cases
_users, _groups, _members = models.users, models.groups, models.user_groups

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
    recipients = send_alert_mail(svc, conn, point=row.point, values=values, assignee=row.assignee,
                                 group=row.candidate_group, case_id=row.case_id, now=now)
    if row.point == OVERDUE_POINT:
        append_events(conn, [event_row(row.case_id, now, "escalated", element_id=row.element_id, task_id=row.task_id,
                                       data={"due_at": row.due_at.isoformat(), "notified": recipients})])


def send_alert_mail(svc, conn, *, point: str, values: dict, assignee: str | None, group: str | None, case_id: int,
                    now: datetime, groupless_to_supervisors: bool = False) -> list[str]:
    """Queue the mail of one deadline alert (a task's or a legal deadline's): before it, to whoever works it (the
    assignee, else the group; with no group, nobody, or every supervisor if asked); when it passes, to the group's
    supervisors and the escalation address. Returns the addresses told."""
    if point == OVERDUE_POINT:
        extra = svc.deadlines.policy.escalation_email
        recipients = _supervisors(conn, group) + ([extra] if extra else [])
        template = "plazo_vencido"
    else:
        recipients = (supervisor_addresses(conn) if groupless_to_supervisors and not (assignee or group)
                      else _workers(conn, assignee, group))
        template, values = "alerta_plazo", {**values, "dia": point.removeprefix("dia-")}
    recipients = list(dict.fromkeys(recipients))
    for to in recipients:
        enqueue_template(conn, template, to=to, now=now, case_id=case_id, **values)
    return recipients


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
    return found or supervisor_addresses(conn)


def group_addresses(conn, group: str) -> list[str]:
    """The addresses of a group's active members (an institution's overdue request tells them too)."""
    return list(conn.execute(_in_group(group)).scalars())


def supervisor_addresses(conn) -> list[str]:
    """Every active supervisor's address: who hears of what has no group to tell."""
    query = select(_users.c.email).where(_users.c.role == "supervisor", _ACTIVE_EMAIL).order_by(_users.c.id)
    return list(conn.execute(query).scalars())


def _in_group(group: str):
    return (select(_users.c.email).join(_members, _members.c.user_id == _users.c.id)
            .join(_groups, _groups.c.id == _members.c.group_id)
            .where(_groups.c.name == group, _ACTIVE_EMAIL).order_by(_users.c.id))
