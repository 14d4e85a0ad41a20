"""What the reports (engine/usecases/reports.py) share: the period and filters they are asked for, checked; the
office-time month and day number of a UTC column in each database's SQL; and durations summed up as median and p90.

Durations are given two ways:
- hours: the elapsed clock time from start to end (every hour counts, nights and weekends too);
- working days: the office's working days d with start day < d <= end day (engine.timekeeping.calendar
  working_days_between, office-local dates): a task done the day it arrived took 0, one done the next working day 1.
Percentiles interpolate between the two nearest values (PostgreSQL's percentile_cont): the median of 1, 2, 3, 10 is
2.5, its p90 7.9. PostgreSQL computes both kinds in SQL (working days by arithmetic on day numbers, less the closed
days among them); SQLite has no percentile function, so the rows' days and seconds come back in one pass and the
percentiles are taken here.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, Float, Integer, bindparam, cast, func, literal_column, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY

from engine.errors import InvalidInput
from engine.messages import msg
from engine.storage import models
from engine.timekeeping.calendar import GT_UTC_OFFSET_HOURS, OFFICE_TIMEZONE_NAME, office_midnight

MAX_MONTHS = 120  # the longest period a report covers: ten years
MAX_TEXT = 100
DEFAULT_MONTHS = 12
INDEXED_DAYS = 62  # SQLite: a longer period reads the table rather than its date index (in_period)
WORK_MEM = "64MB"  # PostgreSQL: memory for the sorts of one report's transaction (SET LOCAL)
_c, _a = models.cases, models.case_access
_SQLITE_SHIFT = f"{GT_UTC_OFFSET_HOURS:+d} hours"  # Guatemala keeps UTC-6 all year (no daylight saving)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OFFSET_SECONDS = GT_UTC_OFFSET_HOURS * 3600
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class ReportQuery:
    """A report's period (office-local dates, both included) and filters (None: all)."""

    start: date
    end: date
    process_key: str | None = None
    municipality: str | None = None
    group: str | None = None

    @property
    def lo(self):
        """The period's first moment (UTC columns are compared with it)."""
        return office_midnight(self.start)

    @property
    def hi(self):
        """The first moment after the period."""
        return office_midnight(self.end + timedelta(days=1))

    def months(self) -> list[str]:
        """Every month the period touches, 'YYYY-MM', in order."""
        out, (y, m) = [], (self.start.year, self.start.month)
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def as_dict(self) -> dict:
        return {"from": self.start, "to": self.end, "process_key": self.process_key,
                "municipality": self.municipality, "group": self.group}


def _bad(field: str, message) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _date(value, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise _bad(field, msg("escriba una fecha válida (aaaa-mm-dd)"))


def _text(value, field: str) -> str | None:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if len(text) > MAX_TEXT:
        raise _bad(field, msg("el texto es demasiado largo"))
    return text or None


def default_start(end: date) -> date:
    """The first day of the month DEFAULT_MONTHS - 1 months before `end`'s: a year of whole months to date."""
    y, m = end.year, end.month - (DEFAULT_MONTHS - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def read_query(conn, today: date, *, start=None, end=None, process_key=None, municipality=None,
               group=None) -> ReportQuery:
    """The period and filters as asked, checked: dates as aaaa-mm-dd (by default the last twelve months to today),
    from no later than to, at most MAX_MONTHS months, a procedure and a group that exist. InvalidInput names the
    field (from, to, process_key, municipality, group)."""
    end_day = _date(end, "to") or today
    start_day = _date(start, "from") or default_start(end_day)
    if start_day > end_day:
        raise _bad("to", msg("la fecha final es anterior a la inicial"))
    if (end_day.year - start_day.year) * 12 + end_day.month - start_day.month >= MAX_MONTHS:
        raise _bad("to", msg("el periodo puede abarcar a lo sumo %(months)s meses", months=MAX_MONTHS))
    key, town, team = _text(process_key, "process_key"), _text(municipality, "municipality"), _text(group, "group")
    pv, g = models.process_versions, models.groups
    if key and conn.execute(select(pv.c.id).where(pv.c.process_key == key).limit(1)).first() is None:
        raise _bad("process_key", msg("no hay un trámite «%(key)s»", key=key))
    if team and conn.execute(select(g.c.id).where(g.c.name == team)).first() is None:
        raise _bad("group", msg("no hay un grupo «%(group)s»", group=team))
    return ReportQuery(start_day, end_day, key, town, team)


def case_conditions(q: ReportQuery, *, by_group: bool = True) -> list:
    """Conditions on `cases` for the filters; the group as the cases with a task for it (case_access)."""
    out = []
    if q.process_key:
        out.append(_c.c.process_key == q.process_key)
    if q.municipality:
        out.append(_c.c.municipality == q.municipality)
    if q.group and by_group:
        out.append(_c.c.id.in_(select(_a.c.case_id).where(_a.c.who == f"g:{q.group}")))
    return out


def _local(column):
    # Columns hold UTC without a zone (engine.storage.models.UtcDateTime): read them as UTC, then as office time.
    return func.timezone(OFFICE_TIMEZONE_NAME, func.timezone("UTC", column))


def in_period(conn, q: ReportQuery, column) -> list:
    """column within the period. On SQLite, over more than INDEXED_DAYS days, through coalesce(column, column), which
    SQLite cannot match to an index: it then reads the table in order, three to four times faster than fetching a
    large share of its rows one by one through the index (PostgreSQL's planner makes that choice itself)."""
    if conn.dialect.name == "sqlite" and (q.end - q.start).days > INDEXED_DAYS:
        column = type_coerce(func.coalesce(column, column), column.type)
    return [column >= q.lo, column < q.hi]


def month_of(conn, column):
    """The office-local month ('YYYY-MM') of a UTC column, in SQL."""
    if conn.dialect.name == "postgresql":
        return func.to_char(_local(column), "YYYY-MM")
    return func.strftime("%Y-%m", column, _SQLITE_SHIFT)


def seconds_between(conn, start, end):
    """end - start in seconds, in SQL."""
    if conn.dialect.name == "postgresql":  # date_part: a float, far cheaper to sort than extract's numeric
        return type_coerce(func.date_part("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def percentile(ordered: list, p: float) -> float | None:
    """The p-th percentile of sorted values, interpolated (percentile_cont); None for no values."""
    if not ordered:
        return None
    k = (len(ordered) - 1) * p
    lo = math.floor(k)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo))


def day_number(conn, column):
    """The office-local day of a UTC column as whole days since 1 January 1970, in SQL (integer arithmetic: much
    cheaper than formatting a date per row)."""
    if conn.dialect.name == "postgresql":  # date - date is a whole number of days
        shifted = column + literal_column(f"interval '{_OFFSET_SECONDS} seconds'")
        return type_coerce(cast(shifted, Date) - literal_column("date '1970-01-01'"), Integer)
    return cast(func.julianday(column) - 2440587.5 + _OFFSET_SECONDS / 86400, Integer)


def _weekdays_through(n):
    """Weekdays from an arbitrary Monday through day number n (1970-01-01, day 0, was a Thursday), in SQL."""
    m = n + 3
    return 5 * (m // 7) + func.least(m % 7 + 1, 5)


def closed_day_numbers(calendar, years: range) -> list[int]:
    """The office's closed weekdays (holidays and closure days) of those years as day numbers, sorted, after a
    sentinel far in the past (so the list is never empty)."""
    closed = set(calendar.closures)
    for year in years:
        closed |= set(calendar.holidays_for_year(year))
    return [-1_000_000] + sorted((d - _EPOCH).days for d in closed if d.weekday() < 5 and d.year in years)


def duration_stats(conn, calendar, keys: list, source, start, end, where: list, *, years: range,
                   title=None) -> dict[tuple, dict]:
    """For each group of `keys` over the rows of `source` (a table or join) matching `where`: how many, and the
    median and p90 of end - start in hours and in working days (and the greatest `title`, if given). The closed days
    of `years` are subtracted (a duration reaching further back counts the weekdays there as working)."""
    seconds = seconds_between(conn, start, end)
    named = [func.max(title).label("title")] if title is not None else []
    stats: dict[tuple, dict] = {}
    a_n, b_n = day_number(conn, start), day_number(conn, end)
    if conn.dialect.name == "postgresql":
        # Working days in SQL: weekdays after the start day through the end day, less the closed weekdays among
        # them (width_bucket: how many of the sorted closed days are <= a day).
        closed = cast(bindparam("closed_days", closed_day_numbers(calendar, years), type_=ARRAY(Integer)),
                      ARRAY(Integer))
        days = func.greatest(0, _weekdays_through(b_n) - _weekdays_through(a_n)
                             - (func.width_bucket(b_n, closed) - func.width_bucket(a_n, closed)))
        shares = cast(bindparam("shares", [0.5, 0.9], type_=ARRAY(Float)), ARRAY(Float))

        def both(values):  # median and p90 from one sort of the group's values
            return func.percentile_cont(shares).within_group(values)

        conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")  # the groups' sorts stay in memory
        # Grouped by bytes (COLLATE "C"): the rows are sorted by their group first, and a locale's rules cost more.
        plain = [k.collate("C") for k in keys]
        rows = conn.execute(select(*plain, func.count().label("n"), type_coerce(both(seconds), ARRAY(Float)).label("h"),
                                   type_coerce(both(days), ARRAY(Float)).label("d"), *named)
                            .select_from(source).where(*where).group_by(*plain)).all()
        for r in rows:
            stats[tuple(r[:len(keys)])] = {
                "count": r.n, "hours_median": _hours(r.h[0]), "hours_p90": _hours(r.h[1]),
                "days_median": _round(r.d[0]), "days_p90": _round(r.d[1]),
                **({"title": r.title} if title is not None else {})}
        return stats
    # SQLite has no percentile function: one pass over the rows (their keys, start and end days, seconds), the
    # working days counted from a running count of the calendar's working days, the percentiles taken here.
    hours: dict[tuple, list] = {}
    days_of: dict[tuple, list] = {}
    titles: dict[tuple, str] = {}
    width = len(keys)
    rows = conn.execute(select(*keys, a_n, b_n, cast(seconds, Float)).select_from(source).where(*where)).all()
    counter = _WorkingDays(calendar, [r[width] for r in rows] + [r[width + 1] for r in rows])
    for r in rows:
        key = tuple(r[:width])
        hours.setdefault(key, []).append(max(0.0, r[width + 2]))
        days_of.setdefault(key, []).append(counter(r[width], r[width + 1]))
    if title is not None:  # the names in SQL: text per row costs more to fetch than to group
        titles = {tuple(r[:width]): r[width] for r in conn.execute(
            select(*keys, func.max(title)).select_from(source).where(*where).group_by(*keys))}
    for key, values in hours.items():
        values.sort()
        days = sorted(days_of[key])
        stats[key] = {"count": len(values), "hours_median": _hours(percentile(values, 0.5)),
                      "hours_p90": _hours(percentile(values, 0.9)), "days_median": _round(percentile(days, 0.5)),
                      "days_p90": _round(percentile(days, 0.9)),
                      **({"title": titles.get(key) or None} if title is not None else {})}
    return stats


def _hours(seconds) -> float | None:
    return None if seconds is None else _round(max(0.0, float(seconds)) / 3600)


def _round(value) -> float | None:
    return None if value is None else round(float(value), 2)


class _WorkingDays:
    """Working days after day number a through day number b (working_days_between), from a running count of the
    office's working days over the days given (one calendar look per day, then a subtraction per pair)."""

    def __init__(self, calendar, day_numbers: list[int]):
        self.first = min(day_numbers, default=0)
        self.counts, running = [], 0
        for n in range(self.first, max(day_numbers, default=0) + 1):
            running += calendar.is_working_day(_EPOCH + timedelta(days=n))
            self.counts.append(running)

    def __call__(self, a: int, b: int) -> int:
        return max(0, self.counts[b - self.first] - self.counts[a - self.first])
