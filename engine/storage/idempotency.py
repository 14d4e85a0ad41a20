"""Idempotency keys: a retried request with the same key gets the first answer instead of acting twice.

The caller binds a claim (user, key, fingerprint of the request) around one use-case call. The first write
UnitOfWork opened under it inserts the key row right after BEGIN, so the key commits or rolls back with the
use case's own changes. A concurrent duplicate waits on the unique (user_id, key) index (PostgreSQL) or on
the write lock (SQLite, BEGIN IMMEDIATE), finds the row and stops with `IdempotentReplay` before changing
anything; the caller then waits for the first request's stored answer and returns it. A rejected request
rolls back, key included, so a corrected retry with the same key runs again.
"""
from __future__ import annotations

import re
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.storage import models
from engine.errors import Conflict, ExpedienteError, InvalidInput
from engine.messages import msg

MAX_KEY_CHARS = 255
# Visible ASCII: what a client can put in a header unchanged (a UUID, a ULID, a random token).
_KEY = re.compile(r"[\x21-\x7e]{1,%d}" % MAX_KEY_CHARS)
_POLL_FIRST_SECONDS = 0.02
_POLL_MAX_SECONDS = 0.5
_k = models.idempotency_keys
# Insert unless the key exists; on PostgreSQL this waits for a concurrent insert of the same key to end.
_RECORD = {name: dialect.insert(_k).on_conflict_do_nothing(index_elements=[_k.c.user_id, _k.c.key])
           .returning(_k.c.id) for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


class IdempotencyKeyInvalid(InvalidInput):
    code = "idempotency_key_invalid"


class IdempotencyKeyReused(InvalidInput):
    """The key was already used for a different request."""

    code = "idempotency_key_reused"


class IdempotentReplay(ExpedienteError):
    """The key is already recorded: nothing was done, the first request's answer is to be returned."""

    code = "idempotent_replay"

    def __init__(self, claim: "Claim"):
        super().__init__(msg("Esta solicitud ya se recibió con la misma clave de idempotencia."))
        self.claim = claim


@dataclass
class Claim:
    """One request's key; `recorded` once the key row committed with the use case's changes."""

    user_id: int
    key: str
    fingerprint: str
    created_at: datetime
    recorded: bool = False
    in_transaction: bool = field(default=False, repr=False)


@dataclass(frozen=True)
class Answer:
    """The first request's response, as stored for replays."""

    status: int
    body: str | None
    content_type: str | None
    location: str | None


_current: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)


def check_key(key: str | None, field_name: str) -> str:
    """The key if it is 1–255 visible ASCII characters; else an error naming `field_name`."""
    if key is None or not _KEY.fullmatch(key):
        raise IdempotencyKeyInvalid(
            msg("La clave de idempotencia debe tener de 1 a %(max)s caracteres ASCII visibles.", max=MAX_KEY_CHARS),
            errors=[{"field": field_name, "message": msg("clave de idempotencia no válida")}])
    return key


@contextmanager
def claim(svc, user_id: int, key: str, fingerprint: str) -> Iterator[Claim]:
    """Bind the key for the use case called inside; a key already recorded raises IdempotentReplay at once."""
    bound = Claim(user_id, key, fingerprint, svc.clock())
    with svc.uow(write=False) as uow:
        if uow.conn.execute(select(_k.c.id).where(_k.c.user_id == user_id, _k.c.key == key)).first():
            raise IdempotentReplay(bound)
    token = _current.set(bound)
    try:
        yield bound
    finally:
        _current.reset(token)


def begin_write(conn) -> Claim | None:
    """Called by UnitOfWork right after BEGIN of a write: record the bound claim, if any and not yet done."""
    bound = _current.get()
    if bound is None or bound.recorded or bound.in_transaction:
        return None
    inserted = conn.execute(_RECORD[conn.dialect.name], {
        "user_id": bound.user_id, "key": bound.key, "fingerprint": bound.fingerprint,
        "created_at": bound.created_at}).first()
    if inserted is None:
        raise IdempotentReplay(bound)
    bound.in_transaction = True
    return bound


def end_write(bound: Claim, committed: bool) -> None:
    """Called by UnitOfWork when the transaction that recorded the claim ends."""
    bound.in_transaction = False
    bound.recorded = bound.recorded or committed


def store_answer(svc, bound: Claim, answer: Answer) -> None:
    """Keep the first request's answer for its replays (once the key committed with the use case)."""
    if not bound.recorded:
        return
    with svc.uow() as uow:
        uow.conn.execute(update(_k).where(_k.c.user_id == bound.user_id, _k.c.key == bound.key,
                                          _k.c.response_status.is_(None))
                         .values(response_status=answer.status, response_body=answer.body,
                                 response_content_type=answer.content_type, response_location=answer.location))
        uow.commit()


def wait_for_answer(svc, bound: Claim, timeout_seconds: float, field_name: str,
                    sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic
                    ) -> Answer:
    """The stored answer of the key's first request, waiting while that request finishes.

    A key first used for a different request is refused (naming `field_name`, where the key came from).
    """
    deadline = monotonic() + timeout_seconds
    pause = _POLL_FIRST_SECONDS
    while True:
        with svc.uow(write=False) as uow:
            row = uow.conn.execute(select(_k).where(_k.c.user_id == bound.user_id, _k.c.key == bound.key)).first()
        if row is None:
            raise Conflict(msg("La solicitud anterior con esta clave de idempotencia ya no está registrada; "
                               "inténtelo de nuevo."))
        if row.fingerprint != bound.fingerprint:
            raise IdempotencyKeyReused(
                msg("La clave de idempotencia ya se usó para otra solicitud; use una clave nueva."),
                errors=[{"field": field_name, "message": msg("clave ya usada para otra solicitud")}])
        if row.response_status is not None:
            return Answer(row.response_status, row.response_body, row.response_content_type, row.response_location)
        if monotonic() >= deadline:
            raise Conflict(msg("La solicitud anterior con esta clave de idempotencia aún se está procesando; "
                               "inténtelo de nuevo en unos segundos."), retry_after_seconds=5)
        sleep(pause)
        pause = min(pause * 2, _POLL_MAX_SECONDS)


def purge_expired(svc) -> int:
    """Delete keys older than the retention setting; returns how many."""
    cutoff = svc.clock() - timedelta(seconds=svc.settings.idempotency_retention_seconds)
    with svc.uow() as uow:
        deleted = uow.conn.execute(delete(_k).where(_k.c.created_at < cutoff)).rowcount
        uow.commit()
    return deleted
