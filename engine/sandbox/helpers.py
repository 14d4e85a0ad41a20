"""The office's script helpers (working days, `now()`, `plazo()`) as the script workers rebuild them.

Scripts run in worker processes (engine.sandbox.pool). A helper that only needs plain data is rebuilt there
rather than called back in this process: the calendar's settings and closure days and the plazos travel with a
call whenever they changed (a worker keeps what it built, keyed by their content), and the current moment
travels with every call, so `now()` in a script is the services' clock (a FakeClock in tests).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from engine.timekeeping.calendar import WorkingCalendar, script_helpers

CALENDAR_HELPERS = ("add_working_days", "add_calendar_days", "working_deadline", "is_working_day",
                    "next_working_day", "effective_filing_date", "working_days_between")
NAMES = (*CALENDAR_HELPERS, "now", "plazo")


def build(payload: tuple, now: Callable[[], str]) -> dict[str, Callable]:
    """The helpers from `payload` (calendar settings, closure days, plazos) and a `now` function."""
    settings, closures, plazos = payload
    return _functions(WorkingCalendar(settings, closures), plazos, now)


def _functions(calendar: WorkingCalendar, plazos: Mapping, now: Callable[[], str]) -> dict[str, Callable]:
    def plazo(name):
        """A deadline figure from the settings (e.g. plazo("laip_dias") -> 10)."""
        try:
            return int(plazos[name])
        except KeyError:
            raise KeyError(f"no deadline setting '{name}'; known: {', '.join(sorted(plazos))}") from None

    def now_iso():
        """The current moment (UTC, ISO-8601) as scripts and timer expressions see it."""
        return now()
    now_iso.__name__ = "now"
    return {**script_helpers(calendar), "now": now_iso, "plazo": plazo}


class OfficeHelpers(Mapping):
    """The helpers as functions in this process (a mapping), and as plain data for the script workers."""

    def __init__(self, calendar_of: Callable[[], WorkingCalendar], plazos: Mapping,
                 clock: Callable[[], datetime]):
        self._calendar_of, self._plazos, self._clock = calendar_of, plazos, clock

    def worker_state(self) -> tuple:
        """(key, payload, now): equal keys mean equal payloads; `now` is this call's moment (ISO-8601)."""
        calendar = self._calendar_of()
        closures, plazos = dict(calendar.closures), dict(self._plazos)
        key = (calendar.settings, frozenset(closures.items()), frozenset(plazos.items()))
        return key, (calendar.settings, closures, plazos), self._clock().isoformat()

    def _here(self) -> dict[str, Callable]:
        return _functions(self._calendar_of(), self._plazos, lambda: self._clock().isoformat())

    def __getitem__(self, name: str) -> Callable:
        return self._here()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)
