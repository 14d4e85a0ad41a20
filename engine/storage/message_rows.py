"""The rows a step writes for messages: what the case now waits for, and what it sent (a transactional outbox).

A step that throws a message or signal queues it here, in the step's own transaction: a rolled-back step sends
nothing. Messages queued in a transaction are delivered right after it commits (the unit of work's after-commit
hook, see engine/storage/unit_of_work.py) and otherwise by the scheduler (engine/usecases/messaging.py).
"""
from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import bindparam, insert, update

from engine.storage import models

_m, _w = models.messages, models.message_waits
QUEUED_FLAG = "expediente.messages_queued"  # on the connection's info while its transaction queued messages

_INSERT_WAIT = insert(_w)
_CLOSE_WAITS = (update(_w).where(_w.c.id.in_(bindparam("b_ids", expanding=True)), _w.c.state == "waiting")
                .values(state="cancelled", closed_at=bindparam("b_now")))
# Messages that arrived before a case waited for them: a new wait of their name sends them back to be matched.
_REQUEUE_PENDING = (update(_m).where(_m.c.state == "pending", _m.c.kind == "message",
                                     _m.c.name.in_(bindparam("b_names", expanding=True)))
                    .values(state="queued", updated_at=bindparam("b_now")))
_INSERT_MESSAGE = insert(_m).returning(_m.c.id)


def dumps(value) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS).decode()


def note_queued(conn) -> None:
    """Ask for delivery once this transaction commits (UnitOfWork reads and clears the flag)."""
    conn.info[QUEUED_FLAG] = True


def project_waits(conn, case_id: int, before: dict, after: dict, now: datetime) -> None:
    """Insert rows for new waiting catches, cancel the rows of those that stopped waiting (one delivered in this
    step was already marked delivered, so it is left alone); wake the early messages of the new names."""
    gone = sorted(set(before) - set(after))
    if gone:
        conn.execute(_CLOSE_WAITS, {"b_ids": gone, "b_now": now})
    new = [{"id": tid, "case_id": case_id, "element_id": element[:200], "kind": kind, "name": name[:200],
            "keys_json": dumps(keys), "state": "waiting", "created_at": now}
           for tid, (element, kind, name, keys) in after.items() if tid not in before]
    if new:
        conn.execute(_INSERT_WAIT, new)
        names = sorted({row["name"] for row in new if row["kind"] == "message"})
        if names and conn.execute(_REQUEUE_PENDING, {"b_names": names, "b_now": now}).rowcount:
            note_queued(conn)


def queue_message(conn, *, kind: str, name: str, correlation: dict, payload: dict, source: str, now: datetime,
                  created_by: str | None = None, process_key: str | None = None, source_case_id: int | None = None,
                  source_element: str | None = None, expires_at: datetime | None = None) -> int:
    """Insert a message to be delivered after this transaction commits; its id."""
    message_id = conn.execute(_INSERT_MESSAGE, {
        "kind": kind, "name": name, "correlation_json": dumps(correlation), "payload_json": dumps(payload),
        "process_key": process_key, "state": "queued", "reason": None, "source": source,
        "source_case_id": source_case_id, "source_element": source_element, "target_case_id": None,
        "created_by": created_by, "created_at": now, "updated_at": now, "delivered_at": None,
        "expires_at": expires_at, "attempts": 0}).scalar_one()
    note_queued(conn)
    return message_id
