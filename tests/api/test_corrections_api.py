"""POST /api/documents/<id>/corrections and GET /api/documents/<id>/correction-form (who may call them:
test_authorization_matrix.py; what a correction issues: tests/integration/test_corrections.py)."""
from __future__ import annotations

from tests.api import probes


def test_a_supervisor_reads_the_form_corrects_once_and_is_told_which_document_corrects_it(as_user, seeded):
    original = probes.issued_document(seeded)
    supervisor = as_user("supervisor1")
    form = supervisor.get(f"/api/documents/{original}/correction-form").get_json()
    assert form["document"]["id"] == original and form["document"]["kind"] == "licencia"
    assert form["corrected_by"] is None
    assert {"name": "certificado_vigencia_hasta", "label": "Vigente hasta", "list": False, "required": True,
            "value": "2030-01-12", "schema": {"title": "Vigente hasta", "type": "string", "format": "date"}} in \
        form["fields"]

    refused = supervisor.post(f"/api/documents/{original}/corrections",
                              json={"changes": {"certificado_vigencia_hasta": "2030-01-13"}})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["reason"]
    unknown = supervisor.post(f"/api/documents/{original}/corrections",
                              json={"changes": {"nada": "x"}, "reason": "Fecha equivocada"})
    assert unknown.status_code == 422 and [e["field"] for e in unknown.get_json()["errors"]] == ["nada"]

    made = supervisor.post(f"/api/documents/{original}/corrections", headers={"Idempotency-Key": "corr-1"},
                           json={"changes": {"certificado_vigencia_hasta": "2030-01-13"}, "reason": "Fecha"})
    assert made.status_code == 201
    body = made.get_json()
    assert (body["kind"], body["corrects_id"], body["correction_reason"], body["task_id"]) == (
        "licencia", original, "Fecha", None)
    replay = supervisor.post(f"/api/documents/{original}/corrections", headers={"Idempotency-Key": "corr-1"},
                             json={"changes": {"certificado_vigencia_hasta": "2030-01-13"}, "reason": "Fecha"})
    assert replay.status_code == 201 and replay.get_json()["id"] == body["id"]
    assert replay.headers.get("Idempotent-Replayed") == "true"

    again = supervisor.post(f"/api/documents/{original}/corrections", json={"reason": "Otra vez"})
    assert again.status_code == 409 and again.get_json()["corrected_by"] == body["number"]
    form = supervisor.get(f"/api/documents/{original}/correction-form").get_json()
    assert form["corrected_by"] == {"id": body["id"], "number": body["number"]}
