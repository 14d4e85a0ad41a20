"""Sealing new history events into the chains, in the transaction that writes them.

Every writer of events goes through engine.storage.persistence.append_events, which calls seal(): the head of the
global chain (table audit_heads, row "events") is read with FOR UPDATE, so on PostgreSQL writers of events queue
there until the holder commits (SQLite's writers are already serialized by BEGIN IMMEDIATE) and the global sequence
is gapless and in commit order. The per-case chain continues from the case's last event. Within one transaction the
heads are remembered (conn.info, tied to the transaction object), so a step that appends several times reads them
once, and the moved head is written once, as the transaction commits (a listener on the engine's commit: whoever
commits, the head goes with the events; a rollback takes neither).
"""
from __future__ import annotations

import threading
import weakref

from sqlalchemy import bindparam, event, select, text, update

from engine.integrity import canonical
from engine.storage import models

_heads = models.audit_heads
_events = models.events

_READ_HEAD = select(_heads.c.seq, _heads.c.chain).where(_heads.c.name == bindparam("b_name")).with_for_update()
_WRITE_HEAD = update(_heads).where(_heads.c.name == bindparam("b_name")).values(
    seq=bindparam("b_seq"), chain=bindparam("b_chain"))
_CASE_LAST = (select(_events.c.case_seq, _events.c.case_chain).where(_events.c.case_id == bindparam("b_case"))
              .order_by(_events.c.case_seq.desc()).limit(1))


def _last_of_case(column):
    return (select(column).where(_events.c.case_id == bindparam("b_case"))
            .order_by(_events.c.case_seq.desc()).limit(1).scalar_subquery())


# SQLite: the head and the case's last event in one statement (the writer holds the database since BEGIN IMMEDIATE,
# nothing can come in between). Not on PostgreSQL: a statement reads with the snapshot it started with, taken before
# it waited for the head's lock, so it would miss what the previous holder committed for the same case; there the
# case's last event is read by a statement of its own, after the lock.
_READ_HEAD_AND_CASE = select(_heads.c.seq, _heads.c.chain, _last_of_case(_events.c.case_seq).label("case_seq"),
                             _last_of_case(_events.c.case_chain).label("case_chain")
                             ).where(_heads.c.name == "events")
# The same for many cases in one round trip (a batch of timers seals events of dozens of cases): one probe of
# uq_events_case_seq per case. PostgreSQL only; SQLite's queries cost no round trip.
_CASES_LAST = text("SELECT e.case_id, e.case_seq, e.case_chain FROM unnest(CAST(:b_cases AS bigint[])) AS c(id) "
                   "CROSS JOIN LATERAL (SELECT case_id, case_seq, case_chain FROM events WHERE case_id = c.id "
                   "ORDER BY case_seq DESC LIMIT 1) AS e")


class _TxHeads:
    __slots__ = ("tx", "seq", "chain", "cases", "moved")

    def __init__(self, tx, seq: int, chain: bytes):
        self.tx, self.seq, self.chain, self.cases, self.moved = tx, seq, chain, {}, False


def read_head(conn, name: str) -> tuple[int, bytes]:
    """The stored head of a chain ("events" or "access"), locked until the transaction ends."""
    row = conn.execute(_READ_HEAD, {"b_name": name}).one()
    return row.seq, bytes.fromhex(row.chain)


def write_head(conn, name: str, seq: int, chain: bytes) -> None:
    conn.execute(_WRITE_HEAD, {"b_name": name, "b_seq": seq, "b_chain": chain.hex()})


def _held(conn) -> _TxHeads | None:
    held = conn.info.get("audit_heads")
    return held if held is not None and held.tx is conn.get_transaction() else None


def _hold(conn, case_id) -> _TxHeads:
    """Read (and lock) the head for this transaction; on SQLite with the last event of `case_id` (if not None)."""
    tx = conn.get_transaction()
    if case_id is not None and conn.dialect.name == "sqlite":
        row = conn.execute(_READ_HEAD_AND_CASE, {"b_case": case_id}).one()
        held = _TxHeads(tx, row.seq, bytes.fromhex(row.chain))
        held.cases[case_id] = ((row.case_seq, bytes.fromhex(row.case_chain)) if row.case_seq is not None
                               else (0, canonical.GENESIS))
    else:
        held = _TxHeads(tx, *read_head(conn, "events"))
    conn.info["audit_heads"] = held  # the transaction object is kept, so another one can never look the same
    listen(conn.engine)
    return held


def seal(conn, rows: list[dict]) -> None:
    """Number and hash new event rows in place (seq, case_seq, leaf_hash, case_chain, chain) and move the heads
    (written when the transaction commits)."""
    held = _held(conn)
    if held is None:
        held = _hold(conn, rows[0]["case_id"] if rows else None)
    seq, chain = held.seq, held.chain
    unread = sorted({row["case_id"] for row in rows} - held.cases.keys())
    if len(unread) > 1 and conn.dialect.name == "postgresql":
        held.cases.update((case_id, (0, canonical.GENESIS)) for case_id in unread)  # a case with no events yet
        held.cases.update((r.case_id, (r.case_seq, bytes.fromhex(r.case_chain)))
                          for r in conn.execute(_CASES_LAST, {"b_cases": unread}))
    for row in rows:
        row.setdefault("changes_json", None)
        case_id = row["case_id"]
        last = held.cases.get(case_id)
        if last is None:
            stored = conn.execute(_CASE_LAST, {"b_case": case_id}).first()
            last = (stored.case_seq, bytes.fromhex(stored.case_chain)) if stored else (0, canonical.GENESIS)
        seq += 1
        case_seq = last[0] + 1
        leaf = canonical.leaf_hash(canonical.entry(
            seq, case_id, case_seq, row["at"], row["kind"], row["element_id"], row["task_id"], row["actor"],
            row["data_json"], row["changes_json"]))
        case_chain = canonical.case_link(last[1], leaf)
        chain = canonical.log_link(chain, leaf)
        row.update(seq=seq, case_seq=case_seq, leaf_hash=leaf.hex(), case_chain=case_chain.hex(), chain=chain.hex())
        held.cases[case_id] = (case_seq, case_chain)
    held.seq, held.chain = seq, chain
    held.moved = held.moved or bool(rows)


def write_moved_head(conn) -> None:
    """Write the head this transaction moved (the engine's commit listener; the transaction is still open)."""
    held = _held(conn)
    if held is not None and held.moved:
        held.moved = False
        write_head(conn, "events", held.seq, held.chain)


_listening = weakref.WeakSet()
_listening_lock = threading.Lock()


def listen(engine) -> None:
    """Have the engine write moved heads as its transactions commit (once per engine; engine.storage.db does it
    for the engines it makes, this for any other)."""
    if engine in _listening:
        return
    with _listening_lock:
        if engine not in _listening:
            event.listen(engine, "commit", write_moved_head)
            _listening.add(engine)
