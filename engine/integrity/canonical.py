"""The canonical bytes of a history event, its leaf hash, and the two chains every event extends.

An event's entry is the UTF-8 JSON array (no spaces, non-ASCII characters as themselves, orjson's output)
    [1, seq, case_id, case_seq, at, kind, element_id, task_id, actor, data_json, changes_json]
where `1` is the format, `at` is UTC as "YYYY-MM-DDTHH:MM:SS.ffffffZ", and data_json / changes_json are the stored
JSON texts as strings (or null). leaf = SHA-256(0x00 || entry) (RFC 6962's leaf hash: the Merkle tree's leaves);
case_chain = SHA-256("case" || previous case_chain || leaf), the case's first event chained to 32 zero bytes;
chain = SHA-256("log" || previous chain || leaf) over the global sequence, from 32 zero bytes. Stored as hex.
Anyone can recompute them from the rows (docs/audit.md); nothing here needs a key.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import orjson

FORMAT = 1
GENESIS = bytes(32)
# The columns an entry is made of, in order (after the format number).
FIELDS = ("seq", "case_id", "case_seq", "at", "kind", "element_id", "task_id", "actor", "data_json", "changes_json")


def timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime in an event")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry(seq: int, case_id: int, case_seq: int, at: datetime | str, kind: str, element_id, task_id, actor,
          data_json, changes_json) -> bytes:
    """The canonical bytes of one event (`at` as a datetime, or already as timestamp() text)."""
    return orjson.dumps([FORMAT, seq, case_id, case_seq, at if isinstance(at, str) else timestamp(at), kind,
                         element_id, task_id, actor, data_json, changes_json])


def entry_of(row) -> bytes:
    """entry() of a mapping with the FIELDS as keys (a row's ._mapping, a dict)."""
    return entry(*(row[name] for name in FIELDS))


def leaf_hash(entry_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def case_link(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(b"case" + previous + leaf).digest()


def log_link(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(b"log" + previous + leaf).digest()


def access_entry(seq: int, at: datetime | str, actor, action: str, target, detail_json) -> bytes:
    """The canonical bytes of one access-log row (what a user viewed or exported): [1, seq, at, actor, action,
    target, detail_json]; chained with log_link from 32 zero bytes, apart from the events' chain."""
    return orjson.dumps([FORMAT, seq, at if isinstance(at, str) else timestamp(at), actor, action, target,
                         detail_json])
