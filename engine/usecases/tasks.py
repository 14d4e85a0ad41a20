"""Use cases on human tasks: read one, its form and its page; claim, release, assign, save a draft, complete.

Each takes the acting principal and, inside its own unit of work, checks that he may see the task (a clerk
outside its group gets TaskNotFound, as if it did not exist) before reading or changing it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from uuid import UUID

import orjson
from sqlalchemy import bindparam, delete, insert, select, update

from engine.accounts import auth
from engine.accounts import permissions
from engine.accounts.permissions import Principal, use_case
from engine.errors import Conflict, InvalidInput, NotFound, TaskNotFound, TaskNotReady
from engine.storage import models
from engine.storage.closure_sync import FINGERPRINT_COLUMNS
from engine.storage.persistence import (
    CaseRow, append_events, claim_filter, dump_data, event_row, load_case_workflow, project, read_case, require_case,
    snapshot, state_after, write_step,
)
from engine.integrity.changes import data_changes
from engine.runtime.prefill import prefilled
from engine.runtime.runner import current_data, start_form_key
from engine.runtime.steps import StepContext, stepping
from engine.usecases import intake, issuing
from engine.usecases.attachments import attachments_of
from engine.usecases.cases import check_data
from engine.usecases.outcomes import outcome_events
from engine.usecases.deploy import form_keys, forms_of_version

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_t, _c, _d = models.tasks, models.cases, models.task_drafts
_TASK_BY_ID = (select(_t, _c.c.number.label("case_number"), _c.c.title.label("case_title"), _c.c.process_key,
                      _c.c.state.label("case_state"), _c.c.process_version_id)
               .join(_c, _c.c.id == _t.c.case_id).where(_t.c.id == bindparam("b_id")))
# Completing a task reads its case with it, and the closure days' fingerprint (one statement for the three).
_TASK_TO_COMPLETE = _TASK_BY_ID.add_columns(_c.c.version.label("case_version"),
                                            _c.c.workflow_json.label("case_workflow_json"),
                                            _c.c.citizen_email.label("case_citizen_email"), *FINGERPRINT_COLUMNS)
_CASE_EXTRAS = ("case_version", "case_workflow_json", "case_citizen_email", "closures_count", "closures_max")
_DRAFT = select(_d).where(_d.c.task_id == bindparam("b_id"))
_FINISH_TASK = (update(_t).where(_t.c.id == bindparam("b_id"), _t.c.state == "ready")
                .values(state="completed", completed_at=bindparam("b_now"), completed_by=bindparam("b_actor"),
                        assignee=bindparam("b_assignee")))


def _visible(conn, principal: Principal, task_id: str, query=_TASK_BY_ID) -> dict:
    """The task row with its case's number, title, process and state, if the principal may see it."""
    try:
        UUID(task_id)
    except (ValueError, TypeError):
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    row = conn.execute(query, {"b_id": task_id}).mappings().first()
    if row is None:
        raise TaskNotFound(f"task {task_id} does not exist", task_id=task_id)
    return permissions.check_task_visible(principal, dict(row))


def _workable(conn, principal: Principal, task_id: str, query=_TASK_BY_ID) -> dict:
    """Like _visible, for a change: a malformed id is refused as bad input."""
    try:
        UUID(task_id)
    except (ValueError, TypeError):
        raise InvalidInput(f"'{task_id}' is not a task id", errors=[{"field": "task_id", "message": "not a UUID"}])
    return _visible(conn, principal, task_id, query)


def _not_takeable(conn, row: dict) -> Conflict:
    """Why the task cannot be worked, naming who completed or holds it with his display name (read here)."""
    if row["state"] == "completed":
        who = row["completed_by"]
        return TaskNotReady(f"the task was already completed by {who}", task_id=row["id"], completed_by=who,
                            completed_by_name=auth.display_names(conn, [who]).get(who))
    if row["state"] != "ready":
        return TaskNotReady(f"the task is {row['state']}", task_id=row["id"], state=row["state"])
    who = row["assignee"]
    return TaskNotReady(f"the task is held by {who}", task_id=row["id"], assignee=who,
                        assignee_name=auth.display_names(conn, [who]).get(who))


def _declared(forms, form_key: str | None) -> list[str]:
    """The top-level fields the task's form asks the clerk for (none without forms or a form); read-only and
    hidden ones only show the case's data, so they are not the step's to empty."""
    if forms is None or form_key is None:
        return []
    return [key for key, prop in (forms.get(form_key).get("properties") or {}).items()
            if not (isinstance(prop, dict) and (prop.get("readOnly") or prop.get("x-oculto")))]


def _citizen_email(forms, wf, data: dict) -> str | None:
    """The citizen's address in the case's data, from the field the procedure's intake form declares."""
    if forms is None:
        return None
    return forms.citizen_email(start_form_key(wf.spec), data)


@use_case("task.read")
def get_task(svc: Services, principal: Principal, task_id: str) -> dict:
    """One task with its case's number and title."""
    with svc.uow(write=False) as uow:
        return _visible(uow.conn, principal, task_id)


@use_case("task.read")
def task_form(svc: Services, principal: Principal, task_id: str) -> dict:
    """A task's form: its JSON Schema (null when the task has no form), ui hints and the data to show."""
    with svc.uow(write=False) as uow:
        return _form(svc, uow.conn, _visible(uow.conn, principal, task_id))


@use_case("task.read")
def form_schema(svc: Services, principal: Principal, task_id: str) -> dict | None:
    """A task's JSON Schema alone (None without a form), to read a posted form without loading its case."""
    with svc.uow(write=False) as uow:
        return _schema(svc, uow.conn, _visible(uow.conn, principal, task_id))


@use_case("task.read")
def task_page(svc: Services, principal: Principal, task_id: str) -> dict:
    """Everything the task page shows: the task, its form, instructions, case data, attachments, who holds it."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        task = _visible(conn, principal, task_id)
        case_id = task["case_id"]
        wf = load_case_workflow(svc, conn, require_case(conn, case_id))
        case_data = current_data(wf)
        return {"task": task, "form": _form(svc, conn, task, wf), "case_data": case_data,
                "case_forms": _case_forms(svc, conn, wf, task["process_version_id"]),
                "instructions": intake.task_instructions(svc, conn, case_id, task["element_id"]),
                "files": attachments_of(conn, case_id),
                "names": auth.display_names(conn, (task["assignee"], task["completed_by"]))}


def _form(svc: Services, conn, task: dict, wf=None) -> dict:
    """The task's form and what it opens with: the draft saved for this task, else only the case's values the
    diagram declares for it (`prefill`), so a form never opens with another task's answers (a second
    notification would otherwise complete unedited with the first one's)."""
    form_key = task["form_key"]
    schema = _schema(svc, conn, task)
    draft = conn.execute(_DRAFT, {"b_id": task["id"]}).mappings().first() if task["state"] == "ready" else None
    if draft:
        data = orjson.loads(draft["data_json"])
    else:
        wf = wf if wf is not None else load_case_workflow(svc, conn, require_case(conn, task["case_id"]))
        data = prefilled(wf, task["id"])
    return {"form_key": form_key, "schema": schema, "ui": ui_hints(schema), "data": data,
            "draft_saved_at": draft["saved_at"] if draft else None}


def _case_forms(svc: Services, conn, wf, version_id: int) -> list[dict]:
    """The JSON Schemas of the forms the case's procedure names (its intake form first), as its version was
    deployed with them: what labels the case's data on the page."""
    forms = forms_of_version(svc, conn, version_id)
    if forms is None:
        return []
    intake_key = start_form_key(wf.spec)
    shown = []
    for key in sorted(form_keys(wf), key=lambda k: (k != intake_key, k)):
        try:
            shown.append(forms.get(key))
        except NotFound:  # a form the version never had (the office rules reported it at publishing)
            continue
    return shown

def _schema(svc: Services, conn, task: dict) -> dict | None:
    """The task's form as its case's process version was deployed with it (running cases keep their forms)."""
    form_key = task["form_key"]
    if form_key is None:
        return None
    if svc.forms is None:
        raise NotFound(f"form '{form_key}' does not exist", form=form_key)
    return forms_of_version(svc, conn, task["process_version_id"]).get(form_key)


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


@use_case("task.work")
def claim_task(svc: Services, principal: Principal, task_id: str) -> dict:
    """Take a ready task; fails with a conflict naming the holder if someone else has it."""
    actor = principal.username
    with svc.uow() as uow:
        row = _workable(uow.conn, principal, task_id)
        now = svc.clock()
        result = uow.conn.execute(update(_t).where(claim_filter(task_id, actor)).values(assignee=actor, claimed_at=now))
        if result.rowcount != 1:
            raise _not_takeable(uow.conn, _visible(uow.conn, principal, task_id))
        append_events(uow.conn, [event_row(row["case_id"], now, "task_claimed", element_id=row["element_id"],
                                           task_id=task_id, actor=actor)])
        uow.commit()
    return {**row, "assignee": actor, "claimed_at": now}


# Whom a caller saw holding a task, when it acts on what a list showed (the supervisor's bulk changes): the write
# then matches only while that is still so, and a task taken, given back or moved meanwhile is a conflict.
ANY_HOLDER = object()


def _held_by(holder) -> list:
    """The condition on the task row that it is still held by `holder` (None: by nobody)."""
    if holder is ANY_HOLDER:
        return []
    return [_t.c.assignee.is_(None)] if holder is None else [_t.c.assignee == holder]


def _holder_changed(conn, principal: Principal, task_id: str, holder) -> Conflict | None:
    """A conflict naming the new holder when the ready task is no longer held by `holder`; None otherwise."""
    row = _visible(conn, principal, task_id)
    if holder is ANY_HOLDER or row["state"] != "ready" or row["assignee"] == holder:
        return None
    who = row["assignee"]
    return Conflict(f"the task changed meanwhile: it is held by {who or 'nobody'}", task_id=task_id, holder=who,
                    holder_name=auth.display_names(conn, [who]).get(who), expected_holder=holder)


@use_case("task.work")
def release_task(svc: Services, principal: Principal, task_id: str, *, holder=ANY_HOLDER) -> dict:
    """Give a claimed task back to its group (its holder, or a supervisor whoever holds it; only while `holder`
    holds it, when given)."""
    actor = principal.username
    with svc.uow() as uow:
        row = _workable(uow.conn, principal, task_id)
        now = svc.clock()
        cond = (_t.c.id == task_id) & (_t.c.state == "ready") & _t.c.assignee.is_not(None)
        if not permissions.may_release_for_others(principal):
            cond = cond & (_t.c.assignee == actor)
        result = uow.conn.execute(update(_t).where(cond, *_held_by(holder)).values(assignee=None, claimed_at=None))
        if result.rowcount != 1:
            changed = _holder_changed(uow.conn, principal, task_id, holder)
            if changed is not None:
                raise changed
            row = _visible(uow.conn, principal, task_id)
            if row["state"] == "ready" and row["assignee"] is None:
                raise Conflict("the task is not claimed", task_id=task_id)
            raise _not_takeable(uow.conn, row)
        append_events(uow.conn, [event_row(row["case_id"], now, "task_released", element_id=row["element_id"],
                                           task_id=task_id, actor=actor)])
        uow.commit()
    return {**row, "assignee": None, "claimed_at": None}


@use_case("task.assign")
def assign_task(svc: Services, principal: Principal, task_id: str, assignee: str, *, holder=ANY_HOLDER) -> dict:
    """Give a ready task to someone who could work it (a supervisor's call: it may take it from its holder; only
    while `holder` holds it, when given)."""
    with svc.uow() as uow:
        row = _workable(uow.conn, principal, task_id)
        permissions.check_assignee(auth.principal_named(uow.conn, assignee), row)
        now = svc.clock()
        result = uow.conn.execute(update(_t).where(_t.c.id == task_id, _t.c.state == "ready", *_held_by(holder))
                                  .values(assignee=assignee, claimed_at=now))
        if result.rowcount != 1:
            row = _visible(uow.conn, principal, task_id)  # as it is now: completed, or held by someone else
            raise _holder_changed(uow.conn, principal, task_id, holder) or _not_takeable(uow.conn, row)
        append_events(uow.conn, [event_row(row["case_id"], now, "task_assigned", element_id=row["element_id"],
                                           task_id=task_id, actor=principal.username,
                                           data={"assignee": assignee, "previous": row["assignee"]})])
        uow.commit()
    return {**row, "assignee": assignee, "claimed_at": now}


@use_case("task.work")
def save_draft(svc: Services, principal: Principal, task_id: str, data: dict) -> dict:
    """Keep unfinished form data for a ready task its holder (or its group) is working on."""
    actor = principal.username
    with svc.uow() as uow:
        row = _workable(uow.conn, principal, task_id)
        data = check_data(data)
        if row["state"] != "ready" or row["assignee"] not in (None, actor):
            raise _not_takeable(uow.conn, row)
        now = svc.clock()
        # Drafts are private work in progress, so they stay out of the case history until completed.
        uow.conn.execute(delete(_d).where(_d.c.task_id == task_id))
        uow.conn.execute(insert(_d).values(task_id=task_id, case_id=row["case_id"], data_json=dump_data(data),
                                           saved_by=actor, saved_at=now))
        uow.commit()
    return {"task_id": task_id, "data": data, "saved_by": actor, "saved_at": now}


@use_case("task.work")
def document_draft(svc: Services, principal: Principal, task_id: str, data: dict | None) -> dict:
    """The document(s) the task issues, as completing it with `data` would issue them, marked BORRADOR and
    without number, code or signature, for review: `pdf`, `filename`, `kind`. Nothing is stored. The data is
    validated against the task's form first, as completing would (InvalidInput names the fields)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        row = _workable(conn, principal, task_id)
        if not row["document_kind"]:
            raise NotFound(f"task {task_id} issues no document", task_id=task_id)
        data = check_data(data or {})
        forms = forms_of_version(svc, conn, row["process_version_id"])
        if forms is not None:
            data = forms.validate(row["form_key"], data)
        case = read_case(conn, row["case_id"])
        task = load_case_workflow(svc, conn, case).get_task_from_id(UUID(task_id))
        if task is None:
            raise TaskNotFound(f"task {task_id} is not a task of case {case.id}", task_id=task_id)
        kind, each = issuing.properties_of(task.task_spec)
        own = {key: data.get(key) for key in _declared(forms, row["form_key"])} | data  # as completing would
        pdf = issuing.draft(svc, conn, case_id=case.id, kind=kind, each=each, data={**task.data, **own}, own=own,
                            actor=principal.username, now=svc.clock())
    return {"pdf": pdf, "filename": f"borrador-{kind}-{row['case_number']}.pdf", "kind": kind}


@use_case("task.work")
def complete_task(svc: Services, principal: Principal, task_id: str, data: dict | None) -> dict:
    """Complete a ready task with submitted data and run the case until it waits again."""
    actor = principal.username
    with svc.uow() as uow:
        conn = uow.conn
        row = _workable(conn, principal, task_id, _TASK_TO_COMPLETE)
        version, workflow_json, citizen_email, *closures = (row.pop(key) for key in _CASE_EXTRAS)
        data = check_data(data or {})
        if row["state"] != "ready" or (row["assignee"] not in (None, actor)):
            raise _not_takeable(uow.conn, row)
        forms = forms_of_version(svc, conn, row["process_version_id"])  # the forms its version was deployed with
        if forms is not None:
            data = forms.validate(row["form_key"], data)
        case = CaseRow(row["case_id"], version, row["case_state"], row["process_key"], row["process_version_id"],
                       workflow_json)
        if case.state != "running":
            raise Conflict(f"the case is {case.state}; its tasks cannot be completed now", state=case.state)
        wf = load_case_workflow(svc, conn, case, tuple(closures))
        task = wf.get_task_from_id(UUID(task_id))
        if task is None or not task.task_spec.manual:
            raise TaskNotFound(f"task {task_id} is not a human task of case {case.id}", task_id=task_id)
        before = snapshot(svc.runtime, wf)
        data_before = current_data(wf)
        kind, each = issuing.properties_of(task.task_spec)
        # What the step's document is filled with: the case's data, this step's form over it; a field of the form
        # the clerk left empty is empty in the document, not an older step's value of the same name.
        own = {key: data.get(key) for key in _declared(forms, row["form_key"])} | data
        filled = {**task.data, **own}
        if kind:
            data = dict(data)  # the numbers go into the step's data, not into the caller's dict
        pending = issuing.allocate(svc, conn, kind, each, data, svc.clock()) if kind else []
        with stepping(StepContext(svc, conn, case.id, row["case_number"], case.process_key, svc.clock(), actor)):
            failure = svc.runtime.run_task(wf, task, data)
        now = svc.clock()
        version, state, failure, refused = write_step(conn, case, wf, state_after(wf, failure), failure, now)
        if refused:
            # The step made a value that cannot be stored: the case keeps its state from before the step, in
            # error; the task stays ready for when a supervisor's retry lets the case run again.
            issuing.release(svc, conn, pending)
            append_events(conn, outcome_events(svc, conn, case.id, now, "error", failure))
            uow.commit()
            return {"case_id": case.id, "task_title": row["title"], "case_state": "error", "case_version": version,
                    "error_element": failure.element_id, "error_message": failure.message, "ready_tasks": []}
        done = conn.execute(_FINISH_TASK, {"b_id": task_id, "b_now": now, "b_actor": actor,
                                           "b_assignee": row["assignee"] or actor})
        if done.rowcount != 1:
            raise Conflict("the task was completed by someone else", task_id=task_id)
        new = project(conn, case.id, case.process_key, before, snapshot(svc.runtime, wf), now,
                      completed_id=task_id, deadlines=svc.deadlines, actor=actor)
        events = [event_row(case.id, now, "task_completed", element_id=row["element_id"], task_id=task_id,
                            actor=actor, data=data, changes=data_changes(data_before, current_data(wf)))]
        issued = []
        if pending:  # the documents' history follows the step's own
            append_events(conn, events)
            events = []
            issued = issuing.issue(svc, conn, case_id=case.id, task_id=task_id, pending=pending,
                                   data={**filled, **data}, own=own, actor=actor, now=now,
                                   citizen_email=_citizen_email(forms, wf, filled))
        # Appended together with the step's own (one insert when it issued nothing). The case's citizen address is
        # written at filing only: the one read with the task holds.
        append_events(conn, events + outcome_events(svc, conn, case.id, now, state, failure,
                                                    has_citizen_email=bool(citizen_email)))
        uow.commit()
    return {"case_id": case.id, "task_title": row["title"], "case_state": state, "case_version": version,
            "error_element": failure.element_id if failure else None,
            "error_message": failure.message if failure else None,
            "ready_tasks": [{"id": t.id, "element_id": t.element_id, "title": t.title} for t in new],
            "documents": [{"id": d["id"], "kind": d["kind"], "number": d["number"], "code": d["verification_code"]}
                          for d in issued]}
