"""The monthly summary for the ministry (/informes/mensual): per procedure, the cases filed, resolved and cancelled in
a month, open at its end and, of those, overdue (an office deadline, legal or a task's, had passed unmet by then).

The scheduler mails the previous month's summary to the Governor's office (Settings.reports_email,
EXPEDIENTE_REPORTS_EMAIL) from the first working day of each month on: one report_mailings row per month, inserted
in the transaction that queues the mail in the outbox, so two schedulers (or a restart) mail it once. The outbox
attaches only issued documents, so the summary travels in the body as a text table, with the page's address for the
CSV, XLSX and PDF.
"""
from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, func, insert, not_, or_, select
from sqlalchemy.exc import IntegrityError

from engine.accounts.permissions import Principal, use_case
from engine.errors import Conflict, InvalidInput
from engine.mail.notifications import enqueue_mail
from engine.messages import msg
from engine.reports.tables import INT, Column, Table
from engine.storage import models
from engine.timekeeping.calendar import MONTHS_ES, office_midnight
from engine.timekeeping.legal_deadlines import OWNER_STAFF

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

log = logging.getLogger(__name__)
REPORT = "mensual"
COUNTS = ("filed", "resolved", "cancelled", "open_at_end", "overdue_at_end")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_c, _v, _d, _t, _m = models.cases, models.process_versions, models.legal_deadlines, models.tasks, \
    models.report_mailings


def parse_month(text: str | None) -> date:
    """'YYYY-MM' as the month's first day; InvalidInput naming the field `mes`."""
    found = _MONTH.fullmatch((text or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
        raise InvalidInput("month is not YYYY-MM", errors=[{"field": "mes", "message": "YYYY-MM"}])
    return date(int(found.group(1)), int(found.group(2)), 1)


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def month_name(first: date) -> str:
    return f"{MONTHS_ES[first.month - 1]} de {first.year}"


@use_case("report.read")
def monthly_summary(svc: Services, principal: Principal, month: date) -> dict:
    """Per procedure: filed, resolved and cancelled in the month, open at its end and overdue then; and totals."""
    return summary(svc, month)


def summary(svc: Services, month: date) -> dict:
    """monthly_summary without a principal: what the scheduler mails."""
    first = month.replace(day=1)
    lo, hi = office_midnight(first), office_midnight(next_month(first))
    with svc.uow(write=False) as uow:
        conn = uow.conn

        def per_procedure(*conditions) -> dict[str, int]:
            rows = conn.execute(select(_c.c.process_key, func.count()).where(*conditions).group_by(_c.c.process_key))
            return dict(rows.all())

        closed_by_end = or_(and_(_c.c.state == "completed", _c.c.completed_at < hi),
                            and_(_c.c.state == "cancelled", _c.c.updated_at < hi))
        open_at_end = (_c.c.created_at < hi, not_(closed_by_end))
        legal_late = exists().where(_d.c.case_id == _c.c.id, _d.c.owner == OWNER_STAFF, _d.c.opened_at < hi,
                                    _d.c.due_at < hi, or_(_d.c.closed_at.is_(None), _d.c.closed_at >= hi))
        task_late = exists().where(_t.c.case_id == _c.c.id, _t.c.created_at < hi, _t.c.due_at < hi,
                                   or_(_t.c.completed_at.is_(None), _t.c.completed_at >= hi))
        counts = {
            "filed": per_procedure(_c.c.created_at >= lo, _c.c.created_at < hi),
            "resolved": per_procedure(_c.c.state == "completed", _c.c.completed_at >= lo, _c.c.completed_at < hi),
            "cancelled": per_procedure(_c.c.state == "cancelled", _c.c.updated_at >= lo, _c.c.updated_at < hi),
            "open_at_end": per_procedure(*open_at_end),
            "overdue_at_end": per_procedure(*open_at_end, or_(legal_late, task_late)),
        }
        names = dict(conn.execute(select(_v.c.process_key, _v.c.name).order_by(_v.c.version)).all())
    keys = sorted({k for per in counts.values() for k in per} | set(names))
    rows = [{"process_key": k, "name": names.get(k, k), **{c: counts[c].get(k, 0) for c in COUNTS}} for k in keys]
    totals = {c: sum(r[c] for r in rows) for c in COUNTS}
    return {"month": f"{first.year:04d}-{first.month:02d}", "month_name": month_name(first), "rows": rows,
            "totals": totals}


def monthly_table(result: dict) -> Table:
    return Table(msg("Resumen mensual por trámite: %(month)s", month=result["month_name"]),
                 [Column(msg("Trámite"), "name"), Column(msg("Presentados"), "filed", INT),
                  Column(msg("Resueltos"), "resolved", INT), Column(msg("Cancelados"), "cancelled", INT),
                  Column(msg("Abiertos al final del mes"), "open_at_end", INT),
                  Column(msg("De ellos, vencidos"), "overdue_at_end", INT)],
                 [*result["rows"], {"name": msg("Total"), **result["totals"]}],
                 msg("Vencidos: abiertos al final del mes con un plazo de la oficina (legal o de una tarea) ya "
                     "pasado sin cumplir."))


def body_text(result: dict, url: str) -> str:
    """The summary as the mail's plain text: a fixed-width table and where to download it."""
    width = max([len(r["name"]) for r in result["rows"]] + [len("Total"), 7])
    heads = ("Present.", "Resuel.", "Cancel.", "Abiertos", "Vencidos")
    lines = [f"Resumen mensual de expedientes de la Gobernación Departamental de Chimaltenango, "
             f"{result['month_name']}.", "",
             "Trámite".ljust(width) + "".join(h.rjust(10) for h in heads)]
    for row in [*result["rows"], {"name": "Total", **result["totals"]}]:
        lines.append(row["name"][:width].ljust(width) + "".join(str(row[c]).rjust(10) for c in COUNTS))
    lines += ["", "Abiertos: al final del mes. Vencidos: abiertos con un plazo de la oficina ya pasado sin cumplir.",
              f"CSV, Excel y PDF: {url}", "", "Mensaje automático del sistema Expediente."]
    return "\n".join(lines)


def due_month(svc: Services) -> date | None:
    """The month whose summary is due now: the previous one, from this month's first working day on."""
    today = svc.calendar.local_date(svc.clock())
    first = today.replace(day=1)
    first_working = first if svc.calendar.is_working_day(first) else svc.calendar.next_working_day(first)
    if today < first_working:
        return None
    return (first - timedelta(days=1)).replace(day=1)


def mail_monthly_summary(svc: Services) -> bool:
    """The scheduler's job: queue the previous month's summary for the Governor's office once; True if queued now."""
    to = svc.settings.reports_email
    month = due_month(svc)
    if not to or month is None:
        return False
    period = f"{month.year:04d}-{month.month:02d}"
    with svc.uow(write=False) as uow:
        if uow.conn.execute(select(_m.c.id).where(_m.c.report == REPORT, _m.c.period == period)).first():
            return False
    result = summary(svc, month)
    url = f"{svc.settings.public_base_url}/informes/mensual?mes={period}"
    now = svc.clock()
    try:
        with svc.uow() as uow:
            # The unique (report, period) row first: a second scheduler waits on it here and then fails, queuing
            # nothing; the mail and the row commit together.
            uow.conn.execute(insert(_m).values(report=REPORT, period=period, sent_at=now, recipients=to[:500]))
            enqueue_mail(uow.conn, to=to, subject=f"Resumen mensual de expedientes: {result['month_name']}",
                         body=body_text(result, url), now=now, kind="informe_mensual")
            uow.commit()
    except (IntegrityError, Conflict):  # the row is another scheduler's (or it holds the lock: it is queuing it)
        log.info("the %s summary of %s was queued by another scheduler", REPORT, period)
        return False
    return True
