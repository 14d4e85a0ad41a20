"""Closure days over HTTP: admins declare them, deadlines computed afterwards skip them."""
from __future__ import annotations

from datetime import date


def test_admin_declares_and_reopens_a_closure_day_that_moves_new_deadlines(as_user, seeded):
    admin = as_user("admin")
    before = seeded.calendar.add_working_days(date(2026, 3, 2), 1)
    assert before == date(2026, 3, 3)
    created = admin.post("/api/closures", json={"day": "2026-03-03", "description": "Emergencia por lluvias"})
    assert created.status_code == 201 and created.json["created_by"] == "admin"
    assert seeded.calendar.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 4)
    listed = admin.get("/api/closures?year=2026").json
    assert [(c["day"], c["description"]) for c in listed] == [("2026-03-03", "Emergencia por lluvias")]
    again = admin.post("/api/closures", json={"day": "2026-03-03", "description": "otra vez"})
    assert again.status_code == 409
    assert admin.open("DELETE", "/api/closures/2026-03-03").status_code == 204
    assert seeded.calendar.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    assert admin.open("DELETE", "/api/closures/2026-03-03").status_code == 404


def test_bad_closure_input_names_the_field_and_changes_nothing(as_user):
    admin = as_user("admin")
    missing = admin.post("/api/closures", json={"day": "2026-03-03"})
    assert missing.status_code == 422
    assert any(e["field"] == "description" for e in missing.json["errors"])
    impossible = admin.post("/api/closures", json={"day": "2026-02-30", "description": "x"})
    assert impossible.status_code == 422
    assert admin.open("DELETE", "/api/closures/2026-02-30").status_code == 404
    assert admin.get("/api/closures").json == []
