"""The office's general reports over a period (issue 21): cases filed, resolved and open per month; cycle times per
procedure and per step; deadlines met, extended and breached; each clerk's workload. For supervisors, auditors and
administrators (report.read), over the whole office.

Every figure is a grouped SQL count or a column of durations over indexed tables (cases, tasks, legal_deadlines,
inbox_items, case_access), never a workflow. The period is office-local days, both included (reports_sql.ReportQuery);
the filters are a procedure (process_key), a municipality and a group (for cases: those with a task for the group;
for tasks and deadlines: the group that works them). Durations are in hours and in working days (reports_sql).

- A case is filed when created, resolved when completed, cancelled when cancelled (its last change), and open at
  the end of a month if filed before it and neither resolved nor cancelled by then.
- A legal deadline counts in the period its due moment falls in; only the office's own (owner "oficina"): met (closed
  in time), breached (closed late, run out, or still open past its due moment), pending (open, not yet due),
  extended (given extra days, art. 43 LAIP; also counted as met, breached or pending). Cancelled ones do not count.
- A task's deadline (tasks.due_at) likewise: met when completed by it, breached when completed after it or still
  open past it; tasks cancelled with their case do not count.
- Workload: a clerk's open tasks now (held by him) and how many of them are overdue; the tasks he completed in the
  period and how many of those after their due moment.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, not_, or_, select

from engine.accounts import auth
from engine.accounts.permissions import Principal, use_case
from engine.storage import models
from engine.timekeeping.legal_deadlines import OWNER_STAFF
from engine.usecases.reports_sql import (ReportQuery, case_conditions, duration_stats, in_period, month_of,
                                         read_query)

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

REPORTS = ("casos", "tiempos", "plazos", "carga")
YEARS_BEFORE = 5  # the closed days counted reach this many years before the period (durations rarely start earlier)
_c, _t, _d, _i = models.cases, models.tasks, models.legal_deadlines, models.inbox_items


def _query(svc: Services, conn, filters: dict) -> ReportQuery:
    return read_query(conn, svc.calendar.local_date(svc.clock()), **filters)


def _sum(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# -- (a) cases per month ---------------------------------------------------------------------------------------------
@use_case("report.read")
def cases_by_month(svc: Services, principal: Principal, **filters) -> dict:
    """Per month of the period: cases filed, resolved, cancelled, and open at the month's end (or the period's)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        q = _query(svc, conn, filters)
        return {"query": q, **_cases_by_month(conn, q)}


def _cases_by_month(conn, q: ReportQuery) -> dict:
    where = case_conditions(q)
    lo, hi = q.lo, q.hi

    def per_month(column, *conditions) -> dict[str, int]:
        month = month_of(conn, column).label("month")
        rows = conn.execute(select(month, func.count().label("n"))
                            .where(column >= lo, column < hi, *conditions, *where).group_by(month))
        return {r.month: r.n for r in rows}

    filed = per_month(_c.c.created_at)
    resolved = per_month(_c.c.completed_at, _c.c.state == "completed")
    cancelled = per_month(_c.c.updated_at, _c.c.state == "cancelled")
    closed_before = or_(and_(_c.c.state == "completed", _c.c.completed_at < lo),
                        and_(_c.c.state == "cancelled", _c.c.updated_at < lo))
    still_open = conn.execute(select(func.count()).select_from(_c)
                              .where(_c.c.created_at < lo, not_(closed_before), *where)).scalar_one()
    rows, totals = [], {"filed": 0, "resolved": 0, "cancelled": 0}
    for month in q.months():
        row = {"month": month, "filed": filed.get(month, 0), "resolved": resolved.get(month, 0),
               "cancelled": cancelled.get(month, 0)}
        still_open += row["filed"] - row["resolved"] - row["cancelled"]
        row["open_at_end"] = still_open
        rows.append(row)
        for key in totals:
            totals[key] += row[key]
    totals["open_at_end"] = still_open
    return {"rows": rows, "totals": totals}


# -- (b) cycle times -------------------------------------------------------------------------------------------------
@use_case("report.read")
def cycle_times(svc: Services, principal: Principal, **filters) -> dict:
    """Per procedure, the cases resolved in the period: filing to resolution; per step, the tasks completed in the
    period: arrival to completion. Each with how many, median and p90 in hours and in working days."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        q = _query(svc, conn, filters)
        return {"query": q, **_cycle_times(conn, svc.calendar, q)}


def _cycle_times(conn, calendar, q: ReportQuery) -> dict:
    where = [_c.c.state == "completed", *in_period(conn, q, _c.c.completed_at), *case_conditions(q)]
    years = range(q.start.year - YEARS_BEFORE, q.end.year + 1)
    by_case = duration_stats(conn, calendar, [_c.c.process_key], _c, _c.c.created_at, _c.c.completed_at, where,
                             years=years)
    procedures = [{"process_key": key[0], **stats} for key, stats in sorted(by_case.items())]
    step_where = [_t.c.state == "completed", *in_period(conn, q, _t.c.completed_at),
                  *case_conditions(q, by_group=False)]
    if q.group:
        step_where.append(_t.c.candidate_group == q.group)
    source = _t.join(_c, _c.c.id == _t.c.case_id)
    by_step = duration_stats(conn, calendar, [_c.c.process_key, _t.c.element_id], source, _t.c.created_at,
                             _t.c.completed_at, step_where, years=years, title=_t.c.title)
    steps = [{"process_key": key[0], "element_id": key[1], **stats, "title": stats.get("title") or key[1]}
             for key, stats in sorted(by_step.items())]
    return {"procedures": procedures, "steps": steps}


# -- (c) deadlines ---------------------------------------------------------------------------------------------------
DEADLINE_COUNTS = ("legal_total", "legal_met", "legal_extended", "legal_breached", "legal_pending",
                   "task_total", "task_met", "task_breached", "task_pending")


@use_case("report.read")
def deadlines(svc: Services, principal: Principal, **filters) -> dict:
    """Deadlines falling due in the period, met, extended, breached and pending, by procedure, by step and by group:
    the office's legal deadlines (legal_deadlines) and the tasks' own due moments (tasks.due_at)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        q = _query(svc, conn, filters)
        return {"query": q, **_deadlines(conn, q, svc.clock())}


def _deadlines(conn, q: ReportQuery, now) -> dict:
    legal_where = [_d.c.owner == OWNER_STAFF, _d.c.state != "cancelled", *in_period(conn, q, _d.c.due_at),
                   *case_conditions(q, by_group=False)]
    if q.group:
        legal_where.append(_d.c.owner_group == q.group)
    legal_counts = (func.count().label("legal_total"), _sum(_d.c.state == "met").label("legal_met"),
                    _sum(_d.c.extension_days > 0).label("legal_extended"),
                    _sum(_d.c.state.in_(("late", "expired")) | ((_d.c.state == "open") & (_d.c.due_at < now)))
                    .label("legal_breached"),
                    _sum((_d.c.state == "open") & (_d.c.due_at >= now)).label("legal_pending"),
                    func.max(_d.c.title).label("title"))
    legal_source = _d.join(_c, _c.c.id == _d.c.case_id)
    task_where = [_t.c.due_at.is_not(None), _t.c.state != "cancelled", *in_period(conn, q, _t.c.due_at),
                  *case_conditions(q, by_group=False)]
    if q.group:
        task_where.append(_t.c.candidate_group == q.group)
    done = _t.c.state == "completed"
    task_counts = (func.count().label("task_total"), _sum(done & (_t.c.completed_at <= _t.c.due_at)).label("task_met"),
                   _sum((done & (_t.c.completed_at > _t.c.due_at)) | ((_t.c.state == "ready") & (_t.c.due_at < now)))
                   .label("task_breached"),
                   _sum((_t.c.state == "ready") & (_t.c.due_at >= now)).label("task_pending"),
                   func.max(_t.c.title).label("title"))
    task_source = _t.join(_c, _c.c.id == _t.c.case_id)

    # One grouped query per source at the finest grain (procedure, step, group); every count is a sum, so the
    # three views are added up here from those few rows.
    finest = []
    for keys, counts, source, where, from_task in (
            ([_c.c.process_key, _d.c.element_id, _d.c.owner_group], legal_counts, legal_source, legal_where, False),
            ([_c.c.process_key, _t.c.element_id, _t.c.candidate_group], task_counts, task_source, task_where, True)):
        for r in conn.execute(select(*keys, *counts).select_from(source).where(*where).group_by(*keys)):
            numbers = {k: v for k, v in r._mapping.items() if k in DEADLINE_COUNTS}
            finest.append((tuple(r[:3]), numbers, r.title, from_task))

    def tally(pick: tuple[int, ...], names: list[str]) -> dict[tuple, dict]:
        found: dict[tuple, dict] = {}
        for key3, numbers, title, from_task in finest:
            key = tuple(key3[i] for i in pick)
            row = found.setdefault(key, {**dict(zip(names, key)), **dict.fromkeys(DEADLINE_COUNTS, 0)})
            for k, v in numbers.items():
                row[k] += v or 0
            if "element_id" in names and title:  # a task's name before a deadline's
                if from_task:
                    row["title"] = max(title, row.get("task_title") or "")
                    row["task_title"] = row["title"]
                elif not row.get("task_title"):
                    row["title"] = max(title, row.get("title") or "")
        for row in found.values():
            row.pop("task_title", None)
        return found

    by_procedure = tally((0,), ["process_key"])
    by_step = tally((0, 1), ["process_key", "element_id"])
    by_group = tally((2,), ["group"])

    def order(found: dict) -> list[dict]:
        return [found[k] for k in sorted(found, key=lambda k: tuple("" if v is None else v for v in k))]

    return {"procedures": order(by_procedure), "steps": order(by_step), "groups": order(by_group),
            "totals": {k: sum(r[k] for r in by_procedure.values()) for k in DEADLINE_COUNTS}}


# -- (d) workload ----------------------------------------------------------------------------------------------------
@use_case("report.read")
def workload(svc: Services, principal: Principal, **filters) -> dict:
    """Per clerk: open tasks he holds now and how many are overdue; tasks he completed in the period and how many of
    those after their due moment."""
    now = svc.clock()
    with svc.uow(write=False) as uow:
        conn = uow.conn
        q = _query(svc, conn, filters)
        return {"query": q, "now": now, **_workload(conn, q, now)}


def _workload(conn, q: ReportQuery, now) -> dict:
    open_where = [_i.c.assignee > ""]
    if q.process_key:
        open_where.append(_i.c.process_key == q.process_key)
    if q.municipality:
        open_where.append(_i.c.municipality == q.municipality)
    if q.group:
        open_where.append(_i.c.candidate_group == q.group)
    holding = conn.execute(select(_i.c.assignee, func.count().label("open"), _sum(_i.c.due_hi < now).label("overdue"))
                           .where(*open_where).group_by(_i.c.assignee)).all()
    done_where = [_t.c.state == "completed", *in_period(conn, q, _t.c.completed_at),
                  _t.c.completed_by.is_not(None), *case_conditions(q, by_group=False)]
    if q.group:
        done_where.append(_t.c.candidate_group == q.group)
    source = _t.join(_c, _c.c.id == _t.c.case_id) if (q.process_key or q.municipality) else _t
    done = conn.execute(select(_t.c.completed_by, func.count().label("completed"),
                               _sum(_t.c.completed_at > _t.c.due_at).label("completed_late"))
                        .select_from(source).where(*done_where).group_by(_t.c.completed_by)).all()
    clerks: dict[str, dict] = {}

    def clerk(username: str) -> dict:
        return clerks.setdefault(username, {"username": username, "name": username, "open": 0, "overdue": 0,
                                            "completed": 0, "completed_late": 0})

    for r in holding:
        clerk(r.assignee).update(open=r.open, overdue=r.overdue)
    for r in done:
        clerk(r.completed_by).update(completed=r.completed, completed_late=r.completed_late)
    for username, name in auth.display_names(conn, list(clerks)).items():
        clerks[username]["name"] = name
    rows = sorted(clerks.values(), key=lambda c: (-c["open"], -c["completed"], c["username"]))
    totals = {k: sum(r[k] for r in rows) for k in ("open", "overdue", "completed", "completed_late")}
    return {"rows": rows, "totals": totals}


USE_CASES = {"casos": cases_by_month, "tiempos": cycle_times, "plazos": deadlines, "carga": workload}


@use_case("report.read")
def filter_choices(svc: Services, principal: Principal) -> dict:
    """What the reports' filters offer: the deployed procedures (key and latest name), the groups, the
    municipalities cases name (read from the municipality index)."""
    pv, g = models.process_versions, models.groups
    with svc.uow(write=False) as uow:
        conn = uow.conn
        latest = select(pv.c.process_key, func.max(pv.c.version).label("v")).group_by(pv.c.process_key).subquery()
        procedures = [dict(r) for r in conn.execute(
            select(pv.c.process_key, pv.c.name).join(latest, (latest.c.process_key == pv.c.process_key)
                                                     & (latest.c.v == pv.c.version))
            .order_by(pv.c.name, pv.c.process_key)).mappings()]
        groups = list(conn.execute(select(g.c.name).order_by(g.c.name)).scalars())
        towns = list(conn.execute(select(_c.c.municipality).where(_c.c.municipality.is_not(None))
                                  .group_by(_c.c.municipality).order_by(_c.c.municipality)).scalars())
    return {"procedures": procedures, "groups": groups, "municipalities": towns}
