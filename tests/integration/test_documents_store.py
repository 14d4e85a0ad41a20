"""Issued documents and their numbers (engine/storage/documents.py), on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from engine.documents.codes import verification_code
from engine.storage import documents
from engine.usecases import cases
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM, bpmn_fixture

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


def test_concurrent_issuers_get_distinct_consecutive_numbers(svc):
    """Threads, each in its own transaction (PostgreSQL: the counter row's lock; SQLite: the write lock)."""
    n, start, got, errors = 8, threading.Barrier(8), [], []

    def issuer():
        try:
            start.wait()
            got.append(issue_number(svc))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=issuer) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == [f"RES-GDCH-2026-{i:04d}" for i in range(1, n + 1)]


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
