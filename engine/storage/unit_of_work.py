"""Transaction boundary: rolls back on exit unless `commit()` was called."""
from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from engine.storage import idempotency
from engine.storage.message_rows import QUEUED_FLAG
from engine.errors import Conflict

# PostgreSQL SQLSTATEs that mean "another transaction got there first": retryable by the client.
_CONFLICT_SQLSTATES = {"40001", "40P01", "55P03"}


class UnitOfWork:
    """One database transaction; `conn` is a SQLAlchemy Core connection."""

    def __init__(self, db: Engine, write: bool = True, on_messages=None):
        self._db = db
        self._write = write
        self._on_messages = on_messages  # called after a commit whose transaction queued messages
        self._committed = False
        self._claim = None
        self.conn: Connection | None = None

    def __enter__(self) -> "UnitOfWork":
        self.conn = self._db.connect().execution_options(write=self._write)
        try:
            self._tx = self.conn.begin()
        except OperationalError as exc:
            self.conn.close()
            raise _as_conflict(exc) from exc
        if self._write:
            # An idempotency key bound by the caller is written first, in this same transaction.
            try:
                self._claim = idempotency.begin_write(self.conn)
            except BaseException as exc:
                self.__exit__(type(exc), exc, None)
                raise
        return self

    def commit(self) -> None:
        self._tx.commit()
        self._committed = True

    def __exit__(self, exc_type, exc, tb):
        queued = False
        try:
            if not self._committed and self._tx.is_active:
                self._tx.rollback()
        finally:
            queued = self.conn.info.pop(QUEUED_FLAG, False) and self._committed
            self.conn.close()
            if self._claim is not None:
                idempotency.end_write(self._claim, self._committed)
        if queued and self._on_messages is not None and exc is None:
            # After the connection went back to the pool: delivering takes one of its own, and a thread must never
            # hold two (a burst of posts would exhaust the pool, each thread waiting for a second connection).
            self._on_messages()
        if isinstance(exc, DBAPIError) and _is_conflict(exc):
            raise _as_conflict(exc) from exc
        return False


def _is_conflict(exc: DBAPIError) -> bool:
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
        return True
    return getattr(exc.orig, "sqlstate", None) in _CONFLICT_SQLSTATES


def _as_conflict(exc: DBAPIError) -> Conflict:
    return Conflict("the case is being changed by someone else right now; try again")
