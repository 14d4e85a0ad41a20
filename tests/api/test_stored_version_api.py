"""A case stored in a format this build cannot read is a 409 naming the versions, not a 500."""
from __future__ import annotations

import json

from sqlalchemy import select, update

from engine.storage import models
from tests.api.test_errors_api import assert_problem


def test_reading_a_case_stored_in_an_unknown_format_is_a_409_naming_the_versions(as_user, seeded):
    clerk = as_user("oficial1")
    started = clerk.post("/api/cases", json={"process_key": "five_step", "data": {"amount": 10}})
    assert started.status_code == 201
    case_id = started.get_json()["id"]
    assert clerk.get(f"/api/cases/{case_id}/data").status_code == 200

    with seeded.uow() as uow:
        cases = models.cases
        text = uow.conn.execute(select(cases.c.workflow_json).where(cases.c.id == case_id)).scalar_one()
        older = json.dumps({**json.loads(text), "serializer_version": "spiff-0.9+exp0"})
        uow.conn.execute(update(cases).where(cases.c.id == case_id).values(workflow_json=older))
        uow.commit()

    body = assert_problem(clerk.get(f"/api/cases/{case_id}/data"), 409)
    assert body["code"] == "serializer_version_unsupported"
    assert body["stored_version"] == "spiff-0.9+exp0" and "spiff-0.9+exp0" in body["detail"]
    assert body["supported_versions"] == [json.loads(text)["serializer_version"]]
