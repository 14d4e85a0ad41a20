"""Working-day calendar of the Gobernación Departamental de Chimaltenango (pure: no Flask, no database)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

OFFICE_TIMEZONE_NAME = "America/Guatemala"
OFFICE_TZ = ZoneInfo(OFFICE_TIMEZONE_NAME)  # UTC-6, no daylight saving


def office_midnight(day: date) -> datetime:
    """The first moment of `day` in the office's time zone (a date filter's bound on UTC columns)."""
    return datetime.combine(day, time(0), tzinfo=OFFICE_TZ)
# How the office names months and weekdays in mail and documents.
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
             "octubre", "noviembre", "diciembre")
WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
GT_UTC_OFFSET_HOURS = -6  # no daylight saving time since 2006
LAIP_ANSWER_WORKING_DAYS = 10  # Decreto 57-2008 art. 42
LAIP_EXTENSION_WORKING_DAYS = 10  # art. 43
APPEAL_WORKING_DAYS = 5  # Decreto 119-96 arts. 7 and 9
PETITION_DAYS = 30  # Constitution art. 28, Decreto 119-96 art. 1
DEFAULT_CLOSURE_DESCRIPTION = "Cierre de oficina"
# Longest span a script helper counts (about a century). Helpers run with the script time limit's tracer
# off, so one call must stay short whatever a script asks: 36,525 working days take ~0.1 s.
SCRIPT_MAX_DAYS = 36_525

# (month, day) of national holidays the package lists that do not apply here: 15 August is the
# Virgin of the Assumption, a holiday only in the department (and city) of Guatemala.
EXCLUDED_NATIONAL_HOLIDAYS: tuple[tuple[int, int], ...] = ((8, 15),)
# Local fair day (Código de Trabajo art. 127: "el día de la festividad de la localidad").
CHIMALTENANGO_LOCAL_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (7, 26, "Feria titular de Chimaltenango (Santa Ana)"),
)
# Half days from noon (art. 127): still working mornings, so they count as working days.
HALF_DAYS: tuple[tuple[int, int], ...] = ((12, 24), (12, 31))


@dataclass(frozen=True)
class CalendarSettings:
    """Office hours, filing cut-off and timezone; all overridable from configuration."""

    opening_time: time = time(8, 0)
    closing_time: time = time(16, 30)
    filing_cutoff_time: time = time(16, 30)  # a filing after it counts on the next working day
    half_day_closing_time: time = time(12, 0)
    timezone_name: str = OFFICE_TIMEZONE_NAME
    local_holidays: tuple[tuple[int, int, str], ...] = CHIMALTENANGO_LOCAL_HOLIDAYS
    excluded_national_holidays: tuple[tuple[int, int], ...] = EXCLUDED_NATIONAL_HOLIDAYS
    half_days: tuple[tuple[int, int], ...] = HALF_DAYS


@lru_cache(maxsize=256)
def _national_holidays(year: int) -> tuple[tuple[date, str], ...]:
    """Guatemala's national holidays for one year as computed by the `holidays` package, in Spanish."""
    # The package already moves Army Day (30 June) to a Monday per Decreto 19-2018 and includes
    # Holy Thursday, Good Friday and Holy Saturday; it is only corrected, never re-derived, here.
    gt = holidays.country_holidays("GT", years=year, language="es")
    return tuple(sorted(gt.items()))


def _closure_items(closures: Iterable[date | tuple[date, str]] | Mapping[date, str]):
    """Yield (date, description) pairs from dates, (date, description) tuples or a mapping."""
    items = closures.items() if isinstance(closures, Mapping) else closures
    for item in items:
        day, description = (item, DEFAULT_CLOSURE_DESCRIPTION) if isinstance(item, date) else item
        if isinstance(day, datetime):  # a datetime's date depends on its timezone: make the caller choose
            raise TypeError(f"closure days must be dates, not datetimes: {day!r}")
        yield day, description or DEFAULT_CLOSURE_DESCRIPTION


class WorkingCalendar:
    """Working days and deadlines: weekends, corrected national holidays, local fair and closure days."""

    def __init__(
        self,
        settings: CalendarSettings | None = None,
        closure_days: Iterable[date | tuple[date, str]] | Mapping[date, str] = (),
    ):
        self.settings = settings or CalendarSettings()
        self.tz = ZoneInfo(self.settings.timezone_name)
        self.closures: dict[date, str] = dict(_closure_items(closure_days))
        self._by_year: dict[int, dict[date, str]] = {}

    def with_closures(self, closure_days: Iterable[date | tuple[date, str]] | Mapping[date, str]) -> WorkingCalendar:
        """Return a new calendar with extra closure days added to this one's."""
        merged = {**self.closures, **dict(_closure_items(closure_days))}
        return WorkingCalendar(self.settings, merged)

    # -- days -------------------------------------------------------------------------------------
    def holidays_for_year(self, year: int) -> dict[date, str]:
        """Full-day holidays of a year (corrected national list plus local days), without closures."""
        cached = self._by_year.get(year)
        if cached is None:
            excluded = set(self.settings.excluded_national_holidays)
            cached = {d: name for d, name in _national_holidays(year) if (d.month, d.day) not in excluded}
            for month, day, name in self.settings.local_holidays:
                cached.setdefault(date(year, month, day), name)
            self._by_year[year] = cached
        return cached

    def holiday_name(self, d: date) -> str | None:
        """Name of the holiday or closure that shuts the office all day on d, else None."""
        d = _as_date(d)
        return self.holidays_for_year(d.year).get(d) or self.closures.get(d)

    def is_working_day(self, d: date) -> bool:
        """True on Monday-Friday that is neither a holiday nor a closure day (half days are working days)."""
        d = _as_date(d)
        return d.weekday() < 5 and d not in self.closures and d not in self.holidays_for_year(d.year)

    def is_half_day(self, d: date) -> bool:
        """True when d is a working day on which the office closes at noon (24 and 31 December)."""
        d = _as_date(d)
        return (d.month, d.day) in self.settings.half_days and self.is_working_day(d)

    def closing_time(self, d: date) -> time:
        """Office closing time on d: noon on half days, else the normal closing time."""
        return self.settings.half_day_closing_time if self.is_half_day(d) else self.settings.closing_time

    def cutoff_time(self, d: date) -> time:
        """Latest filing time that still counts on d (never later than that day's closing time)."""
        return min(self.settings.filing_cutoff_time, self.closing_time(d))

    def next_working_day(self, d: date) -> date:
        """First working day strictly after d."""
        d = _as_date(d) + timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, d: date) -> date:
        """Last working day strictly before d."""
        d = _as_date(d) - timedelta(days=1)
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    # -- moments ----------------------------------------------------------------------------------
    def to_local(self, moment: datetime) -> datetime:
        """Aware datetime in office time; a naive datetime is taken as already office-local."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def effective_filing_date(self, moment: datetime) -> date:
        """Day a filing counts as made: the next working day if filed on a closed day or after the cut-off."""
        local = self.to_local(moment)
        d = local.date()
        # Only the end of the day matters: an online filing at 06:00 on a working day counts that day.
        if self.is_working_day(d) and local.time() <= self.cutoff_time(d):
            return d
        return self.next_working_day(d)

    def local_date(self, value: date | datetime) -> date:
        """The date itself, or the office-local date of a datetime."""
        return self.to_local(value).date() if isinstance(value, datetime) else value

    # -- counting ---------------------------------------------------------------------------------
    def add_working_days(self, start: date | datetime, n: int) -> date:
        """The n-th working day after start (LOJ art. 45: counting begins the day after); n<0 counts back."""
        d = self.local_date(start)
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def add_days(self, start: date | datetime, n: int, *, working: bool = True, roll_forward: bool = True) -> date:
        """Add n working days, or n calendar days (moved to the next working day if it lands on a closed day)."""
        if working:
            return self.add_working_days(start, n)
        d = self.local_date(start) + timedelta(days=n)
        # The office cannot receive or notify on a closed day, so a calendar-day term ending on one
        # runs to the next working day unless the caller explicitly asks for the raw date.
        if roll_forward and not self.is_working_day(d):
            d = self.next_working_day(d)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b (so add_working_days(a, n) == b gives n); negative if b < a."""
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = _weekdays_through(b) - _weekdays_through(a)
        for year in range(a.year, b.year + 1):
            closed = set(self.holidays_for_year(year)) | {d for d in self.closures if d.year == year}
            count -= sum(1 for d in closed if a < d <= b and d.weekday() < 5)
        return count

    def at_closing(self, d: date) -> datetime:
        """Aware datetime of the office closing time on d, in office time."""
        return datetime.combine(d, self.closing_time(d), tzinfo=self.tz)

    def deadline(self, start: date | datetime, n: int, *, apply_cutoff: bool = False) -> datetime:
        """Closing time (office tz) of the n-th working day after start; apply_cutoff first applies the filing rule."""
        if apply_cutoff and isinstance(start, datetime):
            base = self.effective_filing_date(start)
        elif apply_cutoff:
            base = start if self.is_working_day(start) else self.next_working_day(start)
        else:
            base = self.local_date(start)
        return self.at_closing(self.add_working_days(base, n))


def _as_date(d: date | datetime) -> date:
    # datetime is a subclass of date; its own date() avoids comparing a datetime with date keys.
    return d.date() if isinstance(d, datetime) else d


def _weekdays_through(d: date) -> int:
    """Number of Monday-Friday days from 0001-01-01 (a Monday) through d."""
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _parse_moment(value: str | date | datetime) -> date | datetime:
    """Accept a date, a datetime or an ISO-8601 date/datetime string (a 'Z' suffix is UTC)."""
    if isinstance(value, (date, datetime)):
        return value
    text = str(value).strip()
    if len(text) == 10:  # YYYY-MM-DD
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _script_days(n) -> int:
    days = int(n)
    if abs(days) > SCRIPT_MAX_DAYS:
        raise ValueError(f"{days:,} days is beyond the {SCRIPT_MAX_DAYS:,} a script may count")
    return days


def script_helpers(calendar: WorkingCalendar) -> dict[str, Callable]:
    """Functions exposed to BPMN scripts and timer expressions; they take and return plain values."""

    def add_working_days(start, n):
        """ISO UTC datetime of the office closing time on the n-th working day after start (for timeDate)."""
        due = calendar.add_working_days(_parse_moment(start), _script_days(n))
        return calendar.at_closing(due).astimezone(timezone.utc).isoformat()

    def add_calendar_days(start, n):
        """ISO UTC datetime of closing time n calendar days after start, moved to a working day if closed."""
        due = calendar.add_days(_parse_moment(start), _script_days(n), working=False)
        return calendar.at_closing(due).astimezone(timezone.utc).isoformat()

    def working_deadline(start, n, apply_cutoff=False):
        """ISO office-local datetime of the deadline n working days after start (optionally after the cut-off)."""
        due = calendar.deadline(_parse_moment(start), _script_days(n), apply_cutoff=bool(apply_cutoff))
        return due.isoformat()

    def is_working_day(value):
        """True if the date (or the office-local date of the datetime) is a working day."""
        return calendar.is_working_day(calendar.local_date(_parse_moment(value)))

    def next_working_day(value):
        """ISO date of the first working day after the given date."""
        return calendar.next_working_day(calendar.local_date(_parse_moment(value))).isoformat()

    def effective_filing_date(value):
        """ISO date a filing made at that moment counts as filed (16:30 cut-off, closed days)."""
        moment = _parse_moment(value)
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, time(0, 0))
        return calendar.effective_filing_date(moment).isoformat()

    def working_days_between(a, b):
        """Number of working days after a up to and including b."""
        start, end = (calendar.local_date(_parse_moment(v)) for v in (a, b))
        _script_days((end - start).days)
        return calendar.working_days_between(start, end)

    return {
        f.__name__: f
        for f in (add_working_days, add_calendar_days, working_deadline, is_working_day,
                  next_working_day, effective_filing_date, working_days_between)
    }
