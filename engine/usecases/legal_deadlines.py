"""Legal deadlines of cases, read and alerted: the case page's and the citizen's list (case_deadlines), the API's
use case (list_case_deadlines) and the alert mail the scheduler sends (send_due_alerts). The rows are kept by the
steps themselves (engine.storage.legal_rows); a closure day moves them (engine.usecases.deadline_moves).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update

from engine.accounts.permissions import check_case_visible, use_case
from engine.mail.notifications import date_and_hour
from engine.storage.persistence import append_events
from engine.usecases.deadline_alerts import send_alert_mail
from engine.storage import models
from engine.storage.legal_rows import OVERDUE, deadline_event

_rows, _alerts = models.legal_deadlines, models.legal_deadline_alerts


# -- reading ---------------------------------------------------------------------------------------------------------
def case_deadlines(conn, case_id: int, calendar, now: datetime) -> list[dict]:
    """A case's deadlines, open first, with the working days left of the open ones."""
    rows = conn.execute(select(_rows).where(_rows.c.case_id == case_id)
                        .order_by((_rows.c.state != "open"), _rows.c.due_at)).mappings().all()
    today = calendar.local_date(now)
    result = []
    for row in rows:
        item = dict(row)
        due_day = calendar.local_date(row["due_at"])
        if row["state"] == "open":
            item["working_days_left"] = (calendar.working_days_between(today, due_day) if due_day >= today
                                         else -calendar.working_days_between(due_day, today))
            item["overdue"] = now > row["due_at"]
        result.append(item)
    return result



# -- alert mail ------------------------------------------------------------------------------------------------------
def send_due_alerts(svc, limit: int = 200) -> int:
    """Queue the mail of legal deadline alerts that are due (the owning group before, its supervisors and the
    escalation address when it passes); each goes once. Return how many alerts went out."""
    c = models.cases
    query = (select(_alerts.c.id, _alerts.c.point, _alerts.c.case_id, _rows.c.id.label("row_id"), _rows.c.key,
                    _rows.c.title, _rows.c.days, _rows.c.due_at, _rows.c.state.label("row_state"),
                    _rows.c.owner_group, _rows.c.element_id, c.c.number)
             .join(_rows, _rows.c.id == _alerts.c.deadline_id).join(c, c.c.id == _alerts.c.case_id)
             .where(_alerts.c.state == "pending", _alerts.c.due_at <= bindparam("b_now"))
             .order_by(_alerts.c.due_at).limit(limit))
    sent = 0
    with svc.uow() as uow:
        conn = uow.conn
        now = svc.clock()
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=_alerts, skip_locked=True)  # another scheduler takes the rest
        for row in conn.execute(query, {"b_now": now}).all():
            live = row.row_state == "open"
            if conn.execute(update(_alerts).where(_alerts.c.id == row.id, _alerts.c.state == "pending")
                            .values(state="sent" if live else "cancelled", sent_at=now)).rowcount != 1 or not live:
                continue
            values = {"tarea": row.title, "numero": row.number, "dias": row.days or "",
                      "vence": date_and_hour(row.due_at, svc.calendar), "grupo": row.owner_group or "(sin grupo)",
                      "asignado": "(plazo legal del expediente)"}
            recipients = send_alert_mail(svc, conn, point=row.point, values=values, assignee=None,
                                         group=row.owner_group, case_id=row.case_id, now=now,
                                         groupless_to_supervisors=True)
            append_events(conn, [deadline_event(row.case_id, now, "deadline_escalated" if row.point == OVERDUE
                                        else "deadline_alerted", row.element_id, None,
                                        {"plazo": row.key, "punto": row.point, "vence": row.due_at.isoformat(),
                                         "avisados": recipients})])
            sent += 1
        uow.commit()
    return sent


# -- the use case reading them ----------------------------------------------------------------------------------------
@use_case("case.read")
def list_case_deadlines(svc, principal, case_id: int) -> list[dict]:
    """The legal deadlines of a case the principal may see: open first with the working days left."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        return case_deadlines(uow.conn, case_id, svc.calendar, svc.clock())
