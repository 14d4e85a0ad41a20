"""Read-only use cases over indexed tables: case lists, inboxes, forms, accounts.

Only a task's form loads its case's workflow (for the data to show); everything else is indexed columns.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID

import orjson
from sqlalchemy import and_, bindparam, exists, func, select, true

from engine.timekeeping.calendar import OFFICE_TZ
from engine.usecases import cases
from engine.usecases import deploy
from engine.accounts import login_throttle
from engine.storage import models
from engine.accounts import permissions
from engine.errors import CaseNotFound, InvalidInput, NotFound, Problem, ProcessNotFound, SpecInvalid, TaskNotFound
from engine.messages import msg
from engine.accounts.permissions import Principal
from engine.services import Services
from engine.language.specs import parse_bundle

MAX_PAGE_SIZE = 100
OPEN_STATES = ("running", "error", "suspended")
_c = models.cases
_t = models.tasks
_v = models.process_versions
_u = models.users
_g = models.groups
_ug = models.user_groups

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
_TASK_WITH_CASE = (select(_t, _c.c.number.label("case_number"), _c.c.title.label("case_title"),
                          _c.c.process_key, _c.c.state.label("case_state"))
                   .join(_c, _c.c.id == _t.c.case_id))
_TASK_BY_ID = _TASK_WITH_CASE.where(_t.c.id == bindparam("b_id"))
# Inbox statements built once (building SQLAlchemy constructs per request costs more than running them).
_INBOX_ORDER = (_t.c.due_at.is_(None), _t.c.due_at, _t.c.created_at, _t.c.id)
_MINE = (_TASK_WITH_CASE.where(_t.c.state == "ready", _t.c.assignee == bindparam("b_user"))
         .order_by(*_INBOX_ORDER).limit(bindparam("b_limit")))
_QUEUE = (_TASK_WITH_CASE.where(_t.c.state == "ready", _t.c.candidate_group.in_(bindparam("b_groups", expanding=True)))
          .order_by(*_INBOX_ORDER).limit(bindparam("b_limit")))
_QUEUE_UNASSIGNED = _QUEUE.where(_t.c.assignee.is_(None))
MAX_INBOX_ROWS = 500


def _overdue(now: datetime):
    return exists(select(_t.c.id).where(_t.c.case_id == _c.c.id, _t.c.state == "ready", _t.c.due_at < now))


def list_cases(svc: Services, principal: Principal, *, process_key: str | None = None, state: str | None = None,
               municipality: str | None = None, created_from: date | None = None, created_to: date | None = None,
               overdue: bool | None = None, page: int = 1, per_page: int = 25, sort: str = "-created_at") -> dict:
    """One page of the cases the principal may see, filtered and sorted, with the total count."""
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
        conditions.append(_c.c.created_at >= _office_midnight(created_from))
    if created_to is not None and created_to < date.max:
        conditions.append(_c.c.created_at < _office_midnight(created_to + timedelta(days=1)))
    if overdue is not None:
        late = _overdue(svc.clock())
        conditions.append(late if overdue else ~late)
    where = and_(true(), *conditions)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    order = [column.desc() if sort.startswith("-") else column.asc(),
             _c.c.id.desc() if sort.startswith("-") else _c.c.id.asc()]
    with svc.uow(write=False) as uow:
        total = uow.conn.execute(select(func.count()).select_from(_c).where(where)).scalar_one()
        rows = uow.conn.execute(select(*CASE_LIST_COLUMNS).where(where).order_by(*order)
                                .limit(per_page).offset((max(page, 1) - 1) * per_page)).mappings().all()
    return {"items": [dict(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def _office_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=OFFICE_TZ)


def check_case_visible(conn, principal: Principal, case_id: int) -> None:
    """Raise CaseNotFound unless the case exists and the principal may see it."""
    q = select(_c.c.id).where(_c.c.id == case_id)
    visible = permissions.case_filter(principal)
    if visible is not None:
        q = q.where(visible)
    if conn.execute(q).first() is None:
        raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)


def visible_case(svc: Services, principal: Principal, case_id: int) -> None:
    """Raise CaseNotFound unless the principal may see the case (a clerk outside its groups may not)."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)


def case_detail(svc: Services, principal: Principal, case_id: int) -> dict:
    """A case's indexed columns with all its task rows."""
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(_CASE_DETAIL, {"b_id": case_id}).mappings().first()
        case_tasks = [dict(r) for r in uow.conn.execute(_CASE_TASKS, {"b_id": case_id}).mappings()] if row else []
    if row is None or not permissions.can_see_case(principal, row, case_tasks):
        raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)
    return {**row, "tasks": case_tasks}


def visible_task(svc: Services, principal: Principal, task_id: str) -> dict:
    """A task row with its case's number and title, if the principal may see it."""
    try:
        UUID(task_id)
    except ValueError:
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(_TASK_BY_ID, {"b_id": task_id}).mappings().first()
    if row is None:
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    return permissions.check_task_visible(principal, dict(row))


def my_tasks(svc: Services, principal: Principal, limit: int = 100) -> list[dict]:
    """Ready tasks the principal holds, earliest deadline first."""
    return _inbox(svc, _MINE, {"b_user": principal.username}, limit)


def group_queue(svc: Services, principal: Principal, group: str | None = None, unassigned_only: bool = False,
                limit: int = 100) -> list[dict]:
    """Ready tasks of the principal's groups (or of one group), earliest deadline first."""
    groups = permissions.queue_groups(principal, group)
    return _inbox(svc, _QUEUE_UNASSIGNED if unassigned_only else _QUEUE, {"b_groups": groups}, limit)


def _inbox(svc: Services, statement, params: dict, limit: int) -> list[dict]:
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(statement, {**params, "b_limit": max(1, min(limit, MAX_INBOX_ROWS))})
                .mappings()]


def task_draft(svc: Services, task_id: str) -> dict | None:
    """The saved draft of a task's form, if any."""
    d = models.task_drafts
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(select(d).where(d.c.task_id == task_id)).mappings().first()
    return None if row is None else {**row, "data": orjson.loads(row["data_json"])}


def task_form(svc: Services, task: dict) -> dict:
    """A task's form: its JSON Schema (null when the task has no form), ui hints and the data to show."""
    form_key = task["form_key"]
    schema = None
    if form_key is not None:
        if svc.forms is None:
            raise NotFound(f"form '{form_key}' does not exist", form=form_key)
        schema = svc.forms.get(form_key)
    draft = task_draft(svc, task["id"]) if task["state"] == "ready" else None
    data = draft["data"] if draft else cases.case_data(svc, task["case_id"])
    return {"form_key": form_key, "schema": schema, "ui": ui_hints(schema), "data": data,
            "draft_saved_at": draft["saved_at"] if draft else None}


def ui_hints(schema: dict | None) -> dict:
    """The x-* keywords of a form (labels, messages, summary columns) by field; "" for the form itself."""
    if not schema:
        return {}
    hints = {"": {k: v for k, v in schema.items() if k.startswith("x-")}}
    for field, prop in (schema.get("properties") or {}).items():
        own = {k: v for k, v in prop.items() if k.startswith("x-")} if isinstance(prop, dict) else {}
        if own:
            hints[field] = own
    return {k: v for k, v in hints.items() if v}


def list_processes(svc: Services) -> list[dict]:
    """Each deployed process with its latest version and the number of its open cases."""
    latest = select(_v.c.process_key, func.max(_v.c.version).label("version")).group_by(_v.c.process_key).subquery()
    open_cases = (select(func.count()).where(_c.c.process_key == _v.c.process_key, _c.c.state.in_(OPEN_STATES))
                  .scalar_subquery())
    q = (select(_v.c.process_key, _v.c.name, _v.c.version.label("latest_version"), _v.c.id.label("latest_version_id"),
                _v.c.created_at, open_cases.label("open_cases"))
         .join(latest, and_(latest.c.process_key == _v.c.process_key, latest.c.version == _v.c.version))
         .order_by(_v.c.process_key))
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(q).mappings()]


def process_versions(svc: Services, process_key: str) -> list[dict]:
    """Every version of a process with its open cases; ProcessNotFound if it was never deployed."""
    versions = deploy.list_versions(svc, process_key)
    if not versions:
        raise ProcessNotFound(msg("No hay ningún procedimiento «%(process_key)s» publicado.", process_key=process_key),
                              process_key=process_key)
    return versions


def validate_bundle(files: dict[str, bytes]) -> list[Problem]:
    """Parse and lint files as one bundle without deploying; return every problem found."""
    try:
        return list(parse_bundle(files).warnings)
    except SpecInvalid as exc:  # a refused bundle is an answer here, not an error
        return list(exc.problems)


def version_id(svc: Services, process_key: str, number: int) -> int:
    """The id of a process's version `number`."""
    with svc.uow(write=False) as uow:
        vid = uow.conn.execute(select(_v.c.id).where(_v.c.process_key == process_key, _v.c.version == number)).scalar()
    if vid is None:
        raise ProcessNotFound(msg("El procedimiento «%(process_key)s» no tiene versión %(number)s.",
                                  process_key=process_key, number=number), process_key=process_key)
    return vid


def list_users(svc: Services, username: str | None = None) -> list[dict]:
    """Accounts with their groups (no password hashes)."""
    q = select(_u.c.id, _u.c.username, _u.c.display_name, _u.c.email, _u.c.role, _u.c.active,
               _u.c.created_at).order_by(_u.c.username)
    if username is not None:
        q = q.where(_u.c.username == username)
    with svc.uow(write=False) as uow:
        users = [dict(r, groups=[]) for r in uow.conn.execute(q).mappings()]
        failures = login_throttle.read_many(uow.conn, [u["username"] for u in users])
        for user in users:
            found = failures.get(user["username"])
            user.update(failed_logins=found.count if found else 0,
                        locked_until=found.locked_until if found else None)
        by_id = {u["id"]: u for u in users}
        memberships = select(_ug.c.user_id, _g.c.name).join(_g, _g.c.id == _ug.c.group_id).order_by(_g.c.name)
        if username is not None:
            memberships = memberships.where(_ug.c.user_id.in_(list(by_id)))
        for user_id, name in uow.conn.execute(memberships):
            if user_id in by_id:
                by_id[user_id]["groups"].append(name)
    return users


def get_user(svc: Services, username: str) -> dict:
    """One account with its groups."""
    found = list_users(svc, username)
    if not found:
        raise NotFound(f"user '{username}' does not exist", username=username)
    return found[0]


def list_groups(svc: Services) -> list[dict]:
    """Groups with their number of members."""
    members = select(func.count()).where(_ug.c.group_id == _g.c.id).scalar_subquery()
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(
            select(_g.c.id, _g.c.name, _g.c.description, members.label("members")).order_by(_g.c.name)).mappings()]


def list_lanes(svc: Services) -> list[dict]:
    """The lane→group table."""
    lg = models.lane_groups
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(
            select(lg.c.process_key, lg.c.lane, _g.c.name.label("group")).join(_g, _g.c.id == lg.c.group_id)
            .order_by(lg.c.process_key, lg.c.lane)).mappings()]
