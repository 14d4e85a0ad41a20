"""Try a draft before publishing: run it with test data from start to end in a throwaway database.

A trial (engine/usecases/trial_store.py) is a migrated SQLite file of its own with the draft deployed in it (its
decision tables and called processes too, as publishing would bundle them), the office's institutions, closure days
and lane table copied, and one case started on it. The supervisor completes its ready tasks with data (checked by
their forms, as a clerk's), fires its timers at once, simulates the messages it waits for, and chooses each
gateway's outcome before the run (the throwaway copy's conditions are rewritten: engine/language/gateway_choices.py)
or lets the data decide. Every step goes through the same use cases as a real case, as the trial's own user, on the
trial's file: nothing reaches the office's tables. A step limit stops a loop.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select

from engine.accounts.permissions import Principal, use_case
from engine.errors import Conflict, ExpedienteError, InvalidInput, SpecInvalid
from engine.language import gateway_choices
from engine.language.naming import describe_parts
from engine.language.step_errors import in_spanish
from engine.language.specs import elements_of
from engine.messages import msg
from engine.runtime.runner import current_data
from engine.storage import models
from engine.storage.models_messaging import message_waits
from engine.storage.persistence import load_case_workflow, read_case
from engine.usecases import cases, deploy, drafts, messaging, tasks, timers, trial_store
from engine.usecases.trial_store import TrialNotFound
from engine.usecases.trial_view import path_of

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

STEP_LIMIT = 200
MAX_STEP_LIMIT = 1000
# The trial's own user: an administrator of the throwaway office (sees and works every task there).
TRIAL_USER = Principal(user_id=0, username="prueba", role="admin", groups=(), display_name="Prueba")

__all__ = ["TrialNotFound", "start_trial", "trial_state", "trial_complete", "trial_fire_timers", "trial_message",
           "trial_rechoose", "end_trial", "trial_setup"]


@use_case("process.draft")
def trial_setup(svc: Services, principal: Principal, process_key: str) -> dict:
    """What the trial page asks before a run: the draft's gateways with their ways out, the start form and an
    example of its data."""
    draft = drafts.get_draft(svc, principal, process_key)
    try:
        found = gateway_choices.gateways(draft["xml"])
    except Exception:  # noqa: BLE001 - an unreadable draft: its problems say why
        found = []
    form_key = _start_form(svc, process_key, draft["xml"])
    return {"process_key": process_key, "gateways": found, "start_form": form_key,
            "start_example": example_of(_schema(svc, form_key)), "problems": draft["problems"],
            "step_limit": STEP_LIMIT}


def _start_form(svc: Services, process_key: str, xml: str) -> str | None:
    try:
        elements = elements_of(xml, f"{process_key}.bpmn")
    except SpecInvalid:
        return None
    starts = [e for e in elements.values() if e["type"] == "startEvent"]
    return next((e["values"].get("property:form") for e in starts if e["values"].get("property:form")), None)


@use_case("process.draft")
def start_trial(svc: Services, principal: Principal, process_key: str, data: dict | None = None,
                choices: dict | None = None, step_limit: int | None = None) -> dict:
    """Start a trial of the draft: a throwaway database, the draft deployed there with the gateways' chosen outcomes,
    and a case started with `data`. SpecInvalid if the draft cannot be deployed; InvalidInput (naming the field) for
    data its start form refuses, or a choice of a gateway or flow the draft lacks."""
    limit = STEP_LIMIT if step_limit is None else step_limit
    if not isinstance(limit, int) or not 1 <= limit <= MAX_STEP_LIMIT:
        raise InvalidInput(msg("El límite de pasos va de 1 a %(max)s.", max=MAX_STEP_LIMIT),
                           errors=[{"field": "step_limit", "message": f"1..{MAX_STEP_LIMIT}"}])
    draft = drafts.get_draft(svc, principal, process_key)
    chosen = gateway_choices.check_choices(draft["xml"], choices)
    files = drafts.bundle_for(svc, process_key, draft["xml"])
    own = next(iter(files))
    files[own] = gateway_choices.force_choices(files[own], chosen) if chosen else files[own]
    token, tsvc = trial_store.create(svc, principal.username)
    try:
        deploy.deploy_files(tsvc, files, actor=TRIAL_USER.username, comment="prueba")
        started = cases.start_case(tsvc, TRIAL_USER, process_key, data or {})
        meta = {"owner": principal.username, "process_key": process_key, "case_id": started.id,
                "start_data": _jsonable(data or {}), "choices": chosen, "step_limit": limit, "offset_seconds": 0.0,
                "xml": draft["xml"],
                "steps": [_step("start", process_key, None, tsvc, started.id)]}
        trial_store.save(token, meta)
    except BaseException:
        trial_store.dispose(tsvc)
        trial_store.remove(token)
        raise
    try:
        return _state(token, meta, tsvc)
    finally:
        trial_store.dispose(tsvc)


def _open(svc: Services, principal: Principal, token: str) -> tuple[dict, Services]:
    meta, tsvc = trial_store.open_trial(svc, token)
    if meta.get("owner") != principal.username:  # another supervisor's trial is as good as none
        trial_store.dispose(tsvc)
        raise TrialNotFound(msg("La prueba no existe o ya terminó."), token=token)
    return meta, tsvc


def _step_allowed(meta: dict) -> None:
    if len(meta["steps"]) > meta["step_limit"]:
        raise Conflict(msg("La prueba llegó a su límite de %(limit)s pasos: ¿hay un ciclo en el diagrama? "
                           "Termínela y empiece otra.", limit=meta["step_limit"]), step_limit=meta["step_limit"])


@use_case("process.draft")
def trial_state(svc: Services, principal: Principal, token: str) -> dict:
    """Where the trial's case is: its state, ready tasks (with their forms and an example of data), waiting timers
    and messages, the path on the diagram, the data, the steps taken and the problems found."""
    meta, tsvc = _open(svc, principal, token)
    try:
        return _state(token, meta, tsvc)
    finally:
        trial_store.dispose(tsvc)


@use_case("process.draft")
def trial_complete(svc: Services, principal: Principal, token: str, task_id: str, data: dict | None) -> dict:
    """Complete one of the trial case's ready tasks with `data` (checked by its form: InvalidInput names the field)."""
    meta, tsvc = _open(svc, principal, token)
    try:
        _step_allowed(meta)
        with tsvc.uow(write=False) as uow:
            row = uow.conn.execute(select(models.tasks.c.element_id, models.tasks.c.case_id)
                                   .where(models.tasks.c.id == str(task_id))).first()
        if row is None or row.case_id != meta["case_id"]:
            raise InvalidInput(msg("Esa tarea no es de esta prueba."),
                               errors=[{"field": "task_id", "message": "unknown task"}])
        try:
            tasks.complete_task(tsvc, TRIAL_USER, str(task_id), data or {})
        except InvalidInput as exc:  # the form refused the data: say which task's, keeping the fields
            named = _named(_elements(meta["xml"], meta["process_key"]), row.element_id)
            exc.message = msg("%(element)s: %(message)s", element=named, message=exc.message)
            raise
        meta["steps"].append(_step("task", row.element_id, data or {}, tsvc, meta["case_id"]))
        trial_store.save(token, meta)
        return _state(token, meta, tsvc)
    finally:
        trial_store.dispose(tsvc)


@use_case("process.draft")
def trial_fire_timers(svc: Services, principal: Principal, token: str) -> dict:
    """Fire the trial case's waiting timers now: the trial's clock jumps past the first one due, which fires (and
    any other due by then)."""
    meta, tsvc = _open(svc, principal, token)
    try:
        _step_allowed(meta)
        waiting = _timers(tsvc, meta["case_id"])
        if not waiting:
            raise Conflict(msg("El expediente de prueba no espera ningún temporizador."))
        first = min(t["due_at"] for t in waiting)
        ahead = (first - tsvc.clock()).total_seconds() + 1
        meta["offset_seconds"] = meta.get("offset_seconds", 0.0) + max(ahead, 0.0)
    finally:
        trial_store.dispose(tsvc)
    tsvc = trial_store.services_for(svc, trial_store.root() / f"{token}.db", meta["offset_seconds"])
    try:
        timers.fire_due_timers(tsvc)
        fired = [t["element_id"] for t in waiting if t["due_at"] <= first]
        meta["steps"].append(_step("timer", ", ".join(fired), None, tsvc, meta["case_id"]))
        trial_store.save(token, meta)
        return _state(token, meta, tsvc)
    finally:
        trial_store.dispose(tsvc)


@use_case("process.draft")
def trial_message(svc: Services, principal: Principal, token: str, name: str, correlation: dict | None = None,
                  payload: dict | None = None) -> dict:
    """Simulate a message from another case or an institution into the trial (as the messages API would post it)."""
    meta, tsvc = _open(svc, principal, token)
    try:
        _step_allowed(meta)
        sent = messaging.post_message(tsvc, TRIAL_USER, name, correlation or {}, payload or {})
        meta["steps"].append(_step("message", str(name), payload or {}, tsvc, meta["case_id"]))
        trial_store.save(token, meta)
        state = _state(token, meta, tsvc)
        state["message"] = {"state": sent.get("state"), "error": sent.get("error") or sent.get("last_error")}
        return state
    finally:
        trial_store.dispose(tsvc)


@use_case("process.draft")
def trial_rechoose(svc: Services, principal: Principal, token: str, choices: dict | None) -> dict:
    """Choose the gateways' outcomes again once the run showed the way it took: a new trial with these choices
    replays the same start data and steps (the same task completed with the same data, the same timers fired, the
    same messages) as far as they still apply; the old trial is deleted. The answer says how many steps replayed."""
    meta, tsvc = _open(svc, principal, token)
    trial_store.dispose(tsvc)
    state = start_trial(svc, principal, meta["process_key"], meta.get("start_data") or {}, choices,
                        meta["step_limit"])
    replayed = 0
    for step in meta["steps"][1:]:
        try:
            after = _replay(svc, principal, state, step)
        except ExpedienteError:  # refused now (a form, the step limit): the replay stops before it
            after = None
        if after is None:
            break
        state, replayed = after, replayed + 1
    trial_store.remove(token)
    return {**state, "replayed": replayed, "replay_total": len(meta["steps"]) - 1}


def _replay(svc: Services, principal: Principal, state: dict, step: dict) -> dict | None:
    """One step of an older trial on a new one: its state after, or None when the step no longer applies."""
    if state["case_state"] != "running":
        return None
    if step["kind"] == "task":
        ready = [t for t in state["ready_tasks"] if t["element_id"] == step["element"]]
        return trial_complete(svc, principal, state["token"], ready[0]["id"], step["input"]) if ready else None
    if step["kind"] == "timer":
        return trial_fire_timers(svc, principal, state["token"]) if state["timers"] else None
    if step["kind"] == "message":
        # The same message into the same wait: an institution's request has a new number in each trial.
        keys = next((w["keys"] for w in state["waits"] if w["name"] == step["element"]), None)
        if keys is None:
            return None
        return trial_message(svc, principal, state["token"], step["element"], keys, step["input"] or {})
    return None


@use_case("process.draft")
def end_trial(svc: Services, principal: Principal, token: str) -> None:
    """End a trial: its throwaway database is deleted."""
    meta, tsvc = _open(svc, principal, token)
    trial_store.dispose(tsvc)
    trial_store.remove(token)


def _step(kind: str, element: str, data, tsvc: Services, case_id: int) -> dict:
    with tsvc.uow(write=False) as uow:
        case = read_case(uow.conn, case_id)
        wf = load_case_workflow(tsvc, uow.conn, case)
        after = _jsonable(current_data(wf))
    return {"kind": kind, "element": element, "input": _jsonable(data), "state": case.state, "data": after}


def _jsonable(value):
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def _timers(tsvc: Services, case_id: int) -> list[dict]:
    t = models.timers
    with tsvc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(select(t.c.id, t.c.element_id, t.c.due_at)
                                                  .where(t.c.case_id == case_id, t.c.state == "waiting")
                                                  .order_by(t.c.due_at)).mappings()]


def _schema(svc: Services, form_key: str | None) -> dict | None:
    if not form_key or svc.forms is None or form_key not in set(svc.forms.keys()):
        return None
    return svc.forms.get(form_key)


def _state(token: str, meta: dict, tsvc: Services) -> dict:
    case_id = meta["case_id"]
    elements = _elements(meta["xml"], meta["process_key"])
    with tsvc.uow(write=False) as uow:
        conn = uow.conn
        case = read_case(conn, case_id)
        wf = load_case_workflow(tsvc, conn, case)
        c = models.cases
        failed = conn.execute(select(c.c.error_element, c.c.error_message).where(c.c.id == case_id)).first()
        t = models.tasks
        ready = [dict(r) for r in conn.execute(select(t.c.id, t.c.element_id, t.c.title, t.c.form_key, t.c.lane,
                                                      t.c.candidate_group)
                                               .where(t.c.case_id == case_id, t.c.state == "ready")
                                               .order_by(t.c.created_at, t.c.id)).mappings()]
        w = message_waits
        waits = [{"id": r.id, "element_id": r.element_id, "kind": r.kind, "name": r.name,
                  "keys": orjson.loads(r.keys_json or "{}")}
                 for r in conn.execute(select(w.c.id, w.c.element_id, w.c.kind, w.c.name, w.c.keys_json)
                                       .where(w.c.case_id == case_id, w.c.state == "waiting"))]
        data = _jsonable(current_data(wf))
        path = path_of(wf, meta["xml"])
    for task in ready:
        schema = _schema(tsvc, task["form_key"])
        task["schema"] = schema
        task["example"] = {**example_of(schema), **{k: data[k] for k in (schema or {}).get("properties", {})
                                                     if k in data}}
    problems = []
    if case.state == "error":
        problems.append({"element_id": failed.error_element,
                         "message": str(msg("%(element)s: %(message)s", element=_named(elements, failed.error_element),
                                            message=in_spanish(failed.error_message or "")))})
    limit_reached = len(meta["steps"]) > meta["step_limit"]
    if limit_reached:
        problems.append({"element_id": None, "message": str(msg(
            "La prueba llegó a su límite de %(limit)s pasos: ¿hay un ciclo en el diagrama?",
            limit=meta["step_limit"]))})
    return {"token": token, "process_key": meta["process_key"], "case_state": case.state,
            "ready_tasks": ready, "timers": [{**x, "name": (elements.get(x["element_id"]) or {}).get("name") or ""}
                                             for x in _timers(tsvc, case_id)],
            "waits": waits, "path": path, "data": data, "steps": meta["steps"], "choices": meta["choices"],
            "step_limit": meta["step_limit"], "limit_reached": limit_reached, "problems": problems,
            "finished": case.state == "completed"}


def _elements(xml: str, process_key: str) -> dict:
    try:
        return elements_of(xml, f"{process_key}.bpmn")
    except (SpecInvalid, ExpedienteError):
        return {}


def _named(elements: dict, element_id: str | None) -> str:
    el = elements.get(element_id or "") or {}
    return str(describe_parts(el.get("type") or "", el.get("name"), element_id or "?", "The"))


def example_of(schema: dict | None) -> dict:
    """Test data shaped like a form: its required fields (and those with a default) with a plausible value."""
    value = _example(schema or {}, depth=0)
    return value if isinstance(value, dict) else {}


def _example(schema: dict, depth: int):
    if depth > 6:
        return None
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("oneOf") or schema.get("anyOf"):
        return _example((schema.get("oneOf") or schema.get("anyOf"))[0], depth + 1)
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        wanted = [k for k in props if k in set(schema.get("required") or []) or "default" in props[k]]
        return {k: _example(props[k], depth + 1) for k in wanted}
    if kind == "array":
        item = _example(schema.get("items") or {}, depth + 1)
        return [item] * max(int(schema.get("minItems") or 1), 1) if item is not None else []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "string":
        return {"date": "2027-01-15", "date-time": "2027-01-15T10:00:00-06:00", "email": "prueba@example.com",
                "time": "10:00"}.get(schema.get("format"), "prueba")
    return None
