"""Signed checkpoints of the events' Merkle tree, as short texts an outside party can keep.

A checkpoint is a signed note (the shape of C2SP's tlog-checkpoint, as Go's checksum database and Sigstore use):

    expediente/gobernacion-chimaltenango/eventos
    <tree size>
    <root hash, base64>
    <created at, UTC "YYYY-MM-DDTHH:MM:SSZ">

    — expediente <key id> <base64 Ed25519 signature of the four lines above, each ending in "\n">

The root is RFC 6962's MTH over the leaf hashes of events 1..tree size in sequence order (engine.integrity.merkle).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select

from engine.integrity import keys, merkle
from engine.storage import models

ORIGIN = "expediente/gobernacion-chimaltenango/eventos"
SIGNER = "expediente"
_DASH = "\u2014"
_cp = models.audit_checkpoints
_events = models.events
_heads = models.audit_heads


class NoteError(ValueError):
    """A checkpoint text that is malformed or whose signature does not hold."""


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root: bytes
    created_at: datetime
    key_id: str
    signature: bytes
    note: str

    @property
    def body(self) -> bytes:
        return _body(self.tree_size, self.root, self.created_at)


def _stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(tree_size: int, root: bytes, created_at: datetime) -> bytes:
    return f"{ORIGIN}\n{tree_size}\n{base64.b64encode(root).decode()}\n{_stamp(created_at)}\n".encode()


def sign_note(private, tree_size: int, root: bytes, created_at: datetime) -> Checkpoint:
    created_at = created_at.astimezone(timezone.utc).replace(microsecond=0)
    body = _body(tree_size, root, created_at)
    signature = keys.sign(private, body)
    kid = keys.key_id(private.public_key())
    note = body.decode() + f"\n{_DASH} {SIGNER} {kid} {base64.b64encode(signature).decode()}\n"
    return Checkpoint(tree_size, root, created_at, kid, signature, note)


def parse_note(text: str) -> Checkpoint:
    """A checkpoint from its text (signature not checked: verify_note does). NoteError when malformed."""
    text = text.replace("\r\n", "\n")
    try:
        body, sigs = text.split("\n\n", 1)
        origin, size, root_b64, stamp = body.split("\n")
        if origin != ORIGIN:
            raise NoteError(f"the note is not of this log (origin {origin!r})")
        line = sigs.strip().split("\n")[0]
        dash, signer, kid, sig_b64 = line.split(" ")
        if dash != _DASH or signer != SIGNER:
            raise NoteError("the note's signature line is not the office's")
        tree_size = int(size)
        if tree_size < 0 or str(tree_size) != size:
            raise NoteError(f"bad tree size {size!r}")
        root = base64.b64decode(root_b64, validate=True)
        signature = base64.b64decode(sig_b64, validate=True)
        created_at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except NoteError:
        raise
    except (ValueError, TypeError) as exc:
        raise NoteError(f"not a checkpoint note: {exc}") from exc
    if len(root) != 32 or len(signature) != 64:
        raise NoteError("the note's root or signature has the wrong length")
    note = f"{body}\n\n{line}\n"
    return Checkpoint(tree_size, root, created_at, kid, signature, note)


def verify_note(text_or_checkpoint, public) -> Checkpoint:
    """The checkpoint, if its signature holds under `public`; NoteError otherwise."""
    cp = parse_note(text_or_checkpoint) if isinstance(text_or_checkpoint, str) else text_or_checkpoint
    if cp.key_id != keys.key_id(public):
        raise NoteError(f"the checkpoint was signed with key {cp.key_id}, not with {keys.key_id(public)}")
    if not keys.verify(public, cp.signature, cp.body):
        raise NoteError(f"the signature of the checkpoint of {cp.tree_size} events does not hold")
    return cp


def leaf_hashes(conn, upto: int, start: int = 1):
    """The stored leaf hashes of events start..upto, in sequence order (bytes), streamed."""
    rows = conn.execute(select(_events.c.leaf_hash).where(_events.c.seq >= start, _events.c.seq <= upto)
                        .order_by(_events.c.seq).execution_options(yield_per=10_000))
    for (leaf,) in rows:
        yield bytes.fromhex(leaf)


def head_size(conn) -> int:
    return conn.execute(select(_heads.c.seq).where(_heads.c.name == "events")).scalar_one()


def latest(conn) -> dict | None:
    row = conn.execute(select(_cp).order_by(_cp.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def all_checkpoints(conn) -> list[dict]:
    return [dict(r) for r in conn.execute(select(_cp).order_by(_cp.c.id)).mappings()]


def create_checkpoint(svc, actor: str | None = None, *, force: bool = False) -> dict:
    """Sign the tree of every event committed so far and store the checkpoint; the latest one when nothing was
    added since it (unless `force`). The tree is computed outside the write transaction, so writers never wait
    for it: events past the head read are simply left for the next checkpoint."""
    private = keys.office_key(svc.settings)
    with svc.uow(write=False) as uow:
        size = head_size(uow.conn)
        last = latest(uow.conn)
        if last is not None and last["tree_size"] == size and not force:
            return last
        tree = merkle.CompactRange()
        for leaf in leaf_hashes(uow.conn, size):
            tree.append(leaf)
    if tree.size != size:
        raise RuntimeError(f"the events table holds {tree.size} sealed events where its head says {size}")
    cp = sign_note(private, size, tree.root(), svc.clock())
    values = {"tree_size": size, "root_hash": cp.root.hex(), "created_at": cp.created_at, "created_by": actor,
              "key_id": cp.key_id, "note": cp.note}
    with svc.uow() as uow:
        values["id"] = uow.conn.execute(insert(_cp), values).inserted_primary_key[0]
        uow.commit()
    return values
