"""Idempotency-Key on case starts, task completions and uploads (SQLite and PostgreSQL): a retry acts once."""
from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from engine.usecases import attachments
from engine.usecases import cases
from engine.storage import models
from tests.api import probes
from tests.api.conftest import Client, make_app, seed, token_for
from tests.conftest import SYSTEM

RETRIES = 8
START = {"process_key": "five_step", "data": {"amount": 10}}


@pytest.fixture
def app(svc, tmp_path):
    seed(svc)
    return make_app(svc, tmp_path)


def client(app, svc, username="oficial1") -> Client:
    return Client(app, token_for(svc, username))


def at_once(app, svc, send, n=RETRIES, username="oficial1") -> list:
    """`send(client)` from n clients of one user at the same moment; their responses."""
    clients = [client(app, svc, username) for _ in range(n)]
    barrier = threading.Barrier(n)
    responses = [None] * n

    def run(i):
        barrier.wait()
        responses[i] = send(clients[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def count(svc, table, *where) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def replayed(responses) -> list[bool]:
    return sorted(r.headers.get("Idempotent-Replayed") == "true" for r in responses)


def test_eight_concurrent_case_starts_with_one_key_file_one_case(app, svc):
    before = count(svc, models.cases)
    responses = at_once(app, svc, lambda c: c.post("/api/cases", json=START, headers={"Idempotency-Key": "alta-1"}))
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_data() for r in responses}) == 1  # the same case id and number in every answer
    assert replayed(responses) == [False] + [True] * (RETRIES - 1)
    assert count(svc, models.cases) == before + 1
    assert count(svc, models.events, models.events.c.kind == "case_started") == before + 1


def test_eight_concurrent_completions_with_one_key_complete_the_task_once(app, svc):
    task_id = probes.ready_task(svc)
    responses = at_once(app, svc, lambda c: c.post(f"/api/tasks/{task_id}/complete", json={"data": {"amount": 5}},
                                                    headers={"Idempotency-Key": "completar-1"}))
    assert {r.status_code for r in responses} == {200}
    assert len({r.get_data() for r in responses}) == 1
    assert replayed(responses) == [False] + [True] * (RETRIES - 1)
    ev = models.events
    assert count(svc, ev, ev.c.kind == "task_completed", ev.c.task_id == task_id) == 1


def test_eight_concurrent_uploads_with_one_key_store_one_attachment_and_one_file(app, svc):
    case_id = probes.new_case(svc)

    def send(c):
        return c.post(f"/api/cases/{case_id}/attachments", data={"file": (io.BytesIO(probes.PDF_BYTES), "acta.pdf")},
                      content_type="multipart/form-data", headers={"Idempotency-Key": "adjunto-1"})

    responses = at_once(app, svc, send)
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_data() for r in responses}) == 1
    assert replayed(responses) == [False] + [True] * (RETRIES - 1)
    assert len(attachments.list_attachments(svc, SYSTEM, case_id)) == 1
    stored = [p for p in app.extensions["expediente.attachments"].directory.rglob("*") if p.is_file()]
    assert len(stored) == 1  # the duplicates' files were removed with their rolled-back rows


def test_a_late_retry_returns_the_first_answer_and_changes_nothing(app, svc):
    clerk = client(app, svc)
    first = clerk.post("/api/cases", json=START, headers={"Idempotency-Key": "alta-tardia"})
    cases_after_first = count(svc, models.cases)
    again = clerk.post("/api/cases", json=START, headers={"Idempotency-Key": "alta-tardia"})
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.content_type == first.content_type
    assert count(svc, models.cases) == cases_after_first


def test_the_same_key_with_a_different_request_is_refused_naming_the_header(app, svc):
    clerk = client(app, svc)
    assert clerk.post("/api/cases", json=START, headers={"Idempotency-Key": "k"}).status_code == 201
    before = count(svc, models.cases)
    other_body = clerk.post("/api/cases", json={**START, "data": {"amount": 99}}, headers={"Idempotency-Key": "k"})
    other_path = clerk.post(f"/api/tasks/{probes.ready_task(svc)}/complete", json={"data": {"amount": 5}},
                            headers={"Idempotency-Key": "k"})
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        problem = response.get_json()
        assert problem["code"] == "idempotency_key_reused"
        assert [e["field"] for e in problem["errors"]] == ["Idempotency-Key"]
    assert count(svc, models.cases) == before + 1  # the probe's case only


def test_keys_are_per_user(app, svc):
    first = client(app, svc, "oficial1").post("/api/cases", json=START, headers={"Idempotency-Key": "mismo"})
    second = client(app, svc, "supervisor1").post("/api/cases", json=START, headers={"Idempotency-Key": "mismo"})
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.get_json()["id"] != second.get_json()["id"]


def test_a_rejected_request_records_nothing_so_the_corrected_retry_with_its_key_runs(app, svc):
    clerk = client(app, svc)
    key = {"Idempotency-Key": "corregir-1"}
    before = count(svc, models.cases)
    assert clerk.post("/api/cases", json={**START, "data": "no es un objeto"}, headers=key).status_code == 422
    # Refused inside the use case's transaction, after the key row was written: both roll back.
    assert clerk.post("/api/cases", json={**START, "process_key": "no_existe"}, headers=key).status_code == 404
    corrected = clerk.post("/api/cases", json=START, headers=key)
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    assert count(svc, models.cases) == before + 1
    assert clerk.post("/api/cases", json=START, headers=key).headers["Idempotent-Replayed"] == "true"


def test_without_a_key_every_request_acts(app, svc):
    clerk = client(app, svc)
    before = count(svc, models.cases)
    assert [clerk.post("/api/cases", json=START).status_code for _ in range(2)] == [201, 201]
    assert count(svc, models.cases) == before + 2


@pytest.mark.parametrize("key", ["", "x" * 256, "dos palabras", "tab\there", "ñandú"])
def test_a_malformed_key_is_refused_naming_the_header(app, svc, key):
    before = count(svc, models.cases)
    response = client(app, svc).post("/api/cases", json=START, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert [e["field"] for e in response.get_json()["errors"]] == ["Idempotency-Key"]
    assert count(svc, models.cases) == before


def test_a_key_of_255_visible_characters_is_accepted(app, svc):
    key = "".join(chr(33 + i % 94) for i in range(255))
    assert client(app, svc).post("/api/cases", json=START, headers={"Idempotency-Key": key}).status_code == 201


def test_the_header_is_in_the_document_for_the_three_writes(app, svc):
    doc = client(app, svc).get("/api/openapi.json").get_json()
    for path in ("/api/cases", "/api/tasks/{task_id}/complete", "/api/cases/{case_id}/attachments"):
        names = [(p["in"], p["name"]) for p in doc["paths"][path]["post"].get("parameters", [])]
        assert ("header", "Idempotency-Key") in names, path


def test_a_completion_retried_after_the_task_is_done_gets_the_first_answer_not_a_conflict(app, svc):
    task_id = probes.ready_task(svc)
    clerk = client(app, svc)
    key = {"Idempotency-Key": "completar-tarde"}
    first = clerk.post(f"/api/tasks/{task_id}/complete", json={"data": {"amount": 5}}, headers=key)
    version = cases.get_case(svc, SYSTEM, first.get_json()["case_id"])["version"]
    again = clerk.post(f"/api/tasks/{task_id}/complete", json={"data": {"amount": 5}}, headers=key)
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    assert clerk.post(f"/api/tasks/{task_id}/complete", json={"data": {"amount": 5}}).status_code == 409
    assert cases.get_case(svc, SYSTEM, first.get_json()["case_id"])["version"] == version


def test_a_form_part_without_a_name_is_refused_not_a_server_error(app, svc):
    """A multipart part with no name (the parser gives it the name None) beside a named one: the request's
    fingerprint orders it, and the upload without a file is refused naming the field (found by the fuzzer: a 500)."""
    case_id = probes.new_case(svc)
    body = (b'--XX\r\nContent-Disposition: form-data\r\n\r\n[null]\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="nota"\r\n\r\n{}\r\n--XX--\r\n')
    response = client(app, svc).post(f"/api/cases/{case_id}/attachments", data=body,
                                     content_type="multipart/form-data; boundary=XX",
                                     headers={"Idempotency-Key": "sin-nombre"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "file"
    assert count(svc, models.attachments, models.attachments.c.case_id == case_id) == 0
