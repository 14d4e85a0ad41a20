"""Messages into waiting cases: from the API, from other cases (their throw events and send tasks, through the
outbox), from institutions answering by link; and signals broadcast to every case waiting for them.

A message is a row (engine.storage.models.messages) before it is anything else: `submit` queues it in the sender's
transaction, and it is delivered right after that commits (or by the scheduler's pass) by engine/usecases/delivery.py,
which reads only the indexed projection of what cases wait for (message_waits), never the workflows, to find its
case(s); then, in one transaction per message, it steps each matched case with the case's version check, marks the
wait and the message delivered and writes the history. Two deliveries to one case serialize on that version: one
wins, the other is rolled back and tried again, so a message is never lost nor delivered twice.

Correlation: a message's `correlation` names the case it is for: "caso" (the case id), "expediente" (its number),
or any key a waiting catch declares with its property `correlacion` (engine.runtime.runner.CORRELATION_PROPERTY).
One that arrives before its case waits for it is kept `pending` and delivered when a matching catch starts waiting;
one that can never be delivered is `undeliverable`, with the reason, for a supervisor to retry or discard.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import re
from datetime import datetime, timedelta

import orjson
from sqlalchemy import bindparam, or_, select, update

from engine.accounts.permissions import Principal, use_case
from engine.errors import Conflict, InvalidInput, NotFound
from engine.messages import msg
from engine.storage import models
from engine.storage.message_rows import QUEUED_FLAG, dumps, note_queued, queue_message
from engine.storage.persistence import append_events, event_row
from engine.usecases import delivery
from engine.values import ValueRejected, check_data

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

log = logging.getLogger(__name__)
_m, _w, _c, _l, _v = (models.messages, models.message_waits, models.cases, models.case_links,
                      models.process_versions)
KINDS = ("message", "signal")
STATES = ("queued", "pending", "delivered", "undeliverable", "discarded")
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_CORRELATION_KEYS = 10
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
_MESSAGE = select(_m).where(_m.c.id == bindparam("b_id"))


def _problem(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "message": message}])


def check_message(name, correlation, payload, kind: str = "message") -> tuple[str, dict, dict]:
    """The message as it will be stored, or InvalidInput naming the field."""
    if not isinstance(name, str) or not _NAME.match(name.strip() or "\x00"):
        raise _problem("name", msg("el nombre del mensaje es obligatorio (hasta 200 caracteres, sin caracteres "
                                   "de control)"))
    if correlation is None:
        correlation = {}
    if not isinstance(correlation, dict):
        raise _problem("correlation", msg("las claves de correlación deben ser un objeto"))
    if kind == "message" and not correlation:
        raise _problem("correlation", msg("un mensaje necesita al menos una clave de correlación (caso, "
                                          "expediente u otra que declare el evento que lo espera)"))
    if len(correlation) > MAX_CORRELATION_KEYS:
        raise _problem("correlation", msg("demasiadas claves de correlación (máximo %(n)s)", n=MAX_CORRELATION_KEYS))
    for key, value in correlation.items():
        if not isinstance(value, (str, int, float, bool)) or isinstance(value, bool) or len(str(value)) > 200:
            raise _problem(f"correlation.{key}", msg("cada clave de correlación debe ser un texto o un número"))
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise _problem("payload", msg("el contenido del mensaje debe ser un objeto"))
    try:
        check_data(payload, path="payload")
    except ValueRejected as exc:
        raise _problem(exc.path, exc.reason or exc.message) from exc
    if len(dumps(payload)) > MAX_PAYLOAD_BYTES:
        raise _problem("payload", msg("el contenido del mensaje pasa de %(n)s KiB", n=MAX_PAYLOAD_BYTES // 1024))
    return name.strip(), correlation, payload


def submit(svc: Services, conn, *, name: str, correlation: dict, payload: dict, source: str,
           created_by: str | None, kind: str = "message", process_key: str | None = None,
           source_case_id: int | None = None, source_element: str | None = None,
           expires_at: datetime | None = None) -> int:
    """Queue a message in the caller's transaction; it is delivered after that commits. Its id."""
    name, correlation, payload = check_message(name, correlation, payload, kind)
    now = svc.clock()
    return queue_message(conn, kind=kind, name=name, correlation=correlation, payload=payload, source=source,
                         now=now, created_by=created_by, process_key=process_key, source_case_id=source_case_id,
                         source_element=source_element,
                         expires_at=expires_at or now + timedelta(days=svc.settings.message_pending_days))


@use_case("message.send")
def post_message(svc: Services, principal: Principal, name, correlation, payload) -> dict:
    """Send a message into the case(s) waiting for it; answers how it went (delivered, pending, undeliverable)."""
    return _send_now(svc, dict(name=name, correlation=correlation, payload=payload, source="api",
                               created_by=principal.username))


def _send_now(svc: Services, message: dict) -> dict:
    """Queue a message and deliver it in the same transaction (one commit); if its case keeps changing under it,
    or delivering fails unexpectedly, it is committed queued instead and the scheduler delivers it."""
    check_message(message["name"], message["correlation"], message["payload"], message.get("kind", "message"))
    for _ in range(delivery.DELIVERY_TRIES if svc.settings.deliver_messages_at_once else 0):
        try:
            with svc.uow() as uow:
                message_id = submit(svc, uow.conn, **message)
                uow.conn.info.pop(QUEUED_FLAG, None)  # delivered here; a step it makes may queue others again
                delivery.deliver_one(svc, uow.conn, message_id)
                view = _view(uow.conn, message_id)
                uow.commit()
            return view
        except Conflict:
            continue
        except Exception:  # noqa: BLE001 - kept queued: the pass records why it cannot be delivered
            log.exception("delivering a message at once failed; it is kept queued")
            break
    with svc.uow() as uow:
        message_id = submit(svc, uow.conn, **message)
        uow.commit()
    with svc.uow(write=False) as uow:
        return _view(uow.conn, message_id)


@use_case("message.send")
def broadcast_signal(svc: Services, principal: Principal, name, process_key=None, payload=None) -> dict:
    """Broadcast a signal to every case waiting for it (of one procedure, when `process_key` is given)."""
    if process_key is not None and (not isinstance(process_key, str) or not process_key.strip()):
        raise _problem("process_key", msg("el procedimiento debe ser un texto"))
    with svc.uow(write=False) as uow:
        if process_key is not None and uow.conn.execute(
                select(_v.c.id).where(_v.c.process_key == process_key).limit(1)).first() is None:
            raise _problem("process_key", msg("no hay ningún procedimiento '%(key)s' publicado", key=process_key))
    return _send_now(svc, dict(name=name, correlation={}, payload=payload, source="api",
                               created_by=principal.username, kind="signal", process_key=process_key))


@use_case("message.manage")
def list_messages(svc: Services, principal: Principal, state: str | None = None, name: str | None = None,
                  case_id: int | None = None, limit: int = 50, before: int | None = None) -> dict:
    """Messages newest first, by state, name or case (sent or received); `next` pages on with `before`."""
    if state is not None and state not in STATES:
        raise _problem("state", msg("estado desconocido; use uno de: %(states)s", states=", ".join(STATES)))
    if not isinstance(limit, int) or not 1 <= limit <= 200:
        raise _problem("limit", msg("el límite va de 1 a 200"))
    query = select(_m).order_by(_m.c.id.desc()).limit(limit + 1)
    if state is not None:
        query = query.where(_m.c.state == state)
    if name:
        query = query.where(_m.c.name == name)
    if case_id is not None:
        query = query.where(or_(_m.c.target_case_id == case_id, _m.c.source_case_id == case_id))
    if before is not None:
        query = query.where(_m.c.id < before)
    with svc.uow(write=False) as uow:
        rows = [_row(r) for r in uow.conn.execute(query).mappings()]
        numbers = _numbers(uow.conn, {r[k] for r in rows for k in ("target_case_id", "source_case_id") if r[k]})
    for row in rows:
        row["target_case_number"] = numbers.get(row["target_case_id"])
        row["source_case_number"] = numbers.get(row["source_case_id"])
    return {"items": rows[:limit], "next": rows[limit - 1]["id"] if len(rows) > limit else None}


@use_case("message.manage")
def get_message(svc: Services, principal: Principal, message_id: int) -> dict:
    with svc.uow(write=False) as uow:
        return _view(uow.conn, message_id)


@use_case("message.manage")
def retry_message(svc: Services, principal: Principal, message_id: int) -> dict:
    """Match an undeliverable or pending message again (after the case or the diagram was fixed)."""
    return _requeue(svc, principal, message_id, "queued", "message_retried", None)


@use_case("message.manage")
def discard_message(svc: Services, principal: Principal, message_id: int, reason: str) -> dict:
    """Set an undeliverable or pending message aside for good, saying why."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise _problem("reason", msg("diga por qué se descarta el mensaje (hasta 500 caracteres)"))
    return _requeue(svc, principal, message_id, "discarded", "message_discarded", reason.strip())


def _requeue(svc: Services, principal: Principal, message_id: int, state: str, kind: str, reason) -> dict:
    with svc.uow() as uow:
        conn = uow.conn
        row = conn.execute(_MESSAGE.with_for_update() if conn.dialect.name == "postgresql" else _MESSAGE,
                           {"b_id": message_id}).mappings().first()
        if row is None:
            raise NotFound(f"message {message_id} does not exist", message_id=message_id)
        if row["state"] not in ("undeliverable", "pending"):
            raise Conflict(msg("el mensaje está %(state)s: solo se reintentan o descartan los pendientes y los "
                               "no entregables", state=row["state"]), state=row["state"])
        now = svc.clock()
        values = {"state": state, "updated_at": now}
        if state == "discarded":
            values["reason"] = reason
        elif row["expires_at"] is not None and row["expires_at"] < now:  # a retried early message waits again
            values["expires_at"] = now + timedelta(days=svc.settings.message_pending_days)
        conn.execute(update(_m).where(_m.c.id == message_id).values(**values))
        if state == "queued":
            note_queued(conn)
        for case_id in {row["target_case_id"], row["source_case_id"]} - {None}:
            append_events(conn, [event_row(case_id, now, kind, actor=principal.username,
                                           data={"name": row["name"], "message_id": message_id, "reason": reason})])
        uow.commit()
    with svc.uow(write=False) as uow:
        return _view(uow.conn, message_id)


def linked_cases(conn, case_id: int) -> list[dict]:
    """The cases this one spoke with: those it started or continued (derivado), and those that did so to it."""
    out = []
    for direction, mine, theirs in (("derivado", _l.c.from_case_id, _l.c.to_case_id),
                                    ("origen", _l.c.to_case_id, _l.c.from_case_id)):
        query = (select(_c.c.id, _c.c.number, _c.c.title, _c.c.process_key, _c.c.state, _l.c.kind,
                        _l.c.message_name, _l.c.created_at)
                 .join(_c, _c.c.id == theirs).where(mine == case_id).order_by(_l.c.created_at, _l.c.id))
        for r in conn.execute(query):
            out.append({"case_id": r.id, "number": r.number, "title": r.title, "process_key": r.process_key,
                        "state": r.state, "direction": direction, "kind": r.kind, "message_name": r.message_name,
                        "linked_at": r.created_at})
    return out


def messages_of_case(conn, case_id: int) -> list[dict]:
    """The messages a case received and sent, oldest first."""
    query = (select(_m).where(or_(_m.c.target_case_id == case_id, _m.c.source_case_id == case_id))
             .order_by(_m.c.id))
    return [_row(r) for r in conn.execute(query).mappings()]


def _row(r) -> dict:
    row = dict(r)
    row["correlation"] = orjson.loads(row.pop("correlation_json"))
    row["payload"] = orjson.loads(row.pop("payload_json"))
    return row


def _numbers(conn, ids: set) -> dict:
    if not ids:
        return {}
    return dict(conn.execute(select(_c.c.id, _c.c.number).where(_c.c.id.in_(sorted(ids)))).all())


def _view(conn, message_id: int) -> dict:
    row = conn.execute(_MESSAGE, {"b_id": message_id}).mappings().first()
    if row is None:
        raise NotFound(f"message {message_id} does not exist", message_id=message_id)
    out = _row(row)
    ids = {r.case_id for r in conn.execute(select(_w.c.case_id).where(_w.c.message_id == message_id))}
    if out["target_case_id"] and out["state"] == "delivered":  # else the case it names, not one it reached
        ids.add(out["target_case_id"])
    numbers = _numbers(conn, ids | ({out["source_case_id"]} - {None}))
    out["cases"] = [{"case_id": i, "number": numbers.get(i)} for i in sorted(ids)]
    out["target_case_number"] = numbers.get(out["target_case_id"])
    out["source_case_number"] = numbers.get(out["source_case_id"])
    return out
