"""The engine's notion of 'now', shared with SpiffWorkflow's timer code.

SpiffWorkflow's timer events call `datetime.now(timezone.utc)` themselves. We replace the
`datetime` name in that one module with a subclass whose `now()` asks the clock set for the
current thread of work, so a fake clock drives every timer of every procedure exactly.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Callable

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer

_current: ContextVar[Callable[[], datetime] | None] = ContextVar("expediente_clock", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        clock = _current.get()
        if clock is None:
            return datetime.now(tz)
        moment = clock()
        return moment.astimezone(tz) if tz is not None else moment.astimezone(timezone.utc).replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime


@contextmanager
def using(clock: Callable[[], datetime]):
    """Make `clock` the time SpiffWorkflow sees while the block runs."""
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)
