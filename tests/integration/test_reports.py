"""The general reports (engine/usecases/reports.py) on SQLite and PostgreSQL, each figure checked against the rows of
tests/report_rows.py (known dates and outcomes; the sums are worked out beside each expectation), with filters, bad
input naming its field, and the tables' exports read back to the same numbers."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from engine.accounts.permissions import NotAuthenticated
from engine.errors import Forbidden, InvalidInput
from engine.usecases import reports, reports_tables
from engine.reports.tables import to_csv
from tests.conftest import principal_for
from tests.report_rows import NOW, PERIOD, build_report_office

AUDITOR = principal_for("auditor1", "auditor")
SUPERVISOR = principal_for("sup", "supervisor", ("ventanilla",))


@pytest.fixture
def office(svc, clock):
    clock.now = NOW
    return build_report_office(svc)


def _months(result) -> dict:
    return {r["month"]: (r["filed"], r["resolved"], r["cancelled"], r["open_at_end"]) for r in result["rows"]}


def test_cases_per_month(svc, office):
    result = reports.cases_by_month(svc, AUDITOR, **PERIOD)
    # Open on 1 January: A1 (A5 was cancelled in December). January: A2, A3 filed; A1, A2, A3 resolved -> 0 open.
    # February: A4, B1 filed; A4 resolved, B1 cancelled -> 0. March: B2 and B3 (23:30 on the 31st, office time).
    assert _months(result) == {"2026-01": (2, 3, 0, 0), "2026-02": (2, 1, 1, 0), "2026-03": (2, 0, 0, 2)}
    assert result["totals"] == {"filed": 6, "resolved": 4, "cancelled": 1, "open_at_end": 2}


def test_cases_per_month_filtered(svc, office):
    beta = reports.cases_by_month(svc, AUDITOR, process_key="beta", **PERIOD)
    assert _months(beta) == {"2026-01": (0, 0, 0, 0), "2026-02": (1, 0, 1, 0), "2026-03": (2, 0, 0, 2)}
    patzun = reports.cases_by_month(svc, AUDITOR, municipality="Patzún", **PERIOD)  # A3, A4, B2
    assert _months(patzun) == {"2026-01": (1, 1, 0, 0), "2026-02": (1, 1, 0, 0), "2026-03": (1, 0, 0, 1)}
    tramite = reports.cases_by_month(svc, AUDITOR, group="tramite", **PERIOD)  # cases with a task of the group
    assert _months(tramite) == {"2026-01": (2, 2, 0, 0), "2026-02": (0, 0, 0, 0), "2026-03": (2, 0, 0, 2)}
    february = reports.cases_by_month(svc, AUDITOR, start="2026-02-01", end="2026-02-28")
    assert _months(february) == {"2026-02": (2, 1, 1, 0)}


def test_cycle_times(svc, office):
    result = reports.cycle_times(svc, SUPERVISOR, **PERIOD)
    # alfa's cases resolved in the period: A1 600 h / 17 working days (25 Dec and 1 Jan closed), A2 54 h / 2,
    # A3 168 h / 5, A4 9 h / 0. Hours 9, 54, 168, 600: median 111, p90 168 + 0.7 * 432. Days 0, 2, 5, 17.
    assert result["procedures"] == [{"process_key": "alfa", "count": 4, "hours_median": 111.0, "hours_p90": 470.4,
                                     "days_median": 3.5, "days_p90": 13.4}]
    steps = {(s["process_key"], s["element_id"]): s for s in result["steps"]}
    assert set(steps) == {("alfa", "recibir"), ("alfa", "resolver")}  # A1's December task is outside
    # recibir: A2 24 h / 1 day, A3 2 h / 0. resolver: A2 30 h / 1, A3 166 h / 5.
    assert steps["alfa", "recibir"] == {"process_key": "alfa", "element_id": "recibir", "title": "Recibir solicitud",
                                        "count": 2, "hours_median": 13.0, "hours_p90": 21.8, "days_median": 0.5,
                                        "days_p90": 0.9}
    assert steps["alfa", "resolver"] == {"process_key": "alfa", "element_id": "resolver", "title": "Resolver",
                                         "count": 2, "hours_median": 98.0, "hours_p90": 152.4, "days_median": 3.0,
                                         "days_p90": 4.6}
    only = reports.cycle_times(svc, AUDITOR, group="ventanilla", municipality="Patzún", **PERIOD)
    assert [(s["element_id"], s["count"], s["hours_median"]) for s in only["steps"]] == [("recibir", 1, 2.0)]
    beta = reports.cycle_times(svc, AUDITOR, process_key="beta", **PERIOD)
    assert (beta["procedures"], beta["steps"]) == ([], [])


def _counts(row) -> tuple:
    return tuple(row[k] for k in reports.DEADLINE_COUNTS)


def test_deadlines_met_extended_breached(svc, office):
    result = reports.deadlines(svc, AUDITOR, **PERIOD)
    # legal: total, met, extended, breached, pending | tasks: total, met, breached, pending
    # alfa: A2 met, A3 late after an extension, A4 met after one (A1's is the citizen's) | A2 recibir met, A2
    # resolver late, A3 recibir met. beta: B2 open past due, B3 not yet due (B1 cancelled) | B2 revisar open past
    # due, B2 firmar not yet due (B3 revisar falls due in April, B1's task was cancelled).
    assert {r["process_key"]: _counts(r) for r in result["procedures"]} == {
        "alfa": (3, 2, 2, 1, 0, 3, 2, 1, 0), "beta": (2, 0, 0, 1, 1, 2, 0, 1, 1)}
    assert {(r["process_key"], r["element_id"]): _counts(r) for r in result["steps"]} == {
        ("alfa", "recibir"): (3, 2, 2, 1, 0, 2, 2, 0, 0), ("alfa", "resolver"): (0, 0, 0, 0, 0, 1, 0, 1, 0),
        ("beta", "revisar"): (2, 0, 0, 1, 1, 1, 0, 1, 0), ("beta", "firmar"): (0, 0, 0, 0, 0, 1, 0, 0, 1)}
    assert {r["process_key"] + "/" + r["element_id"]: r["title"] for r in result["steps"]}["alfa/resolver"] == \
        "Resolver"
    assert {r["group"]: _counts(r) for r in result["groups"]} == {
        "ventanilla": (3, 2, 2, 1, 0, 2, 2, 0, 0), "tramite": (2, 0, 0, 1, 1, 3, 0, 2, 1)}
    assert _counts(result["totals"]) == (5, 2, 2, 2, 1, 5, 2, 2, 1)
    tramite = reports.deadlines(svc, AUDITOR, group="tramite", process_key="alfa", **PERIOD)
    assert [_counts(r) for r in tramite["procedures"]] == [(0, 0, 0, 0, 0, 1, 0, 1, 0)]


def test_workload(svc, office):
    result = reports.workload(svc, AUDITOR, **PERIOD)
    # luis holds B2 revisar (overdue since 10 March) and B3 revisar (due in April); did A2 resolver (late) and A3
    # resolver (no deadline). ana holds nothing and did A2 and A3 recibir in time (A1's in December is outside).
    assert result["rows"] == [
        {"username": "luis", "name": "Luis Cano", "open": 2, "overdue": 1, "completed": 2, "completed_late": 1},
        {"username": "ana", "name": "Ana Pérez", "open": 0, "overdue": 0, "completed": 2, "completed_late": 0}]
    assert result["totals"] == {"open": 2, "overdue": 1, "completed": 4, "completed_late": 1}
    ventanilla = reports.workload(svc, AUDITOR, group="ventanilla", **PERIOD)
    assert [(r["username"], r["open"], r["completed"]) for r in ventanilla["rows"]] == [("ana", 0, 2)]
    beta = reports.workload(svc, AUDITOR, process_key="beta", start="2026-03-01", end="2026-03-31")
    assert [(r["username"], r["open"], r["overdue"], r["completed"]) for r in beta["rows"]] == [("luis", 2, 1, 0)]


@pytest.mark.parametrize("filters, field", [
    ({"start": "2026-03-01", "end": "2026-02-01"}, "to"),
    ({"start": "2026-02-30"}, "from"),
    ({"start": "01/02/2026"}, "from"),
    ({"end": "mañana"}, "to"),
    ({"start": "2000-01-01", "end": "2026-01-01"}, "to"),
    ({"process_key": "nada"}, "process_key"),
    ({"group": "nadie"}, "group"),
    ({"municipality": "x" * 101}, "municipality"),
])
def test_bad_input_names_the_field(svc, office, filters, field):
    for report in reports.USE_CASES.values():
        with pytest.raises(InvalidInput) as raised:
            report(svc, AUDITOR, **filters)
        assert [e["field"] for e in raised.value.errors] == [field]


def test_default_period_is_the_last_twelve_months(svc, office):
    query = reports.cases_by_month(svc, AUDITOR)["query"]
    assert (query.start, query.end) == (date(2025, 4, 1), date(2026, 3, 20))


def test_who_may_read_them(svc, office):
    for report in reports.USE_CASES.values():
        with pytest.raises(Forbidden):
            report(svc, principal_for("ana", "clerk", ("ventanilla",)), **PERIOD)
        with pytest.raises(NotAuthenticated):
            report(svc, None, **PERIOD)
        report(svc, principal_for("admin", "admin"), **PERIOD)


def test_tables_export_the_same_numbers(svc, office):
    """The tables the page shows and downloads carry the report's figures; the CSV reads back to them."""
    for name in reports.REPORTS:
        result = reports.USE_CASES[name](svc, AUDITOR, **PERIOD)
        for table in reports_tables.tables(name, result):
            rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"), newline="")))
            assert rows[0] == [c.label for c in table.columns]
            assert len(rows) == len(table.rows) + 1
            for line, row in zip(rows[1:], table.rows):
                for cell, column in zip(line, table.columns):
                    value = row.get(column.key)
                    if column.kind == "int":
                        assert int(cell) == value
                    elif column.kind == "decimal":
                        assert (cell == "" and value is None) or abs(float(cell) - value) < 0.051
    months = reports_tables.tables("casos", reports.cases_by_month(svc, AUDITOR, **PERIOD))[0]
    assert [r["filed"] for r in months.rows] == [2, 2, 2, 6]  # the months and the totals' line


def test_a_short_period_reads_the_same_through_the_date_indexes(svc, office):
    """A period of a month (SQLite matches it through the date indexes, a longer one by reading the tables)."""
    january = {"start": "2026-01-01", "end": "2026-01-31"}
    deadlines = reports.deadlines(svc, AUDITOR, **january)
    # A2's deadline met, A3's late after an extension | A2 recibir and A3 recibir in time, A2 resolver late.
    assert {r["process_key"]: _counts(r) for r in deadlines["procedures"]} == {"alfa": (2, 1, 1, 1, 0, 3, 2, 1, 0)}
    load = reports.workload(svc, AUDITOR, **january)
    assert [(r["username"], r["completed"], r["completed_late"]) for r in load["rows"]] == [("luis", 2, 1),
                                                                                          ("ana", 2, 0)]
    times = reports.cycle_times(svc, AUDITOR, **january)
    assert [(r["process_key"], r["count"], r["days_median"]) for r in times["procedures"]] == [("alfa", 3, 5.0)]
