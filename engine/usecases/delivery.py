"""Delivering messages (engine/usecases/messaging.py queues them): matching each to the case(s) whose waiting catch
it answers, through the indexed projection of what cases wait for (message_waits, never the workflows), and stepping
each matched case in the message's transaction with the case's version check; early ones kept pending, those that
can never be delivered set aside with the reason; signals broadcast; cases started by a message; the scheduler's
sweep; and the one-time backfill of the waits of cases older than messages. See docs/messages.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from itertools import groupby
from uuid import UUID

import orjson
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import OperationalError

from engine.errors import Conflict, ExpedienteError
from engine.integrity.changes import data_changes
from engine.messages import msg
from engine.runtime.runner import current_data, is_process_start
from engine.runtime.steps import StepContext, stepping
from engine.storage import models
from engine.storage.message_rows import project_waits
from engine.storage.persistence import (
    CaseRow, append_events, event_row, load_case_workflow, project, snapshot, state_after, write_step,
)
from engine.usecases.cases import ORIGIN, start_in
from engine.usecases.outcomes import outcome_events

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

log = logging.getLogger(__name__)
_m, _w, _c, _l, _v, _t = (models.messages, models.message_waits, models.cases, models.case_links,
                          models.process_versions, models.tasks)
_MESSAGE = select(_m).where(_m.c.id == bindparam("b_id"))
# Tries of one message against concurrent changes of its case before it is left for the scheduler's next pass.
DELIVERY_TRIES = 5

_MESSAGE = select(_m).where(_m.c.id == bindparam("b_id"))
_QUEUED = (select(_m.c.id).where(_m.c.state == "queued", _m.c.id.not_in(bindparam("b_skip", expanding=True)))
           .order_by(_m.c.id).limit(bindparam("b_limit")))
_WAITS = (select(_w.c.id, _w.c.case_id, _w.c.element_id, _w.c.keys_json, _c.c.state.label("case_state"),
                 _c.c.number, _c.c.process_key)
          .join(_c, _c.c.id == _w.c.case_id)
          .where(_w.c.name == bindparam("b_name"), _w.c.kind == bindparam("b_kind"), _w.c.state == "waiting")
          .order_by(_w.c.created_at, _w.c.id))
_WAITS_OF_CASE = _WAITS.where(_w.c.case_id == bindparam("b_case"))
_WAITS_OF_PROCESS = _WAITS.where(_c.c.process_key == bindparam("b_process"))
_LOCK_CASE = select(_c.c.id, _c.c.version, _c.c.state, _c.c.process_key, _c.c.process_version_id,
                    _c.c.workflow_json, _c.c.number).where(_c.c.id == bindparam("b_id"))
_CASE_BY_NUMBER = select(_c.c.id).where(_c.c.number == bindparam("b_number"))
_CASE_STATE = select(_c.c.state, _c.c.process_version_id, _c.c.number).where(_c.c.id == bindparam("b_id"))
_MARK_WAIT = (update(_w).where(_w.c.id == bindparam("b_id"), _w.c.state == "waiting")
              .values(state="delivered", closed_at=bindparam("b_now"), message_id=bindparam("b_message")))
_SETTLE = (update(_m).where(_m.c.id == bindparam("b_id"))
           .values(state=bindparam("b_state"), reason=bindparam("b_reason"), updated_at=bindparam("b_now"),
                   target_case_id=bindparam("b_target"), delivered_at=bindparam("b_delivered"),
                   attempts=_m.c.attempts + 1))
_NOTE_TRY = (update(_m).where(_m.c.id == bindparam("b_id"))
             .values(attempts=_m.c.attempts + 1, reason=bindparam("b_reason"), updated_at=bindparam("b_now")))
_VERSIONS = select(_v.c.id, _v.c.process_key, _v.c.version).order_by(_v.c.process_key, _v.c.version.desc())
_EXPIRE = (update(_m).where(_m.c.state == "pending", _m.c.expires_at < bindparam("b_now"))
           .values(state="undeliverable", updated_at=bindparam("b_now"),
                   reason=bindparam("b_reason")))
# Early messages whose name some case of a running state now waits for: matched again (the pass's sweep; the
# step that projects a new wait also wakes them, engine.storage.message_rows.project_waits).
_WAKE = (update(_m).where(_m.c.state == "pending", _m.c.name.in_(
    select(_w.c.name).join(_c, _c.c.id == _w.c.case_id)
    .where(_w.c.state == "waiting", _w.c.kind == "message", _c.c.state == "running").scalar_subquery()))
    .values(state="queued", updated_at=bindparam("b_now")))
_LINK_EXISTS = select(_l.c.id).where(_l.c.from_case_id == bindparam("b_from"), _l.c.to_case_id == bindparam("b_to"),
                                     _l.c.kind == bindparam("b_kind"), _l.c.message_name == bindparam("b_name"))
_OPEN_DUE = select(func.min(_t.c.due_at)).where(_t.c.case_id == bindparam("b_id"), _t.c.state == "ready")



def deliver_queued(svc: Services, limit: int = 100, sweep: bool = False) -> int:
    """Deliver up to `limit` queued messages, each in its own transaction; the number delivered.

    With `sweep` (the scheduler's pass), early messages past their keeping time become undeliverable first, and
    early ones whose name some running case now waits for are queued again."""
    if sweep:
        with svc.uow() as uow:
            now = svc.clock()
            uow.conn.execute(_EXPIRE, {"b_now": now, "b_reason": msg(
                "ningún expediente lo esperó en el plazo de conservación de mensajes anticipados")})
            uow.conn.execute(_WAKE, {"b_now": now})
            uow.commit()
    delivered, tried = 0, []
    while len(tried) < limit:
        with svc.uow(write=False) as uow:
            ids = [r.id for r in uow.conn.execute(_QUEUED, {"b_skip": tried or [-1],
                                                             "b_limit": min(50, limit - len(tried))})]
        if not ids:
            break
        for message_id in ids:
            tried.append(message_id)
            if _attempt(svc, message_id) == "delivered":
                delivered += 1
    return delivered


def _attempt(svc: Services, message_id: int) -> str:
    """Deliver one message, trying again while its case changes under it; its state afterwards."""
    last = None
    for _ in range(DELIVERY_TRIES):
        try:
            with svc.uow() as uow:
                outcome = deliver_one(svc, uow.conn, message_id)
                uow.commit()
            return outcome
        except Conflict as exc:
            last = exc
        except OperationalError:  # the database itself failed (connection, disk): not the message's fault
            log.exception("delivering message %s failed on the database; it stays queued", message_id)
            return "queued"
        except Exception as exc:  # noqa: BLE001 - one broken message must not stop the others
            log.exception("delivering message %s failed", message_id)
            with svc.uow() as uow:
                _settle(uow.conn, message_id, svc.clock(), "undeliverable",
                        msg("error inesperado al entregarlo: %(error)s", error=f"{type(exc).__name__}: {exc}"[:500]))
                uow.commit()
            return "undeliverable"
    with svc.uow() as uow:  # left queued: the scheduler's next pass tries again
        uow.conn.execute(_NOTE_TRY, {"b_id": message_id, "b_now": svc.clock(),
                                     "b_reason": msg("el expediente cambiaba al entregarlo; se reintentará")})
        uow.commit()
    log.info("message %s left queued after %d conflicts (%s)", message_id, DELIVERY_TRIES, last)
    return "queued"


def _claim(conn, message_id: int):
    query = _MESSAGE.where(_m.c.state == "queued")
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query, {"b_id": message_id}).mappings().first()


def _settle(conn, message_id: int, now, state: str, reason: str | None = None, target: int | None = None) -> str:
    conn.execute(_SETTLE, {"b_id": message_id, "b_state": state, "b_reason": reason, "b_now": now,
                           "b_target": target, "b_delivered": now if state == "delivered" else None})
    return state


def deliver_one(svc: Services, conn, message_id: int) -> str:
    """Match and deliver one queued message in the caller's transaction; its state afterwards ("gone": someone
    else settled it meanwhile)."""
    row = _claim(conn, message_id)
    if row is None:
        return "gone"  # delivered or settled by someone else meanwhile
    now = svc.clock()
    correlation, payload = orjson.loads(row["correlation_json"]), orjson.loads(row["payload_json"])
    if row["kind"] == "signal":
        return _broadcast(svc, conn, row, payload, now)
    try:
        named = _named_case(conn, correlation)
    except LookupError as exc:
        return _settle(conn, message_id, now, "undeliverable", str(exc))
    query, params = (_WAITS_OF_CASE, {"b_case": named}) if named is not None else (_WAITS, {})
    # Waits of closed cases are left behind by a supervisor's cancel (the workflow was not stepped): not theirs.
    waits = [w for w in conn.execute(query, {"b_name": row["name"], "b_kind": "message", **params})
             if w.case_state not in ("completed", "cancelled") and _matches(correlation, w)]
    first = {}  # one catch per case: the one that has waited longest
    for w in waits:
        if w.case_state == "running":
            first.setdefault(w.case_id, w.id)
    targets, refused = [], None
    for case_id, wait_id in first.items():
        outcome = _deliver_to_case(svc, conn, row, case_id, [wait_id], payload, now)
        if outcome == "delivered":
            targets.append(case_id)
        elif outcome == "refused":
            refused = case_id
    if targets:
        return _settle(conn, message_id, now, "delivered", None, targets[0])
    if refused is not None:
        return _settle(conn, message_id, now, "pending", msg(
            "el expediente %(number)s no pudo guardar el paso al recibirlo y quedó en error; se entregará "
            "cuando se corrija", number=conn.execute(_CASE_STATE, {"b_id": refused}).first().number))
    if waits:
        w = waits[0]
        return _settle(conn, message_id, now, "pending", msg(
            "el expediente %(number)s lo espera, pero está %(state)s: se entregará cuando siga",
            number=w.number, state=w.case_state), w.case_id)
    if named is None:
        try:
            started = _start_by_message(svc, conn, row, payload, now)
        except ExpedienteError as exc:  # e.g. the payload does not fill the procedure's intake form
            return _settle(conn, message_id, now, "undeliverable", msg(
                "no se pudo abrir el expediente que este mensaje inicia: %(error)s", error=str(exc)[:500]))
        if started is not None:
            return _settle(conn, message_id, now, "delivered", None, started)
    state, reason = _why_not(svc, conn, row["name"], named)
    return _settle(conn, message_id, now, state, reason, named)  # the case it names sees it on its page


def _named_case(conn, correlation: dict) -> int | None:
    """The case a message names by "caso" or "expediente" (LookupError, in words, if there is none)."""
    case_id = None
    if "caso" in correlation:
        try:
            case_id = int(str(correlation["caso"]))
        except ValueError:
            raise LookupError(msg("'caso' debe ser el número interno de un expediente")) from None
        if conn.execute(_CASE_STATE, {"b_id": case_id}).first() is None:
            raise LookupError(msg("no existe el expediente %(case)s", case=case_id))
    if "expediente" in correlation:
        found = conn.execute(_CASE_BY_NUMBER, {"b_number": str(correlation["expediente"])}).scalar()
        if found is None:
            raise LookupError(msg("no existe el expediente %(case)s", case=correlation["expediente"]))
        if case_id is not None and found != case_id:
            raise LookupError(msg("'caso' y 'expediente' nombran expedientes distintos"))
        case_id = found
    return case_id


def _matches(correlation: dict, wait) -> bool:
    keys = orjson.loads(wait.keys_json)
    for key, value in correlation.items():
        if key == "caso":
            ok = str(value) == str(wait.case_id)
        elif key == "expediente":
            ok = str(value) == wait.number
        else:
            ok = keys.get(key) is not None and str(keys[key]) == str(value)
        if not ok:
            return False
    return True


def _why_not(svc: Services, conn, name: str, named: int | None) -> tuple[str, str]:
    """Pending (a case may still come to wait for it) or undeliverable (none ever will), with the reason."""
    if named is not None:
        case = conn.execute(_CASE_STATE, {"b_id": named}).first()
        if case.state in ("completed", "cancelled"):
            return "undeliverable", msg("el expediente %(number)s está cerrado (%(state)s)", number=case.number,
                                        state=case.state)
        if name not in catch_names(svc, conn, case.process_version_id):
            return "undeliverable", msg("el procedimiento del expediente %(number)s no espera el mensaje "
                                        "'%(name)s'", number=case.number, name=name)
        return "pending", msg("llegó antes de que el expediente %(number)s lo espere; se entregará cuando llegue "
                              "a ese paso", number=case.number)
    versions = conn.execute(_VERSIONS).all()
    if not any(name in catch_names(svc, conn, v.id) for v in versions):
        return "undeliverable", msg("ningún procedimiento publicado espera el mensaje '%(name)s'", name=name)
    return "pending", msg("ningún expediente espera ahora este mensaje con esas claves; se entregará cuando uno "
                          "llegue a ese paso")


def catch_names(svc: Services, conn, version_id: int) -> set[str]:
    """Names of the messages a process version can wait for (catch events, receive tasks, message starts)."""
    return {name for kind, name in _caught(svc, conn, version_id) if kind == "message"}


def _caught(svc: Services, conn, version_id: int) -> set[tuple[str, str]]:
    """(kind, name) of every message and signal a process version can wait for, its subprocesses included."""
    spec, subs = svc.specs.get(conn, version_id)
    found = set()
    for s in [spec, *subs.values()]:
        for task_spec in s.task_specs.values():
            if type(task_spec).__name__ not in _CATCHING:
                continue
            definition = getattr(task_spec, "event_definition", None)
            for d in getattr(definition, "event_definitions", None) or [definition]:
                kind = type(d).__name__
                if kind.endswith("MessageEventDefinition"):
                    found.add(("message", d.name))
                elif kind.endswith("SignalEventDefinition"):
                    found.add(("signal", d.name))
    return found


def backfill_waits(svc: Services, batch: int = 200) -> int:
    """Project the waits of cases that already waited at a message or signal catch before messages could be
    delivered (cases older than migration 0014_messages have no wait rows, so nothing could ever reach them).
    Runs once: only while no wait and no message exists yet (`expediente migrate` calls it). Wait rows written."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        if conn.execute(select(_w.c.id).limit(1)).first() or conn.execute(select(_m.c.id).limit(1)).first():
            return 0
        versions = [v.id for v in conn.execute(_VERSIONS) if _caught(svc, conn, v.id)]
        if not versions:
            return 0
        ids = [r.id for r in conn.execute(select(_c.c.id).where(
            _c.c.process_version_id.in_(versions), _c.c.state.in_(("running", "suspended", "error"))).order_by(_c.c.id))]
    written = 0
    for start in range(0, len(ids), batch):
        with svc.uow() as uow:
            now = svc.clock()
            for case_id in ids[start:start + batch]:
                locked = _lock_case(uow.conn, case_id)
                case = CaseRow(locked.id, locked.version, locked.state, locked.process_key, locked.process_version_id,
                               locked.workflow_json)
                waits = svc.runtime.waiting_messages(load_case_workflow(svc, uow.conn, case))
                project_waits(uow.conn, case_id, {}, waits, now)
                written += len(waits)
            uow.commit()
    return written


_CATCHING = {"StartEvent", "IntermediateCatchEvent", "BoundaryEvent", "ReceiveTask", "EventBasedGateway"}


def _message_start(spec, name: str) -> bool:
    """Whether the process itself (not a subprocess) starts with a message start event of this name."""
    for task_spec in spec.task_specs.values():
        if is_process_start(task_spec):
            definition = getattr(task_spec, "event_definition", None)
            if type(definition).__name__.endswith("MessageEventDefinition") and definition.name == name:
                return True
    return False


def _start_by_message(svc: Services, conn, row, payload: dict, now) -> int | None:
    """Start a case of the (latest) procedure that begins with this message; its id, or None if none does."""
    latest = {}
    for v in conn.execute(_VERSIONS):
        latest.setdefault(v.process_key, v)
    for key, v in sorted(latest.items()):
        spec, _subs = svc.specs.get(conn, v.id)
        if not _message_start(spec, row["name"]):
            continue
        data = {k: v for k, v in payload.items() if k != ORIGIN}  # only the sending case says where it came from
        if row["source_case_id"] is not None:
            data[ORIGIN] = _origin(conn, row["source_case_id"])

        def catch_start(wf, name=row["name"]):
            failure = svc.runtime.advance(wf)
            if failure is not None:
                return failure
            for tid, (_element, kind, wait_name, _keys) in svc.runtime.waiting_messages(wf).items():
                if kind == "message" and wait_name == name:
                    return svc.runtime.deliver(wf, wf.get_task_from_id(UUID(tid)), kind, name, {})
            return None
        started = start_in(svc, conn, row["created_by"], key, data, before_steps=catch_start)
        append_events(conn, [event_row(started.id, now, "message_received", data={
            "name": row["name"], "message_id": row["id"], "source": row["source"], "started": True})])
        _link(conn, row, started.id, "started", now)
        return started.id
    return None


def _origin(conn, case_id: int) -> dict:
    """What a case started by another learns of it: which it is, and the earliest due date of its open tasks
    (what remains of its legal deadline, for a procedure that must answer within it)."""
    case = conn.execute(select(_c.c.id, _c.c.number, _c.c.process_key).where(_c.c.id == case_id)).one()
    due = conn.execute(_OPEN_DUE, {"b_id": case_id}).scalar()
    return {"caso": case.id, "expediente": case.number, "proceso": case.process_key,
            "vence": due.isoformat() if due is not None else None}


def _link(conn, row, target: int, kind: str, now) -> None:
    source = row["source_case_id"]
    if source is None or source == target:
        return
    params = {"b_from": source, "b_to": target, "b_kind": kind, "b_name": row["name"]}
    if conn.execute(_LINK_EXISTS, params).first() is None:
        conn.execute(_l.insert().values(from_case_id=source, to_case_id=target, kind=kind,
                                        message_name=row["name"], created_at=now))


def _lock_case(conn, case_id: int):
    query = _LOCK_CASE.with_for_update() if conn.dialect.name == "postgresql" else _LOCK_CASE
    return conn.execute(query, {"b_id": case_id}).first()


def _deliver_to_case(svc: Services, conn, row, case_id: int, wait_ids: list[str], payload: dict, now) -> str:
    """Step one case with the message at its waiting catch(es): "delivered"; "stale" if the case no longer waits
    there; "refused" if the step made what the case cannot store (the case is then in error, as it was)."""
    locked = _lock_case(conn, case_id)
    if locked is None or locked.state != "running":
        return "stale"
    case = CaseRow(locked.id, locked.version, locked.state, locked.process_key, locked.process_version_id,
                   locked.workflow_json)
    wf = load_case_workflow(svc, conn, case)
    before = snapshot(svc.runtime, wf)
    live = [tid for tid in wait_ids if tid in before.waits and before.waits[tid][2] == row["name"]]
    if not live:
        return "stale"  # the projection was behind the workflow; the next step of the case corrects it
    data_before = current_data(wf)
    failure, elements = None, []
    with stepping(StepContext(svc, conn, case.id, locked.number, case.process_key, now, None)):
        for tid in live:
            task = wf.get_task_from_id(UUID(tid))
            if task is None:
                continue
            elements.append(before.waits[tid][0])
            failure = svc.runtime.deliver(wf, task, row["kind"], row["name"], payload)
            if failure is not None:
                break
    version, state, failure, refused = write_step(conn, case, wf, state_after(wf, failure), failure, now)
    if refused:
        append_events(conn, outcome_events(svc, conn, case.id, now, "error", failure))
        return "refused"
    for tid in live:
        if conn.execute(_MARK_WAIT, {"b_id": tid, "b_now": now, "b_message": row["id"]}).rowcount != 1:
            raise Conflict("the wait was delivered by someone else", case_id=case.id)
    changes = data_changes(data_before, current_data(wf))
    append_events(conn, [event_row(case.id, now, "message_received", element_id=element, data={
        "name": row["name"], "kind": row["kind"], "message_id": row["id"], "source": row["source"],
        "source_case_id": row["source_case_id"], "payload": payload},
        changes=changes if i == len(elements) - 1 else None) for i, element in enumerate(elements)])
    project(conn, case.id, case.process_key, before, snapshot(svc.runtime, wf), now, deadlines=svc.deadlines)
    append_events(conn, outcome_events(svc, conn, case.id, now, state, failure))
    _link(conn, row, case.id, "continued", now)
    return "delivered"


def _broadcast(svc: Services, conn, row, payload: dict, now) -> str:
    """A signal reaches every case waiting for it (of its procedure, if it names one)."""
    query, params = ((_WAITS_OF_PROCESS, {"b_process": row["process_key"]}) if row["process_key"]
                     else (_WAITS, {}))
    waits = [w for w in conn.execute(query, {"b_name": row["name"], "b_kind": "signal", **params})
             if w.case_state == "running"]
    reached = []
    for case_id, group in groupby(sorted(waits, key=lambda w: w.case_id), key=lambda w: w.case_id):
        if _deliver_to_case(svc, conn, row, case_id, [w.id for w in group], payload, now) == "delivered":
            reached.append(case_id)
    return _settle(conn, row["id"], now, "delivered", msg("recibida por %(n)s expedientes", n=len(reached)),
                   reached[0] if reached else None)
