"""GET /api/reports/heatmap, /laip and /monthly: the heat map's figures of cases walked at known moments (the
exclusive gateway's branches, the time spent), the LAIP and monthly reports' shape; bad input answers 400 naming the
field (400 or the schema's 422); a clerk is refused."""
from __future__ import annotations

import pytest

from engine.accounts.users import add_user
from tests.api.conftest import Client, make_app, token_for
from tests.integration.test_heatmap_report import HOUR, walked  # noqa: F401 (walked: a fixture)


@pytest.fixture
def api(walked, svc, tmp_path):  # noqa: F811
    add_user(svc, "auditor1", "auditor", "contraseña-segura-1")
    add_user(svc, "ventanilla1", "clerk", "contraseña-segura-1")
    app = make_app(svc, tmp_path)
    return lambda username: Client(app, token_for(svc, username))


def test_the_heat_map_as_json(api):
    answer = api("auditor1").get("/api/reports/heatmap?process_key=ruta&from=2026-03-01&to=2026-03-31")
    assert answer.status_code == 200
    found = {e["element_id"]: e for e in answer.json["elements"]}
    assert (found["registrar"]["cases"], found["registrar"]["median_seconds"]) == (3, 4 * HOUR)
    assert {f["flow_id"]: f["count"] for f in answer.json["flows"]}["f_no"] == 1
    assert (answer.json["from"], answer.json["to"], answer.json["version"]) == ("2026-03-01", "2026-03-31", 1)


def test_the_laip_and_monthly_reports_as_json(api):
    laip = api("auditor1").get("/api/reports/laip?year=2026")
    assert laip.status_code == 200 and len(laip.json["months"]) == 12 and laip.json["totals"]["received"] == 0
    monthly = api("auditor1").get("/api/reports/monthly?month=2026-03")
    assert monthly.status_code == 200
    [row] = [r for r in monthly.json["rows"] if r["process_key"] == "ruta"]
    assert (row["filed"], row["resolved"], row["open_at_end"], row["overdue_at_end"]) == (3, 2, 1, 1)


@pytest.mark.parametrize("path, field", [
    ("/api/reports/heatmap?process_key=ruta&from=2026-03-31&to=2026-03-01", "from"),
    ("/api/reports/heatmap?process_key=ruta&to=ayer", "to"),
    ("/api/reports/heatmap?process_key=ruta&from=9999-12-30&to=9999-12-31", "from"),
    ("/api/reports/heatmap?process_key=ruta&to=0001-01-02", "to"),
    ("/api/reports/heatmap?process_key=ruta&mode=colores", "mode"),
    ("/api/reports/heatmap", "process_key"),
    ("/api/reports/laip?year=1999", "year"),
    ("/api/reports/monthly?month=2026-13", "month"),
])
def test_bad_input_is_refused_naming_the_field(api, path, field):
    answer = api("auditor1").get(path)  # 422 when the query's schema refuses it, 400 when the use case does
    assert answer.status_code in (400, 422), answer.json
    assert [e["field"] for e in answer.json["errors"]] == [field]


def test_a_clerk_is_refused(api):
    assert api("ventanilla1").get("/api/reports/heatmap?process_key=ruta").status_code == 403
