"""The step being run: which case, in which transaction, at what moment, for whom.

A service task's operator (engine/usecases/operators.py) runs inside SpiffWorkflow, deep below the use case that
started the step; it reads the step from here, so what it writes (a mail, a document, a request to an institution)
goes into that step's transaction and is rolled back with it.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StepContext:
    svc: Any               # engine.services.Services (typed loosely: the runtime sits below the composition root)
    conn: Any              # the step's SQLAlchemy connection, inside its transaction
    case_id: int
    case_number: str
    process_key: str
    now: datetime
    actor: str | None      # who made the step happen (None: the scheduler, a message)


_current: ContextVar[StepContext | None] = ContextVar("expediente_step", default=None)


def current_step() -> StepContext | None:
    return _current.get()


@contextmanager
def stepping(ctx: StepContext):
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
