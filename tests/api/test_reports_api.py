"""GET /api/reports/<report>: the general reports as JSON, the figures of tests/report_rows.py; bad dates and filters
answer 400 naming the field; a clerk is refused."""
from __future__ import annotations

import pytest

from tests.api.conftest import Client, make_app, token_for
from tests.report_rows import NOW, build_report_office

Q = "?from=2026-01-01&to=2026-03-31"


@pytest.fixture
def api(sqlite_svc, clock, tmp_path):
    clock.now = NOW
    build_report_office(sqlite_svc)
    from engine.accounts.users import add_user
    add_user(sqlite_svc, "auditor1", "auditor", "contraseña-segura-1")
    app = make_app(sqlite_svc, tmp_path)
    return lambda username: Client(app, token_for(sqlite_svc, username))


def test_the_four_reports_as_json(api):
    auditor = api("auditor1")
    cases = auditor.get("/api/reports/cases" + Q)
    assert cases.status_code == 200, cases.json
    assert cases.json["query"] == {"from": "2026-01-01", "to": "2026-03-31", "process_key": None,
                                   "municipality": None, "group": None}
    assert [(r["month"], r["filed"], r["resolved"], r["open_at_end"]) for r in cases.json["rows"]] == [
        ("2026-01", 2, 3, 0), ("2026-02", 2, 1, 0), ("2026-03", 2, 0, 2)]
    times = auditor.get("/api/reports/cycle-times" + Q + "&process_key=alfa").json
    assert times["procedures"] == [{"process_key": "alfa", "count": 4, "hours_median": 111.0, "hours_p90": 470.4,
                                    "days_median": 3.5, "days_p90": 13.4}]
    deadlines = auditor.get("/api/reports/deadlines" + Q + "&group=tramite").json
    assert deadlines["totals"]["legal_breached"] == 1 and deadlines["totals"]["task_breached"] == 2
    load = auditor.get("/api/reports/workload" + Q + "&municipality=Patz%C3%BAn").json
    assert [(r["username"], r["open"], r["completed"]) for r in load["rows"]] == [("luis", 1, 1), ("ana", 0, 1)]


@pytest.mark.parametrize("query, field", [
    ("?from=2026-03-01&to=2026-02-01", "to"),
    ("?from=2026-13-01", "from"),
    ("?to=ayer", "to"),
    ("?process_key=nada", "process_key"),
    ("?group=nadie", "group"),
])
def test_bad_input_is_400_naming_the_field(api, query, field):
    answer = api("auditor1").get("/api/reports/deadlines" + query)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json["errors"]] == [field]


def test_a_clerk_is_refused(api):
    assert api("ana").get("/api/reports/cases").status_code == 403
