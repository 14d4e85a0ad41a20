"""Issued documents and their numbers (engine/storage/documents.py), and the receipt issued once
(engine/usecases/documents.py), on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from engine.documents.codes import verification_code
from engine.storage import documents
from engine.usecases import cases
from engine.usecases import documents as document_cases
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM, bpmn_fixture, principal_for

PATTERN = "RES-GDCH-{year}-{seq:04d}"
ISSUED = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def case_id(svc):
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    return cases.start_case(svc, SYSTEM, "five_step", {"amount": 10}).id


def issue_number(svc, kind="resolucion", year=2026, commit=True):
    with svc.uow() as uow:
        number = documents.next_number(uow.conn, kind, year, PATTERN)
        if commit:
            uow.commit()
    return number


def store(conn, case_id, pdf=b"%PDF-1.7 test", **overrides):
    fields = dict(case_id=case_id, task_id=None, kind="resolucion", number=None, year=2026,
                  code=verification_code(), pdf=pdf, pages=1, issued_at=ISSUED, issued_by="oficial1",
                  citizen_facing=True)
    return documents.store_document(conn, **{**fields, **overrides})


def test_numbers_are_consecutive_per_kind_and_per_year(svc):
    assert [issue_number(svc) for _ in range(3)] == [f"RES-GDCH-2026-000{i}" for i in (1, 2, 3)]
    assert issue_number(svc, kind="dictamen") == "RES-GDCH-2026-0001"  # its own sequence (the pattern is ours)
    assert issue_number(svc, year=2027) == "RES-GDCH-2027-0001"
    assert issue_number(svc) == "RES-GDCH-2026-0004"


def test_a_rolled_back_transaction_leaves_no_gap(svc):
    assert issue_number(svc) == "RES-GDCH-2026-0001"
    assert issue_number(svc, commit=False) == "RES-GDCH-2026-0002"  # rolled back
    assert issue_number(svc, year=2027, commit=False) == "RES-GDCH-2027-0001"  # a first row, rolled back
    assert issue_number(svc) == "RES-GDCH-2026-0002"
    assert issue_number(svc, year=2027) == "RES-GDCH-2027-0001"


def at_once(n: int, call) -> list:
    """`call()` in n threads released together; their answers (any exception fails the test)."""
    start, got, errors = threading.Barrier(n), [], []

    def run():
        try:
            start.wait()
            got.append(call())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return got


def test_concurrent_issuers_get_distinct_consecutive_numbers(svc):
    """Threads, each in its own transaction (PostgreSQL: the counter row's lock; SQLite: the write lock)."""
    got = at_once(8, lambda: issue_number(svc))
    assert sorted(got) == [f"RES-GDCH-2026-{i:04d}" for i in range(1, 9)]


def test_a_stored_document_is_found_by_code_and_by_case_with_its_bytes_and_hash(svc, case_id):
    pdf = b"%PDF-1.7 the document" + bytes(range(256))
    with svc.uow() as uow:
        stored = store(uow.conn, case_id, pdf=pdf, number="RES-GDCH-2026-0001", pages=2)
        uow.commit()
    assert stored["sha256"] == hashlib.sha256(pdf).hexdigest() and stored["size_bytes"] == len(pdf)
    with svc.uow(write=False) as uow:
        found = documents.document_by_code(uow.conn, stored["verification_code"])
        listed = documents.documents_of_case(uow.conn, case_id)
        content = documents.document_content(uow.conn, stored["id"])
        missing = documents.document_by_code(uow.conn, verification_code())
    assert found == stored and listed == [stored] and "content" not in found
    assert found["issued_at"] == ISSUED and found["citizen_facing"] is True
    assert content == pdf and missing is None


def test_a_correction_names_the_document_it_corrects_and_both_stay(svc, case_id):
    with svc.uow() as uow:
        first = store(uow.conn, case_id, number="RES-GDCH-2026-0001")
        second = store(uow.conn, case_id, number="RES-GDCH-2026-0002", corrects_id=first["id"])
        uow.commit()
    with svc.uow(write=False) as uow:
        listed = documents.documents_of_case(uow.conn, case_id)
    assert [d["id"] for d in listed] == [first["id"], second["id"]] and listed[1]["corrects_id"] == first["id"]


@pytest.mark.parametrize("clash", ["code", "number"])
def test_codes_and_numbers_are_unique(svc, case_id, clash):
    with svc.uow() as uow:
        first = store(uow.conn, case_id, number="RES-GDCH-2026-0001")
        uow.commit()
    again = {"code": {"code": first["verification_code"]}, "number": {"number": first["number"]}}[clash]
    with pytest.raises(IntegrityError):
        with svc.uow() as uow:
            store(uow.conn, case_id, **again)
            uow.commit()


def receipts(svc, case_id):
    with svc.uow(write=False) as uow:
        return [d for d in documents.documents_of_case(uow.conn, case_id) if d["kind"] == "constancia_recepcion"]


def test_the_receipt_is_issued_by_the_first_request_and_served_unchanged_after(svc, case_id):
    first = document_cases.receipt_pdf(svc, principal_for("ventanilla1"), case_id)
    again = document_cases.receipt_pdf(svc, SYSTEM, case_id)
    assert first["issued"] and not again["issued"] and again["pdf"] == first["pdf"]
    [stored] = receipts(svc, case_id)
    assert stored["sha256"] == hashlib.sha256(first["pdf"]).hexdigest() == again["sha256"]
    assert (stored["number"], stored["year"], stored["issued_by"], stored["citizen_facing"]) \
        == (None, None, "ventanilla1", True)
    assert stored["verification_code"] == first["code"] and stored["pages"] >= 1


def test_the_receipt_names_who_filed_the_case_even_when_an_auditor_opens_it_first(svc):
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    filed = cases.start_case(svc, principal_for("oficial1", role="clerk", groups=("ventanilla",)), "five_step",
                             {"amount": 10}).id
    document_cases.receipt_pdf(svc, principal_for("auditor1", role="auditor"), filed)
    [stored] = receipts(svc, filed)
    assert stored["issued_by"] == "oficial1"


def test_a_receipt_issued_while_ours_was_rendering_wins_and_ours_is_discarded(svc, case_id, monkeypatch):
    """The loser of two first requests serves the winner's document: here the winner runs inside our render."""
    real_render, winner, renders = document_cases.render_pdf, {}, []

    def render_while_another_issues(template, context):
        renders.append(context["code"])
        if len(renders) == 1:  # our render: the other request issues its receipt now
            winner.update(document_cases.receipt_pdf(svc, SYSTEM, case_id))
        return real_render(template, context)

    monkeypatch.setattr(document_cases, "render_pdf", render_while_another_issues)
    loser = document_cases.receipt_pdf(svc, SYSTEM, case_id)
    assert winner["issued"] and not loser["issued"]
    assert loser["pdf"] == winner["pdf"] and loser["code"] == winner["code"]
    assert [d["verification_code"] for d in receipts(svc, case_id)] == [winner["code"]] == renders[1:]


def test_concurrent_first_requests_issue_one_receipt(svc, case_id):
    got = at_once(4, lambda: document_cases.receipt_pdf(svc, SYSTEM, case_id))
    [stored] = receipts(svc, case_id)
    assert sum(g["issued"] for g in got) == 1
    assert {g["code"] for g in got} == {stored["verification_code"]}
    assert {hashlib.sha256(g["pdf"]).hexdigest() for g in got} == {stored["sha256"]}
