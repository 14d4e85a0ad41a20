"""Use cases on whole cases: start, list, read, history, the case and receipt pages; suspend, resume, cancel, retry.

Each takes the acting principal and checks his role (permissions.use_case) and his reach (a case he may not
see does not exist for him) in its own unit of work."""
from __future__ import annotations

from typing import TYPE_CHECKING

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import orjson
from sqlalchemy import and_, bindparam, exists, func, select, true, update

from engine.timekeeping.calendar import OFFICE_TZ, office_midnight
from engine.storage import models
from engine.storage.db import count_up
from engine.runtime import serializer
from engine import values
from engine.errors import CaseNotFound, Conflict, InvalidInput, ProcessNotFound
from engine.messages import msg
from engine.mail.notifications import enqueue_receipt, mail_of_case
from engine.storage.persistence import (
    EMPTY, append_events, bump_case, dump_state, event_row, insert_case, load_case_workflow, project, refusal,
    require_case, snapshot, state_after, write_step,
)
from engine.runtime.runner import current_data, element_marks, start_form_key
from engine.usecases.attachments import attachments_of
from engine.usecases.deploy import forms_of_version
from engine.usecases.documents import documents_shown, issue_receipt_now
from engine.usecases.intake import process_name, process_names
from engine.usecases.outcomes import outcome_events
from engine.usecases import legal_deadlines
from engine.storage import legal_rows
from engine.storage.closure_sync import FINGERPRINT_COLUMNS, sync_calendar
from engine.usecases.inbox import COUNT_CAP
from engine.usecases.paging import page_window
from engine.accounts import auth, permissions
from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.runtime.storable import StateRejected
from engine.runtime.steps import StepContext, stepping

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

# No 0/O, 1/I/L: the code is read aloud over the phone and typed by citizens.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_cases = models.cases
_versions = models.process_versions
_counters = models.case_counters
_c, _v, _t = models.cases, models.process_versions, models.tasks
_LATEST_VERSION = (select(_versions.c.id, _versions.c.version, *FINGERPRINT_COLUMNS)
                   .where(_versions.c.process_key == bindparam("b_key"))
                   .order_by(_versions.c.version.desc()).limit(1))
# Upsert-and-return of the yearly counter, one per dialect (both speak ON CONFLICT ... RETURNING).
_NEXT_SEQ = count_up(_counters, {"name": bindparam("b_name")}, [_counters.c.name], _counters.c.value)


@dataclass(frozen=True)
class StartedCase:
    id: int
    number: str
    tracking_code: str
    state: str
    version: int
    process_version: int
    ready_tasks: list[dict]


@use_case("case.start")
def start_case(svc: Services, principal: Principal, process_key: str, data: dict | None = None,
               summary: dict | None = None, on_filed=None) -> StartedCase:
    """Start a case on the latest version of a process and run it until it waits; the principal files it.
    `on_filed(conn, case_id, now)` runs in the filing's transaction before the receipt (an online filing attaches
    its files there, or refuses the case by raising)."""
    data = check_data(data or {})
    if ORIGIN in data:
        raise InvalidInput(msg("'origen' lo pone el expediente que abre este por mensaje; no se puede dar al iniciar "
                               "un expediente"), errors=[{"field": f"data.{ORIGIN}", "message": "reserved"}])
    with svc.uow() as uow:
        started = start_in(svc, uow.conn, principal.username, process_key, data, summary, on_filed)
        uow.commit()
    return started


# The field a case opened by another case's message gets (engine/usecases/messaging.py): which case opened it.
# Only a message start writes it; nobody filing a case may, or his case could answer into any other.
ORIGIN = "origen"


def start_in(svc: Services, conn, actor: str | None, process_key: str, data: dict, summary: dict | None = None,
             on_filed=None, before_steps=None) -> StartedCase:
    """start_case inside the caller's transaction (a message that starts a case uses it too). The case row is
    written before its first steps run, so a service task at the start knows its case (engine.runtime.steps).
    `before_steps(wf)` may prepare the new workflow before it runs (e.g. catch the message that starts it)."""
    row = conn.execute(_LATEST_VERSION, {"b_key": process_key}).first()
    if row is None:
        raise ProcessNotFound(f"no process '{process_key}' is deployed", process_key=process_key)
    # A closure day another worker declared counts from this filing on (its fingerprint came with the version).
    sync_calendar(svc, conn, fingerprint=(row.closures_count, row.closures_max))
    spec, subprocess_specs = svc.specs.get(conn, row.id)
    citizen_email = None
    forms = forms_of_version(svc, conn, row.id)  # the forms this version was deployed with
    if forms is not None:
        form_key = start_form_key(spec)
        data = forms.validate(form_key, data)
        summary = {**forms.summary(form_key, data), **(summary or {})}
        citizen_email = forms.citizen_email(form_key, data)  # the field the form marks x-correo-ciudadano
    wf = svc.runtime.new_workflow(spec, subprocess_specs, data)
    now = svc.clock()
    number = next_case_number(conn, svc, now)
    tracking = new_tracking_code(svc.settings.tracking_code_length)
    summary = summary or {}
    case_id = insert_case(conn, {
        "number": number, "tracking_code": tracking, "process_key": process_key,
        "process_version_id": row.id, "state": "running", "version": 1,
        # Written by _FIRST_STEP below, in this transaction: nobody ever reads this placeholder.
        "workflow_json": "", "serializer_version": serializer.SERIALIZER_VERSION,
        "created_at": now, "updated_at": now, "completed_at": None, "created_by": actor,
        "error_element": None, "error_message": None,
        "title": _text(summary.get("title"), 300), "applicant_name": _text(summary.get("applicant_name"), 200),
        "applicant_dpi": _text(summary.get("applicant_dpi"), 20),
        "municipality": _text(summary.get("municipality"), 100),
        "citizen_email": _text(citizen_email, 254),
    })
    with stepping(StepContext(svc, conn, case_id, number, process_key, now, actor)):
        failure = svc.runtime.advance(wf) if before_steps is None else before_steps(wf)
    try:
        workflow_json = dump_state(wf)
    except StateRejected as exc:
        # Nothing the diagram did can be kept: the case is stored as filed, in error; a retry starts it over.
        failure = refusal(exc)
        wf = svc.runtime.new_workflow(spec, subprocess_specs, data)
        workflow_json = dump_state(wf)
    state = state_after(wf, failure)
    conn.execute(_FIRST_STEP, {"b_id": case_id, "workflow_json": workflow_json, "state": state,
                               "completed_at": now if state == "completed" else None,
                               "error_element": failure.element_id if failure else None,
                               "error_message": failure.message if failure else None})
    append_events(conn, [event_row(case_id, now, "case_started", actor=actor, data=data, element_id=process_key)])
    after = snapshot(svc.runtime, wf)
    ready = after.tasks
    project(conn, case_id, process_key, EMPTY, after, now, deadlines=svc.deadlines)
    if on_filed is not None:
        on_filed(conn, case_id, now)
    # Only if the intake gives the citizen's address; the scheduler sends it, so SMTP never holds up filing.
    # With an address, the receipt is issued now (rendered in this transaction, about 0.1 s) and attached.
    if citizen_email is not None:
        receipt = issue_receipt_now(svc, conn, case_id, actor)
        enqueue_receipt(conn, to=citizen_email, applicant_name=summary.get("applicant_name"), case_id=case_id,
                        number=number, tracking_code=tracking, process_name=spec.description or process_key,
                        filed_at=now, calendar=svc.calendar, base_url=svc.settings.public_base_url,
                        document_id=receipt["id"])
    # Last, so a case that completes at filing mails its closure after its receipt.
    append_events(conn, outcome_events(svc, conn, case_id, now, state, failure))
    return StartedCase(case_id, number, tracking, state, 1, row.version,
                       [{"id": t.id, "element_id": t.element_id, "title": t.title} for t in ready])


# The case row as its first steps left it (same transaction as its insert: the version stays 1).
_FIRST_STEP = (update(_c).where(_c.c.id == bindparam("b_id"))
               .values(workflow_json=bindparam("workflow_json"), state=bindparam("state"),
                       completed_at=bindparam("completed_at"), error_element=bindparam("error_element"),
                       error_message=bindparam("error_message")))


def _text(value, limit: int):
    return None if value is None else str(value)[:limit]


_NUMBER = select(_c.c.number).where(_c.c.id == bindparam("b_id"))


def case_number(conn, case_id: int) -> str:
    return conn.execute(_NUMBER, {"b_id": case_id}).scalar_one()


def check_data(data) -> dict:
    """Refuse (ValueRejected, naming the field) data a case cannot store faithfully; nothing is written."""
    values.check_data(data)
    return data


def next_case_number(conn, svc: Services, now) -> str:
    """Next number of this year's sequence; the increment commits or rolls back with the case."""
    year = now.astimezone(OFFICE_TZ).year
    seq = conn.execute(_NEXT_SEQ[conn.dialect.name], {"b_name": str(year)}).scalar_one()
    return svc.settings.case_number_pattern.format(year=year, seq=seq)


def new_tracking_code(length: int) -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(length))


@use_case("case.read")
def get_case(svc: Services, principal: Principal, case_id: int) -> dict:
    """The case's indexed summary (no workflow loaded)."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        row = uow.conn.execute(
            select(_cases.c.id, _cases.c.number, _cases.c.tracking_code, _cases.c.process_key,
                   _cases.c.state, _cases.c.version, _cases.c.created_at, _cases.c.updated_at,
                   _cases.c.completed_at, _cases.c.error_element, _cases.c.error_message,
                   _versions.c.version.label("process_version"))
            .join(_versions, _versions.c.id == _cases.c.process_version_id)
            .where(_cases.c.id == case_id)
        ).mappings().first()
    if row is None:
        raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)
    return dict(row)


@use_case("case.read")
def case_history(svc: Services, principal: Principal, case_id: int) -> list[dict]:
    """Every event of the case, oldest first."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        return _history(uow.conn, case_id)


def _history(conn, case_id: int) -> list[dict]:
    e = models.events
    rows = conn.execute(select(e).where(e.c.case_id == case_id).order_by(e.c.id)).mappings().all()
    return [{**r, "data": orjson.loads(r["data_json"]) if r["data_json"] else None} for r in rows]


@use_case("case.read")
def case_data(svc: Services, principal: Principal, case_id: int) -> dict:
    """The case's current data (the workflow's last task data), for display."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        return load_case_data(svc, uow.conn, case_id)


def load_case_data(svc: Services, conn, case_id: int) -> dict:
    """Unchecked: the case's current data, inside the unit of work of a use case that already checked its reach."""
    return current_data(load_case_workflow(svc, conn, require_case(conn, case_id)))


@use_case("case.read")
def case_page(svc: Services, principal: Principal, case_id: int) -> dict:
    """Everything the case page shows: the case with its tasks, history, attachments, issued documents, diagram
    marks, the procedure's name, the display names of who holds its ready tasks (username: display name), and
    the mail sent to the citizen with its delivery state (`mail`; the server's error text only for those who
    manage cases)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        detail = _visible_detail(conn, principal, case_id)
        marks = element_marks(load_case_workflow(svc, conn, require_case(conn, case_id)))
        holders = [t["assignee"] for t in detail["tasks"] if t["state"] == "ready"]
        return {"case": detail, "history": _history(conn, case_id), "files": attachments_of(conn, case_id),
                "documents": documents_shown(conn, case_id),
                "marks": {k: marks[k] for k in ("done", "active", "failed")},
                "name": process_name(conn, detail["process_key"]), "names": auth.display_names(conn, holders),
                "mail": _mail_shown(conn, principal, case_id),
                "deadlines": legal_deadlines.case_deadlines(conn, case_id, svc.calendar, svc.clock())}


def _mail_shown(conn, principal: Principal, case_id: int) -> list[dict]:
    """The case's outbox messages as the case page lists them; last_error kept for supervisors and admin."""
    detailed = permissions.allowed(principal, "case.manage")
    return [{**m, "last_error": m["last_error"] if detailed else None} for m in mail_of_case(conn, case_id)]


@use_case("case.read")
def receipt(svc: Services, principal: Principal, case_id: int) -> dict:
    """What the filing receipt shows: the case, its procedure's name, and where the filer goes on (`next_task`: the
    case's first ready task, whether he may work it, and whether it waits in one of his groups' queues)."""
    with svc.uow(write=False) as uow:
        detail = _visible_detail(uow.conn, principal, case_id)
        ready = [t for t in detail["tasks"] if t["state"] == "ready"]
        first = {"id": ready[0]["id"], "title": ready[0]["title"], "group": ready[0]["candidate_group"],
                 "workable": permissions.may_work_task(principal, ready[0]),
                 "queued": ready[0]["candidate_group"] in principal.groups} if ready else None
        return {"case": detail, "name": process_name(uow.conn, detail["process_key"]), "next_task": first}


@use_case("case.manage")
def retry_case(svc: Services, principal: Principal, case_id: int, data: dict | None = None,
               expected_version: int | None = None) -> dict:
    """Run the failed step of an errored case again, optionally with corrected data (only while the case is still
    at `expected_version`, when given: the version a page showed)."""
    actor = principal.username
    data = check_data(data or {})
    with svc.uow() as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        case = require_case(conn, case_id)
        check_version(case, expected_version)
        if case.state != "error":
            raise Conflict(f"case {case_id} is {case.state}, not in error", state=case.state)
        wf = load_case_workflow(svc, conn, case)
        before = snapshot(svc.runtime, wf)
        now = svc.clock()
        with stepping(StepContext(svc, conn, case_id, case_number(conn, case_id), case.process_key, now, actor)):
            failure = svc.runtime.retry(wf, data)
        # A retry that produced what cannot be stored leaves the case in error, as it was.
        version, state, failure, refused = write_step(conn, case, wf, state_after(wf, failure), failure, now)
        if not refused:
            project(conn, case_id, case.process_key, before, snapshot(svc.runtime, wf), now,
                    deadlines=svc.deadlines)
        append_events(conn, [event_row(case_id, now, "retried", actor=actor, data=data)]
                      + outcome_events(svc, conn, case_id, now, state, failure))
        uow.commit()
    return {"id": case_id, "state": state, "version": version,
            "error_element": failure.element_id if failure else None,
            "error_message": failure.message if failure else None}


def check_version(case, expected_version: int | None) -> None:
    """Conflict when the case moved on from the version the caller saw (a stale page must not overwrite)."""
    if expected_version is not None and expected_version != case.version:
        raise Conflict("the case was changed by someone else; reload it and try again", case_id=case.id,
                       version=case.version, expected_version=expected_version)


# Which states each supervisor action starts from, the state it leaves, and the event it writes.
_STATE_CHANGES = {
    "suspend": (("running",), "suspended", "case_suspended"),
    "resume": (("suspended",), "running", "case_resumed"),
    "cancel": (("running", "error", "suspended"), "cancelled", "case_cancelled"),
}


@use_case("case.manage")
def change_case_state(svc: Services, principal: Principal, case_id: int, action: str, reason: str,
                      expected_version: int | None = None) -> dict:
    """Suspend, resume or cancel a case with a reason; cancelling also closes its tasks and timers. With
    `expected_version` (the version a page showed), only while the case is still at it."""
    actor = principal.username
    allowed_from, new_state, kind = _STATE_CHANGES[action]
    if not reason or not reason.strip():
        raise InvalidInput("a reason is required", errors=[{"field": "reason", "message": "required"}])
    with svc.uow() as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        case = require_case(conn, case_id)
        check_version(case, expected_version)
        if case.state not in allowed_from:
            raise Conflict(f"case {case_id} is {case.state}; cannot {action} it", state=case.state)
        now = svc.clock()
        # The version check makes a racing step or state change lose with a conflict.
        version = bump_case(conn, case_id, case.version, {"state": new_state, "updated_at": now})
        if new_state == "cancelled":
            t, tm = models.tasks, models.timers
            conn.execute(update(t).where(t.c.case_id == case_id, t.c.state == "ready")
                         .values(state="cancelled", completed_at=now))
            conn.execute(update(tm).where(tm.c.case_id == case_id, tm.c.state == "waiting")
                         .values(state="cancelled", fired_at=now))
            legal_rows.close_all(conn, case_id, now)
        append_events(conn, [event_row(case_id, now, kind, actor=actor,
                                       data={"reason": reason, "previous_state": case.state})])
        uow.commit()
    return {"id": case_id, "state": new_state, "version": version}


OPEN_STATES = ("running", "error", "suspended")
CASE_LIST_COLUMNS = (_c.c.id, _c.c.number, _c.c.tracking_code, _c.c.process_key, _c.c.state, _c.c.title,
                     _c.c.applicant_name, _c.c.municipality, _c.c.created_at, _c.c.updated_at,
                     _c.c.completed_at, _c.c.created_by)
# Sort keys a client may ask for; "-" means descending. The id breaks ties so pages never overlap.
CASE_SORTS = {"created_at": _c.c.created_at, "updated_at": _c.c.updated_at, "number": _c.c.number,
              "state": _c.c.state}
_CASE_DETAIL = (select(*CASE_LIST_COLUMNS, _c.c.version, _c.c.applicant_dpi, _c.c.error_element,
                       _c.c.error_message, _v.c.version.label("process_version"))
                .join(_v, _v.c.id == _c.c.process_version_id).where(_c.c.id == bindparam("b_id")))
_CASE_TASKS = select(_t).where(_t.c.case_id == bindparam("b_id")).order_by(_t.c.created_at, _t.c.id)


def _overdue(now: datetime):
    """Cases with a late ready task (inbox_items holds the ready tasks, indexed by case and due date): a probe per
    case, in the page's order (a page needs a few cases, not all the late ones sorted)."""
    i = models.inbox_items
    return exists(select(i.c.case_id).where(i.c.case_id == _c.c.id, i.c.due_hi < now))  # index-only


def _late_page(now: datetime, conditions: list, descending: bool):
    """The late cases in filing order read from the late tasks' side (inbox_items by case filing, due date
    in the index): a walk of one index however far back the first late case lies."""
    i = models.inbox_items
    # Ordered inside too, so that the grouping walks the index the list's way and the join keeps that order
    # (PostgreSQL otherwise groups going up, then sorts every late case).
    keys = (i.c.case_created_at, i.c.case_id)
    late = (select(*keys).where(i.c.due_hi < now).group_by(*keys)
            .order_by(*[k.desc() if descending else k.asc() for k in keys]).subquery("late"))
    order = ([late.c.case_created_at.desc(), late.c.case_id.desc()] if descending
             else [late.c.case_created_at.asc(), late.c.case_id.asc()])
    return (select(*CASE_LIST_COLUMNS).select_from(late.join(_c, _c.c.id == late.c.case_id))
            .where(true(), *conditions).order_by(*order))


def _late_cases(now: datetime, conditions: list):
    """The same cases read from the late tasks' side, in due order, for counting them up to the cap (the other way
    round, few late cases among many would be looked for case by case)."""
    i = models.inbox_items
    return (select(i.c.case_id).select_from(i.join(_c, _c.c.id == i.c.case_id))
            .where(i.c.due_hi < now, *conditions).distinct())


@use_case("case.read")
def list_cases(svc: Services, principal: Principal, **query) -> dict:
    """One page of the cases the principal may see, filtered and sorted, with the total count."""
    with svc.uow(write=False) as uow:
        return _page_of_cases(svc, uow.conn, principal, **query)


@use_case("case.read")
def cases_page(svc: Services, principal: Principal, **query) -> dict:
    """The cases list page: one page of cases (as list_cases) and the procedures' names for its filter."""
    with svc.uow(write=False) as uow:
        return {**_page_of_cases(svc, uow.conn, principal, **query), "names": process_names(uow.conn)}


def _page_of_cases(svc: Services, conn, principal: Principal, *, process_key: str | None = None,
                   state: str | None = None, municipality: str | None = None, created_from: date | None = None,
                   created_to: date | None = None, overdue: bool | None = None, page: int = 1, per_page: int = 25,
                   sort: str = "-created_at") -> dict:
    column = CASE_SORTS.get(sort.lstrip("-"))
    if column is None:
        raise InvalidInput(f"unknown sort '{sort}'", errors=[{"field": "sort", "message": f"one of {sorted(CASE_SORTS)}"}])
    conditions = []
    visible = permissions.case_filter(principal)
    if visible is not None:
        conditions.append(visible)
    for col, value in ((_c.c.process_key, process_key), (_c.c.state, state), (_c.c.municipality, municipality)):
        if value is not None:
            conditions.append(col == value)
    if created_from is not None:
        conditions.append(_c.c.created_at >= office_midnight(created_from))
    if created_to is not None and created_to < date.max:
        conditions.append(_c.c.created_at < office_midnight(created_to + timedelta(days=1)))
    counted_ids = page_query = None
    if overdue is not None:
        now = svc.clock()
        if overdue:
            counted_ids = _late_cases(now, list(conditions))
            # SQLite would gather every late case first; its probe per case in filing order costs less there.
            if sort.lstrip("-") == "created_at" and conn.dialect.name == "postgresql":
                page_query = _late_page(now, list(conditions), sort.startswith("-"))
        conditions.insert(0, _overdue(now) if overdue else ~_overdue(now))  # the rarer probe first
    where = and_(true(), *conditions)
    if counted_ids is None:
        counted_ids = select(_c.c.id).where(where)
    page, per_page = page_window(page, per_page)
    order = [column.desc() if sort.startswith("-") else column.asc(),
             _c.c.id.desc() if sort.startswith("-") else _c.c.id.asc()]
    # Counted up to COUNT_CAP (past it, `total_more`): a bounded read however many cases there are.
    counted = conn.execute(select(func.count()).select_from(
        counted_ids.limit(COUNT_CAP + 1).subquery())).scalar_one()
    if page_query is None:
        page_query = select(*CASE_LIST_COLUMNS).where(where).order_by(*order)
    rows = conn.execute(page_query.limit(per_page).offset((max(page, 1) - 1) * per_page)).mappings().all()
    return {"items": [dict(r) for r in rows], "total": min(counted, COUNT_CAP), "total_more": counted > COUNT_CAP,
            "page": page, "per_page": per_page}


@use_case("case.read")
def case_detail(svc: Services, principal: Principal, case_id: int) -> dict:
    """A case's indexed columns with all its task rows."""
    with svc.uow(write=False) as uow:
        return _visible_detail(uow.conn, principal, case_id)


def _visible_detail(conn, principal: Principal, case_id: int) -> dict:
    row = conn.execute(_CASE_DETAIL, {"b_id": case_id}).mappings().first()
    case_tasks = [dict(r) for r in conn.execute(_CASE_TASKS, {"b_id": case_id}).mappings()] if row else []
    if row is None or not permissions.can_see_case(principal, row, case_tasks):
        raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)
    return {**row, "tasks": case_tasks}
