"""Attachments: accepted by content, limited in size, stored under generated names, shown in history."""
from __future__ import annotations

import io

from sqlalchemy import select

from engine.storage import models
from tests.api import probes
from tests.api.conftest import Client, make_app, token_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def upload(client, case_id, content: bytes, name: str):
    return client.post(f"/api/cases/{case_id}/attachments", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_pdf_is_stored_under_a_generated_name_and_shows_in_the_history(as_user, seeded, app):
    case_id = probes.new_case(seeded)
    clerk = as_user("oficial1")
    response = upload(clerk, case_id, probes.PDF_BYTES, "../../etc/Acta de nacimiento.pdf")
    assert response.status_code == 201
    body = response.get_json()
    assert (body["filename"], body["content_type"], body["size_bytes"]) == \
        ("Acta de nacimiento.pdf", "application/pdf", len(probes.PDF_BYTES))
    store = app.extensions["expediente.attachments"]
    stored = [p for p in store.directory.rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].name.endswith(".pdf") and "Acta" not in stored[0].name
    assert stored[0].resolve().is_relative_to(store.directory.resolve())
    [event] = [e for e in clerk.get(f"/api/cases/{case_id}/history").get_json() if e["kind"] == "attachment_added"]
    assert event["data"]["filename"] == "Acta de nacimiento.pdf" and event["actor"] == "oficial1"
    assert [a["id"] for a in clerk.get(f"/api/cases/{case_id}/attachments").get_json()] == [body["id"]]


def test_download_returns_the_bytes_under_the_original_name(as_user, seeded):
    case_id = probes.new_case(seeded)
    clerk = as_user("oficial1")
    attachment = upload(clerk, case_id, PNG, "sello municipal.png").get_json()
    response = clerk.get(f"/api/attachments/{attachment['id']}/content")
    assert response.status_code == 200 and response.data == PNG
    assert response.content_type == "image/png" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sello municipal.png" in response.headers["Content-Disposition"]
    assert upload(clerk, case_id, JPEG, "foto.jpeg").get_json()["content_type"] == "image/jpeg"


def test_type_is_decided_by_content_not_by_name(as_user, seeded):
    case_id = probes.new_case(seeded)
    refused = upload(as_user("oficial1"), case_id, b"MZ\x90\x00 not a pdf", "factura.pdf")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "file"
    assert upload(as_user("oficial1"), case_id, probes.PDF_BYTES, "sin-extension").get_json()["content_type"] \
        == "application/pdf"


def test_files_over_the_limit_are_413_and_leave_nothing_behind(seeded, tmp_path):
    app = make_app(seeded, tmp_path, ATTACHMENT_MAX_BYTES=1000)
    client = Client(app, token_for(seeded, "oficial1"))
    case_id = probes.new_case(seeded)
    too_big = upload(client, case_id, probes.PDF_BYTES + b"0" * 2000, "grande.pdf")
    assert too_big.status_code == 413 and too_big.content_type == "application/problem+json"
    # Built by hand: werkzeug's test client would spool a body this big to a file it never closes.
    body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="enorme.pdf"\r\n\r\n%PDF-'
            + b"0" * (2 * 1024 * 1024) + b"\r\n--B--\r\n")
    whole_request_too_big = client.post(f"/api/cases/{case_id}/attachments", data=body,
                                        content_type="multipart/form-data; boundary=B")
    assert whole_request_too_big.status_code == 413
    assert [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()] == []
    with seeded.uow(write=False) as uow:
        assert uow.conn.execute(select(models.attachments)).first() is None


def test_clerk_outside_the_case_cannot_upload_list_or_download(as_user, seeded):
    case_id = probes.new_case(seeded)
    attachment = upload(as_user("oficial1"), case_id, PNG, "a.png").get_json()
    outsider = as_user("juridico1")
    assert upload(outsider, case_id, PNG, "b.png").status_code == 404
    assert outsider.get(f"/api/cases/{case_id}/attachments").status_code == 404
    assert outsider.get(f"/api/attachments/{attachment['id']}").status_code == 404
    assert outsider.get(f"/api/attachments/{attachment['id']}/content").status_code == 404


def test_a_cancelled_case_takes_no_more_attachments(as_user, seeded):
    case_id = probes.new_case(seeded)
    as_user("supervisor1").post(f"/api/cases/{case_id}/cancel", json={"reason": "duplicado"})
    assert upload(as_user("oficial1"), case_id, PNG, "a.png").status_code == 409


def test_a_missing_file_field_is_422(as_user, seeded):
    response = as_user("oficial1").post(f"/api/cases/{probes.new_case(seeded)}/attachments", data={},
                                        content_type="multipart/form-data")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "file"
