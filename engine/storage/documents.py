"""Issued documents and their numbers, in the caller's transaction (every function takes an open connection).

A document row holds the PDF bytes as issued, their SHA-256 and the verification code; the bytes never change
(a correction is a new document whose `corrects_id` names the one it corrects). Numbers are per kind and year
and gapless: `next_number` increments `document_counters` in the issuing transaction, so a step that rolls back
gives its number back."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import bindparam, select

from engine.storage import models
from engine.storage.db import count_up

_d = models.documents
_counters = models.document_counters
# Every column but the bytes: what lists and the verification page read.
_META = tuple(c for c in _d.c if c.name != "content")

# INSERT the (kind, year) row at 1, or add 1 to it, and read the new value back, in one statement. On PostgreSQL
# the row lock the UPDATE takes holds a concurrent issuer until this transaction ends (and ON CONFLICT settles two
# first issuers of a year); on SQLite the write transaction (BEGIN IMMEDIATE) already serialises them.
_NEXT = count_up(_counters, {"kind": bindparam("b_kind"), "year": bindparam("b_year")},
                 [_counters.c.kind, _counters.c.year], _counters.c.last)


def next_number(conn, kind: str, year: int, pattern: str) -> str:
    """The next number of `kind` in `year`, e.g. `RES-GDCH-2026-0001` for the pattern
    `RES-GDCH-{year}-{seq:04d}`: consecutive, and gapless because the increment commits or rolls back with the
    caller's transaction (call it in the issuing step's write transaction, as late as possible: concurrent
    issuers of the same kind wait for it to end). The receipt has no number of its own (the case number
    identifies it)."""
    seq = conn.execute(_NEXT[conn.dialect.name], {"b_kind": kind, "b_year": year}).scalar_one()
    return pattern.format(year=year, seq=seq)


def release_numbers(conn, kind: str, year: int, count: int) -> None:
    """Give back the last `count` numbers of `kind` in `year`, taken earlier in this same transaction by a step
    that is then refused (the counter row is still locked by it: nobody took a later number)."""
    conn.execute(_counters.update().where(_counters.c.kind == kind, _counters.c.year == year)
                 .values(last=_counters.c.last - count))


def store_document(conn, *, case_id: int, task_id: str | None, kind: str, number: str | None, year: int | None,
                   code: str, pdf: bytes, pages: int | None, issued_at: datetime, issued_by: str | None,
                   citizen_facing: bool, corrects_id: int | None = None, data_json: str | None = None,
                   signers_json: str | None = None, signature: str | None = None,
                   correction_reason: str | None = None) -> dict:
    """Store an issued document's bytes with their SHA-256 and size; returns its row without the bytes."""
    row = {"case_id": case_id, "task_id": task_id, "kind": kind, "number": number, "year": year,
           "verification_code": code, "sha256": hashlib.sha256(pdf).hexdigest(), "size_bytes": len(pdf),
           "pages": pages, "issued_at": issued_at, "issued_by": issued_by, "corrects_id": corrects_id,
           "citizen_facing": citizen_facing, "data_json": data_json, "signers_json": signers_json,
           "signature": signature, "correction_reason": correction_reason}
    document_id = conn.execute(_d.insert().values(content=pdf, **row).returning(_d.c.id)).scalar_one()
    return {"id": document_id, **row}


def document_by_code(conn, code: str) -> dict | None:
    """The document with this (canonical, grouped) verification code, without its bytes; None if there is none."""
    row = conn.execute(select(*_META).where(_d.c.verification_code == code)).mappings().first()
    return None if row is None else dict(row)


def document_by_id(conn, document_id: int) -> dict | None:
    """One document without its bytes; None if there is none."""
    row = conn.execute(select(*_META).where(_d.c.id == document_id)).mappings().first()
    return None if row is None else dict(row)


def documents_of_case(conn, case_id: int) -> list[dict]:
    """A case's documents in the order they were issued, without their bytes."""
    rows = conn.execute(select(*_META).where(_d.c.case_id == case_id).order_by(_d.c.id)).mappings()
    return [dict(r) for r in rows]


def document_of_kind(conn, case_id: int, kind: str) -> dict | None:
    """The case's first document of `kind` (e.g. its receipt), without its bytes; None if there is none."""
    row = conn.execute(select(*_META).where(_d.c.case_id == case_id, _d.c.kind == kind)
                       .order_by(_d.c.id).limit(1)).mappings().first()
    return None if row is None else dict(row)


def document_content(conn, document_id: int) -> bytes:
    """The PDF bytes exactly as issued."""
    return conn.execute(select(_d.c.content).where(_d.c.id == document_id)).scalar_one()
