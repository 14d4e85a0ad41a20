"""Verify the whole history: every event's leaf hash, the gapless sequences, both chains, the signed checkpoints'
Merkle roots, the access log's chain and the append-only triggers, in one streaming pass (docs/audit.md).

Nothing stored in the database is trusted to verify it: leaf hashes are recomputed from each event's columns, and
checkpoint signatures are checked with a public key the caller brings. Each link is checked against the stored
previous link, so one edited row is named once instead of breaking everything after it; a history rewritten and
re-hashed consistently passes those local checks and is caught by the first signed checkpoint that covers it.
The report names the first disagreement first (event, seq, case, kind, what differs).
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from hashlib import sha256

import orjson
from sqlalchemy import Connection, Engine, bindparam, select

from engine.audit.checkpoints import NoteError, all_checkpoints, verify_note
from engine.audit.status import record_verification
from engine.audit.verify_guards import check_triggers
from engine.integrity import canonical
from engine.integrity.merkle import EMPTY_ROOT
from engine.messages import Message, msg
from engine.storage import models

MAX_PROBLEMS = 20
PROGRESS_EVERY = 10_000
FETCH_ROWS = 5_000
# How far around its place an event whose leaf does not match is looked for (a moved event), on the slow path only.
MOVED_WINDOW = 200

_EVENTS_SQL = ("SELECT id, seq, case_id, case_seq, at, kind, element_id, task_id, actor, data_json, changes_json, "
               "leaf_hash, case_chain, chain FROM events WHERE seq IS NOT NULL ORDER BY seq")
_UNSEALED_SQL = "SELECT id, case_id, kind FROM events WHERE seq IS NULL ORDER BY id"
_ACCESS_SQL = "SELECT seq, at, actor, action, target, detail_json, chain FROM access_log ORDER BY seq"
_ADMIN_SQL = "SELECT seq, at, actor, action, target, detail_json, chain FROM admin_log ORDER BY seq"
_HEADS_SQL = "SELECT name, seq, chain FROM audit_heads"


@dataclass
class Problem:
    """One disagreement: what (a short code), the words, and the event it is about when there is one."""

    what: str
    message: str
    event_id: int | None = None
    seq: int | None = None
    case_id: int | None = None
    case_number: str | None = None
    kind: str | None = None
    detail: Message | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class Report:
    ok: bool = True
    events: int = 0
    cases: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    duration_seconds: float = 0.0
    last_checkpoint: dict | None = None
    head_seq: int = 0

    @property
    def first_problem(self) -> str | None:
        return self.problems[0].message if self.problems else None

    def summary(self) -> str:
        """One line: "OK: N eventos en M expedientes, K puntos de control; último ..." or the first problem."""
        if not self.ok:
            more = self.problem_count - 1
            return msg("FALLA: %(problem)s", problem=self.first_problem) + (
                msg(" (y %(more)s problemas más)", more=more) if more else "")
        last = self.last_checkpoint
        tail = (msg("último #%(id)s de %(size)s eventos, firmado %(at)s", id=last["id"], size=last["tree_size"],
                    at=_stamp(last["created_at"])) if last else msg("ninguno todavía"))
        return msg("OK: %(events)s eventos en %(cases)s expedientes, %(checkpoints)s puntos de control; %(tail)s",
                   events=self.events, cases=self.cases, checkpoints=self.checkpoints, tail=tail)

    def as_json(self) -> dict:
        return {"ok": self.ok, "events": self.events, "cases": self.cases, "checkpoints": self.checkpoints,
                "problem_count": self.problem_count, "duration_seconds": round(self.duration_seconds, 3),
                "problems": [{"what": p.what, "message": p.message, "event_id": p.event_id, "seq": p.seq,
                              "case_id": p.case_id, "case_number": p.case_number, "kind": p.kind}
                             for p in self.problems]}


def _stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def stamp_of(at) -> str:
    """canonical.timestamp of a stored moment as a raw cursor returns it: SQLAlchemy's SQLite text
    ("YYYY-MM-DD HH:MM:SS.ffffff"), or a naive UTC datetime from PostgreSQL."""
    if isinstance(at, str):
        if len(at) == 26 and at[10] == " ":
            return f"{at[:10]}T{at[11:]}Z"
        at = datetime.fromisoformat(at)
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds") + "Z"


class _Problems:
    """The problems found so far: the first MAX_PROBLEMS kept, all counted."""

    def __init__(self):
        self.kept: list[Problem] = []
        self.count = 0

    def add(self, what: str, detail: Message, *, event_id=None, seq=None, case_id=None, kind=None) -> None:
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(Problem(what, str(detail), event_id, seq, case_id, None, kind, detail))


def _bytes(hex_text) -> bytes | None:
    try:
        value = bytes.fromhex(hex_text)
    except (TypeError, ValueError):
        return None
    return value if len(value) == 32 else None


class _Checkpoints:
    """The signed checkpoints (stored, and kept outside) to check against the tree's root as it grows."""

    def __init__(self, rows: list[dict], external: list[str], public, problems: _Problems):
        self.problems = problems
        self.pending: list[tuple[int, bytes, str, Message]] = []  # (tree size, signed root, code, label)
        self.held: list[tuple[int, Message]] = []  # (tree size, label) of those that matched, in size order
        expected_id = 1
        for row in rows:
            label = msg("el punto de control #%(id)s (firmado %(at)s, %(size)s eventos)", id=row["id"],
                        at=_stamp(row["created_at"]), size=row["tree_size"])
            if row["id"] != expected_id:
                problems.add("checkpoint_missing", msg(
                    "faltan los puntos de control #%(first)s a #%(last)s (borrados)", first=expected_id,
                    last=row["id"] - 1) if row["id"] > expected_id + 1 else msg(
                    "falta el punto de control #%(id)s (borrado)", id=expected_id))
            expected_id = row["id"] + 1
            self._add_stored(row, label, public)
        for number, text in enumerate(external, start=1):
            label = msg("el punto de control externo %(n)s", n=number)
            try:
                cp = verify_note(text, public)
            except NoteError as exc:
                problems.add("external_signature", msg("%(label)s no es válido: %(why)s", label=label,
                                                       why=str(exc)))
                continue
            label = msg("el punto de control externo %(n)s (firmado %(at)s, %(size)s eventos)", n=number,
                        at=_stamp(cp.created_at), size=cp.tree_size)
            self.pending.append((cp.tree_size, cp.root, "external", label))
        self.pending.sort(key=lambda item: item[0])

    def _add_stored(self, row: dict, label: Message, public) -> None:
        try:
            cp = verify_note(row["note"], public)
        except NoteError as exc:
            self.problems.add("checkpoint_signature", msg(
                "%(label)s: su firma no vale con la clave pública dada (falsificado o alterado): %(why)s",
                label=label, why=str(exc)))
            return
        differs = [name for name, signed, stored in (
            ("tree_size", cp.tree_size, row["tree_size"]), ("root_hash", cp.root.hex(), row["root_hash"]),
            ("created_at", cp.created_at, row["created_at"].replace(microsecond=0)),
            ("key_id", cp.key_id, row["key_id"])) if signed != stored]
        if differs:
            self.problems.add("checkpoint_row", msg(
                "%(label)s: la fila no coincide con su nota firmada en %(fields)s (alterada)", label=label,
                fields=", ".join(differs)))
        self.pending.append((cp.tree_size, cp.root, "checkpoint", label))

    def next_size(self) -> int | None:
        """The size of the next checkpoint to check, None when none is left."""
        return self.pending[0][0] if self.pending else None

    def check(self, size: int, root: bytes) -> None:
        """Check every pending checkpoint of exactly `size` events against `root`."""
        while self.pending and self.pending[0][0] == size:
            tree_size, signed_root, code, label = self.pending.pop(0)
            if signed_root == root:
                self.held.append((tree_size, label))
                continue
            since = self.held[-1] if self.held else None
            where = (msg("el cambio está entre los eventos %(first)s y %(last)s (%(since)s aún vale)",
                         first=since[0] + 1, last=tree_size, since=since[1]) if since else
                     msg("el cambio está entre los eventos 1 y %(last)s", last=tree_size))
            self.problems.add(code + "_root", msg(
                "%(label)s no coincide con los eventos 1..%(size)s: la historia fue reescrita después de su "
                "firma; %(where)s", label=label, size=tree_size, where=where))

    def beyond(self, size: int) -> None:
        """Checkpoints larger than the history: events they signed are gone."""
        for tree_size, _root, code, label in self.pending:
            self.problems.add(code + "_beyond", msg(
                "%(label)s firmó %(size)s eventos, pero el registro solo tiene %(have)s: se borraron eventos",
                label=label, size=tree_size, have=size))
        self.pending = []


def _diagnose(row, stamp: str, leaf: bytes, last: tuple[int, bytes], chain: bytes, expected_seq: int,
              head_seq: int, problems: _Problems) -> tuple[bytes, bytes]:
    """The slow path, for an event some check failed on: say what, and give the (case chain, chain) to go on
    from: the stored ones, so the next event is judged on its own."""
    (event_id, seq, case_id, case_seq, _at, kind, *_columns, leaf_hex, case_chain_hex, chain_hex) = row
    where = {"event_id": event_id, "seq": seq, "case_id": case_id, "kind": kind}
    if seq < expected_seq:
        problems.add("inserted", msg("el n.º %(seq)s del registro está repetido (evento insertado)", seq=seq),
                     **where)
    elif seq > head_seq:
        problems.add("inserted", msg(
            "está más allá de la cabeza de la cadena (%(head)s eventos): insertado después", head=head_seq), **where)
    elif seq == expected_seq + 1:
        problems.add("deleted", msg("falta el n.º %(first)s del registro (borrado)", first=expected_seq), **where)
    elif seq > expected_seq:
        problems.add("deleted", msg("faltan los n.º %(first)s a %(last)s del registro (borrados)",
                                    first=expected_seq, last=seq - 1), **where)
    stored_leaf = leaf
    if leaf.hex() != leaf_hex:
        # looking for where it came from costs up to 400 hashes: only for a problem whose words are kept
        moved = _moved_from(row, stamp, leaf_hex) if problems.count < MAX_PROBLEMS else None
        problems.add("moved" if moved else "edited", msg(
            "fue movido: su hash de hoja se selló en el n.º %(other)s del registro (reordenado)", other=moved)
            if moved else msg("su contenido ya no coincide con su hash de hoja (editado)"), **where)
        stored_leaf = _bytes(leaf_hex) or leaf
    previous_case_seq, previous_case_chain = last
    case_link = canonical.case_link(previous_case_chain, stored_leaf)
    if case_seq != previous_case_seq + 1:
        if isinstance(case_seq, int) and case_seq > previous_case_seq:
            problems.add("case_deleted", msg(
                "en su expediente falta el n.º %(first)s (borrado): la cadena del expediente salta de %(before)s "
                "a %(after)s", first=previous_case_seq + 1, before=previous_case_seq, after=case_seq), **where)
        else:
            problems.add("case_order", msg(
                "su n.º %(case_seq)s en el expediente llega después del %(before)s (insertado o reordenado)",
                case_seq=case_seq, before=previous_case_seq), **where)
    elif case_link.hex() != case_chain_hex:
        problems.add("case_chain", msg("la cadena del expediente se rompe en su n.º %(case_seq)s",
                                       case_seq=case_seq), **where)
    link = canonical.log_link(chain, stored_leaf)
    if link.hex() != chain_hex:
        problems.add("chain", msg("la cadena global se rompe en este evento"), **where)
    return _bytes(case_chain_hex) or case_link, _bytes(chain_hex) or link


def _moved_from(row, stamp: str, stored_leaf: str) -> int | None:
    """The seq an event's stored leaf hash was sealed at, when the row was moved to another place nearby."""
    _id, seq, case_id, case_seq, _at, kind, element_id, task_id, actor, data_json, changes_json = row[:11]
    for distance in range(1, MOVED_WINDOW + 1):
        for other in (seq - distance, seq + distance):
            leaf = canonical.leaf_hash(canonical.entry(other, case_id, case_seq, stamp, kind, element_id, task_id,
                                                       actor, data_json, changes_json))
            if leaf.hex() == stored_leaf:
                return other
    return None


def _fold(stack: list[bytes]) -> bytes:
    """The Merkle root of the perfect subtrees in `stack` (largest first): RFC 6962's MTH of all their leaves."""
    if not stack:
        return EMPTY_ROOT
    root = stack[-1]
    for left in reversed(stack[:-1]):
        root = sha256(b"\x01" + left + root).digest()
    return root


def _check_events(conn, checkpoints: _Checkpoints, problems: _Problems, heads: dict, progress) -> tuple[int, int]:
    """The one pass over the events in seq order; (events, cases). Kept tight: the usual event costs one
    canonical entry, three hashes for leaf and chains, and one Merkle node on average; anything that
    disagrees goes to _diagnose."""
    dumps = orjson.dumps
    cases: dict[int, tuple[int, bytes]] = {}
    cases_get = cases.get
    genesis = (0, canonical.GENESIS)
    expected_seq, chain, count = 1, canonical.GENESIS, 0
    head_seq = heads.get("events", (0, None))[0]
    stack: list[bytes] = []  # the Merkle tree so far, as its perfect subtrees (merkle.CompactRange, inlined)
    push, pop = stack.append, stack.pop
    next_checkpoint = checkpoints.next_size()
    next_progress = PROGRESS_EVERY if progress is not None else -1
    if next_checkpoint == 0:
        checkpoints.check(0, EMPTY_ROOT)
        next_checkpoint = checkpoints.next_size()
    for row in _stream(conn, _EVENTS_SQL):
        (_id, seq, case_id, case_seq, at, kind, element_id, task_id, actor, data_json, changes_json,
         leaf_hex, case_chain_hex, chain_hex) = row
        stamp = f"{at[:10]}T{at[11:]}Z" if at.__class__ is str and len(at) == 26 else stamp_of(at)
        leaf = sha256(b"\x00" + dumps([1, seq, case_id, case_seq, stamp, kind, element_id, task_id, actor,
                                       data_json, changes_json])).digest()
        last = cases_get(case_id) or genesis
        case_link = sha256(b"case" + last[1] + leaf).digest()
        link = sha256(b"log" + chain + leaf).digest()
        if (seq != expected_seq or seq > head_seq or case_seq != last[0] + 1 or leaf.hex() != leaf_hex
                or case_link.hex() != case_chain_hex or link.hex() != chain_hex):
            case_link, link = _diagnose(row, stamp, leaf, last, chain, expected_seq, head_seq, problems)
            case_seq = case_seq if isinstance(case_seq, int) else last[0] + 1
        cases[case_id] = (case_seq, case_link)
        chain = link
        expected_seq = seq + 1
        push(leaf)
        count += 1
        merges = count
        while not merges & 1:
            right = pop()
            stack[-1] = sha256(b"\x01" + stack[-1] + right).digest()
            merges >>= 1
        if count == next_checkpoint:
            checkpoints.check(count, _fold(stack))
            next_checkpoint = checkpoints.next_size()
        if count == next_progress:
            progress(count, head_seq)
            next_progress += PROGRESS_EVERY
    _check_head(heads, expected_seq - 1, chain, problems)
    checkpoints.beyond(count)
    if progress is not None:
        progress(count, head_seq)
    return count, len(cases)


def _check_head(heads: dict, last_seq: int, chain: bytes, problems: _Problems) -> None:
    head = heads.get("events")
    if head is None:
        problems.add("head", msg("falta la cabeza de la cadena de eventos (audit_heads)"))
        return
    head_seq, head_chain = head
    if head_seq > last_seq:
        problems.add("deleted", msg(
            "la cabeza de la cadena dice %(head)s eventos, pero el registro termina en el n.º %(last)s: se "
            "borraron los últimos eventos", head=head_seq, last=last_seq))
    elif head_seq == last_seq and head_chain != chain.hex():
        problems.add("head", msg("la cabeza de la cadena de eventos no coincide con el último evento (alterada)"))


def _check_unsealed(conn, problems: _Problems) -> None:
    for event_id, case_id, kind in conn.exec_driver_sql(_UNSEALED_SQL):
        problems.add("inserted", msg("no tiene n.º en el registro: fue insertado fuera de la aplicación"),
                     event_id=event_id, case_id=case_id, kind=kind)


def _check_access(conn, heads: dict, problems: _Problems) -> int:
    """The access log's chain and head; the number of rows."""
    return _check_log(conn, heads, problems, _ACCESS_SQL, "access", lambda seq, actor, action, at: msg(
        "la fila %(seq)s del registro de accesos (%(actor)s, %(action)s, %(at)s)", seq=seq, actor=actor,
        action=action, at=at), msg("la cabeza del registro de accesos no coincide con su última fila (filas borradas "
                                   "o alteradas)"))


def _check_admin(conn, heads: dict, problems: _Problems) -> int:
    """The administration log's chain (engine/usecases/admin_log.py) and head; the number of rows."""
    return _check_log(conn, heads, problems, _ADMIN_SQL, "admin", lambda seq, actor, action, at: msg(
        "la fila %(seq)s del registro de administración (%(actor)s, %(action)s, %(at)s)", seq=seq, actor=actor,
        action=action, at=at), msg("la cabeza del registro de administración no coincide con su última fila (filas "
                                   "borradas o alteradas)"))


def _check_log(conn, heads: dict, problems: _Problems, sql: str, head_name: str, label_of, head_problem) -> int:
    """A log chained like the access log (canonical.access_entry) from its head in audit_heads: its problems are
    named "<head>_deleted", "<head>_edited" and "<head>_head"; the number of rows."""
    expected, chain, count = 1, canonical.GENESIS, 0
    for seq, at, actor, action, target, detail_json, chain_hex in _stream(conn, sql):
        count += 1
        label = label_of(seq, actor, action, stamp_of(at))
        if seq != expected:
            problems.add(f"{head_name}_deleted", msg("%(label)s: faltan filas antes de ella (borradas)", label=label)
                         if seq > expected else msg("%(label)s está repetida (insertada)", label=label))
        expected = seq + 1
        link = canonical.log_link(chain, canonical.leaf_hash(
            canonical.access_entry(seq, stamp_of(at), actor, action, target, detail_json)))
        if link.hex() != chain_hex:
            problems.add(f"{head_name}_edited", msg("%(label)s: su contenido ya no coincide con su cadena (editada)",
                                                    label=label))
            link = _bytes(chain_hex) or link
        chain = link
    head = heads.get(head_name)
    if head is None or head[0] != expected - 1 or head[1] != chain.hex():
        problems.add(f"{head_name}_head", head_problem)
    return count


def _stream(conn, sql: str):
    """Rows of a raw query, fetched in batches (a server-side cursor on PostgreSQL): never all at once."""
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="audit_verify")
        cursor.itersize = FETCH_ROWS
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(FETCH_ROWS)
            if not rows:
                break
            yield from rows
    finally:
        cursor.close()


def _name_cases(conn, problems: list[Problem]) -> None:
    """Put the case numbers into the problems' words: "Evento 57 (n.º 41 del registro, expediente EXP-..., ...)"."""
    ids = sorted({p.case_id for p in problems if p.case_id is not None})
    numbers = {}
    if ids:
        query = select(models.cases.c.id, models.cases.c.number).where(
            models.cases.c.id.in_(bindparam("ids", expanding=True)))
        numbers = dict(conn.execute(query, {"ids": ids}).all())
    for p in problems:
        if p.event_id is None:
            continue
        p.case_number = numbers.get(p.case_id)
        case = p.case_number or msg("desconocido (id %(id)s)", id=p.case_id)
        p.message = str(msg("Evento %(event)s (n.º %(seq)s del registro, expediente %(case)s, %(kind)s): %(what)s",
                            event=p.event_id, seq=p.seq if p.seq is not None else "—", case=case, kind=p.kind,
                            what=p.detail))


def _connection(source):
    """(connection, whether we opened it) for a Services, an Engine or a Connection."""
    if isinstance(source, Connection):
        return source, False
    engine = source if isinstance(source, Engine) else source.db
    conn = engine.connect()
    if conn.dialect.name == "postgresql":  # one snapshot for every table read, however long the pass takes
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn, True


def verify(source, public_key, *, external_notes=(), progress=None) -> Report:
    """Recompute the history's hashes, chains and checkpoint roots; a Report naming the first disagreement.

    `source` is the Services, an Engine or a Connection; `public_key` an Ed25519 public key (never one read from
    the database); `external_notes` checkpoint texts kept outside (printed, mailed) to check too; `progress`
    is called as progress(events_done, events_expected) now and then."""
    started = time.perf_counter()
    conn, owned = _connection(source)
    problems = _Problems()
    report = Report()
    try:
        with conn.begin() if owned else nullcontext():
            check_triggers(conn, problems)
            heads = {name: (seq, chain) for name, seq, chain in conn.exec_driver_sql(_HEADS_SQL)}
            rows = all_checkpoints(conn)
            checkpoints = _Checkpoints(rows, list(external_notes), public_key, problems)
            _check_unsealed(conn, problems)
            report.events, report.cases = _check_events(conn, checkpoints, problems, heads, progress)
            _check_access(conn, heads, problems)
            _check_admin(conn, heads, problems)
            _name_cases(conn, problems.kept)
        report.checkpoints = len(rows)
        report.last_checkpoint = rows[-1] if rows else None
        report.head_seq = heads.get("events", (0,))[0]
    finally:
        if owned:
            conn.close()
    report.problems, report.problem_count = problems.kept, problems.count
    report.ok = problems.count == 0
    report.duration_seconds = time.perf_counter() - started
    return report


def verify_checkpoint_text(conn, public_key, text: str) -> Report:
    """Check a checkpoint kept outside the database against it: its signature, and the root recomputed from the
    events at its size. The Report holds only what concerns that checkpoint (`verify` reports the rest)."""
    report = verify(conn, public_key, external_notes=[text])
    mine = [p for p in report.problems if p.what.startswith("external")]
    report.problems, report.problem_count, report.ok = mine, len(mine), not mine
    return report


def verify_and_record(svc, public_key, run_by: str | None, *, external_notes=(), progress=None) -> Report:
    """verify() and write the run into audit_verifications (what the auditor's pages show)."""
    started_at = svc.clock()
    report = verify(svc, public_key, external_notes=external_notes, progress=progress)
    with svc.uow() as uow:
        record_verification(uow.conn, started_at, svc.clock(), report.ok, report.events, report.checkpoints,
                            report.first_problem, run_by)
        uow.commit()
    return report
