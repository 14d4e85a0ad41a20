"""A case exported for audit: a ZIP that proves itself offline (layout: engine.audit.bundle).

Before anything is written a signed checkpoint must cover the case's last event (one is made when the latest does
not). The events' inclusion proofs and the consistency proofs are computed in one pass over the stored leaf hashes
1..latest tree size (engine.audit.proofs: the nodes they need, not the whole tree). The ZIP is written straight to
`out` with zipfile in streaming mode (data descriptors, no seeking), so `out` may be an unseekable pipe or HTTP
response; member contents are hashed as they are written and listed with their SHA-256 in manifest.json, which the
office key signs (manifest.sig). The export is then recorded in the access log ("audit.export").
"""
from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import orjson
from sqlalchemy import select

from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.audit import bundle, checkpoints, export_index, proofs
from engine.audit.access import log_access
from engine.errors import Conflict
from engine.integrity import canonical, keys
from engine.storage import documents, models

if TYPE_CHECKING:
    from engine.services import Services

_c, _v, _e = models.cases, models.process_versions, models.events
_a, _o = models.attachments, models.outbox
CHUNK_BYTES = 1 << 20
_CASE = (select(_c.c.id, _c.c.number, _c.c.process_key, _v.c.name.label("procedure"),
                _v.c.version.label("process_version"), _c.c.state, _c.c.version, _c.c.title, _c.c.applicant_name,
                _c.c.applicant_dpi, _c.c.municipality, _c.c.created_at, _c.c.updated_at, _c.c.completed_at,
                _c.c.created_by, _c.c.process_version_id)
         .join(_v, _v.c.id == _c.c.process_version_id))
_DOC_FIELDS = ("id", "kind", "number", "verification_code", "issued_at", "issued_by", "sha256", "size_bytes",
               "pages", "corrects_id", "signature")
_MAIL = (_o.c.id, _o.c.kind, _o.c.to_address, _o.c.subject, _o.c.status, _o.c.created_at, _o.c.sent_at,
         _o.c.document_id, _o.c.body)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # members carry no time of their own: the manifest holds the export's


class _Sink:
    """The caller's `out`, counting and hashing what passes (no tell/seek: zipfile then streams)."""

    def __init__(self, out):
        self.out, self.bytes, self.digest = out, 0, hashlib.sha256()

    def write(self, data) -> int:
        self.out.write(data)
        self.bytes += len(data)
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        if hasattr(self.out, "flush"):
            self.out.flush()


class _Writer:
    """Members written into the ZIP, each hashed for the manifest."""

    def __init__(self, sink: _Sink, progress: Callable[[int, int], None] | None = None, total: int = 0):
        self.zip = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self.files: dict[str, dict] = {}
        self.progress, self.total = progress, total

    def add(self, name: str, data: bytes) -> None:
        self.add_chunks(name, [data], len(data))

    def add_chunks(self, name: str, chunks, size: int) -> None:
        if name in self.files:
            raise ValueError(f"two members named {name}")
        info = zipfile.ZipInfo(name, _ZIP_TIME)
        info.compress_type, info.file_size = zipfile.ZIP_DEFLATED, size
        digest, written = hashlib.sha256(), 0
        with self.zip.open(info, "w", force_zip64=size > zipfile.ZIP64_LIMIT) as member:
            for chunk in chunks:
                member.write(chunk)
                digest.update(chunk)
                written += len(chunk)
        self.files[name] = {"sha256": digest.hexdigest(), "bytes": written}
        if self.progress is not None:
            self.progress(len(self.files), self.total)


def _file_chunks(path):
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _json(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


def _event_record(row) -> dict:
    record = {name: row[name] for name in bundle.EVENT_FIELDS}
    record["at"] = canonical.timestamp(row["at"])
    return record


def _covering_checkpoint(svc: Services, actor: str, last_seq: int) -> None:
    """Make sure a signed checkpoint holds event `last_seq`."""
    with svc.uow(write=False) as uow:
        latest = checkpoints.latest(uow.conn)
    if latest is None or latest["tree_size"] < last_seq:
        checkpoints.create_checkpoint(svc, actor)


def _read_case(svc: Services, principal: Principal, case_id: int) -> tuple[dict, list[dict]]:
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        case = dict(uow.conn.execute(_CASE.where(_c.c.id == case_id)).mappings().one())
        events = [dict(r) for r in uow.conn.execute(select(_e).where(_e.c.case_id == case_id)
                                                     .order_by(_e.c.case_seq)).mappings()]
    return case, events


def _proofs(conn, events: list[dict]) -> tuple[dict, list[dict], list[list[bytes]], list[list[bytes]]]:
    """The latest checkpoint, the chain of checkpoints from the first holding the case's first event, each
    event's inclusion proof against the latest, and the consistency proofs between consecutive checkpoints."""
    first_seq = min(e["seq"] for e in events)
    chain = [cp for cp in checkpoints.all_checkpoints(conn) if cp["tree_size"] >= first_seq]
    chain.sort(key=lambda cp: (cp["tree_size"], cp["id"]))
    latest = chain[-1]
    root, inclusion, consistency = proofs.proofs(
        checkpoints.leaf_hashes(conn, latest["tree_size"]), latest["tree_size"], [e["seq"] - 1 for e in events],
        [(a["tree_size"], b["tree_size"]) for a, b in zip(chain, chain[1:])])
    if root.hex() != latest["root_hash"]:  # its proofs would fail offline: say so now, where it can be looked into
        raise Conflict("El historial ya no coincide con el último punto de control firmado; ejecute "
                       "«expediente audit verify».", tree_size=latest["tree_size"])
    return latest, chain, inclusion, consistency


def _diagrams(conn, case: dict) -> list[tuple[str, dict]]:
    """(folder, {file: XML}) of every process version the case ran on."""
    rows = conn.execute(select(_v.c.process_key, _v.c.version, _v.c.files_json)
                        .where(_v.c.id == case["process_version_id"])).all()
    return [(f"{bundle.DIAGRAMS}{bundle.safe_name(f'{r.process_key}-v{r.version}')}/", orjson.loads(r.files_json))
            for r in rows]


def _document_name(d: dict) -> str:
    return f"{bundle.DOCUMENTS}{bundle.safe_name(d['number'] or 'documento-' + str(d['id']))}.pdf"


def _attachment_name(a: dict) -> str:
    return f"{bundle.ATTACHMENTS}{a['id']}-{bundle.safe_name(a['filename'])}"


@dataclass
class _Gathered:
    """Everything one export writes, read from the database before the first byte goes out."""
    case: dict
    records: list[dict]
    latest: dict
    chain: list[dict]
    consistency: list[list[bytes]]
    docs: list[dict]
    attached: list[dict]
    paths: dict[int, Path]
    diagrams: list[tuple[str, dict]]
    index: dict

    @property
    def members(self) -> int:
        return 8 + len(self.chain) + len(self.docs) + len(self.attached) + sum(len(f) for _, f in self.diagrams)


def _attachment_paths(store, attached: list[dict]) -> dict[int, Path]:
    """Where each attachment's bytes are; a missing file refuses the export before its first byte is sent."""
    paths = {a["id"]: store.path(a.pop("stored_name")) for a in attached}
    for a in attached:
        if not paths[a["id"]].is_file():
            raise Conflict(f"Falta el archivo del anexo {a['id']} ({a['filename']}); no se puede exportar el "
                           "expediente completo.", attachment_id=a["id"])
    return paths


def _gather(svc: Services, principal: Principal, store, case_id: int) -> _Gathered:
    case, events = _read_case(svc, principal, case_id)
    _covering_checkpoint(svc, principal.username, max(e["seq"] for e in events))
    with svc.uow(write=False) as uow:
        conn = uow.conn
        latest, chain, inclusion, consistency = _proofs(conn, events)
        docs = [{k: d[k] for k in _DOC_FIELDS} for d in documents.documents_of_case(conn, case_id)]
        attached = [dict(r) for r in conn.execute(select(_a).where(_a.c.case_id == case_id).order_by(_a.c.id))
                    .mappings()]
        mail = [dict(r) for r in conn.execute(select(*_MAIL).where(_o.c.case_id == case_id).order_by(_o.c.id))
                .mappings()]
        diagrams = _diagrams(conn, case)
    for d in docs:
        d["file"] = _document_name(d)
    for a in attached:
        a["file"] = _attachment_name(a)
    paths = _attachment_paths(store, attached)
    case.pop("process_version_id")
    records = [_event_record(e) | {"inclusion_proof": [h.hex() for h in proof]}
               for e, proof in zip(events, inclusion)]
    index = export_index.build_index(case, records, docs, attached, mail,
                                     [{"folder": folder, "files": sorted(files)} for folder, files in diagrams])
    return _Gathered(case, records, latest, chain, consistency, docs, attached, paths, diagrams, index)


def _write_members(svc: Services, writer: _Writer, g: _Gathered, now: datetime) -> None:
    """Every member but the README and the manifest."""
    writer.add(bundle.EVENTS, _json({
        "format": bundle.FORMAT, "case_id": g.case["id"], "case_number": g.case["number"],
        "checkpoint": {"file": bundle.checkpoint_name(len(g.chain) - 1), "tree_size": g.latest["tree_size"],
                       "root_hash": g.latest["root_hash"]},
        "events": g.records}))
    for position, cp in enumerate(g.chain):
        writer.add(bundle.checkpoint_name(position), cp["note"].encode("utf-8"))
    writer.add(bundle.CONSISTENCY, _json({
        "checkpoints": [bundle.checkpoint_name(i) for i in range(len(g.chain))],
        "proofs": [{"old_size": a["tree_size"], "new_size": b["tree_size"], "proof": [h.hex() for h in proof]}
                   for a, b, proof in zip(g.chain, g.chain[1:], g.consistency)]}))
    writer.add(bundle.INDEX_JSON, _json(g.index))
    writer.add(bundle.INDEX_CSV, export_index.index_csv(g.index))
    for folder, files in g.diagrams:
        for name, xml in sorted(files.items()):
            writer.add(folder + bundle.safe_name(name), xml.encode("utf-8"))
    for d in g.docs:
        with svc.uow(write=False) as uow:  # one document's bytes at a time
            content = documents.document_content(uow.conn, d["id"])
        writer.add(d["file"], content)
    for a in g.attached:
        path = g.paths[a["id"]]
        writer.add_chunks(a["file"], _file_chunks(path), path.stat().st_size)
    writer.add(bundle.INDEX_PDF, export_index.index_pdf(g.index, now))  # the slowest member: the stream is under way


@use_case("audit.export")
def export_case(svc: Services, principal: Principal, store, case_id: int, out,
                progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the case's audit export (a ZIP, engine.audit.bundle) to the binary file object `out`, which need not
    be seekable; {filename, bytes, sha256, events, documents, attachments}. `store` is the AttachmentStore the
    attachments' bytes are read from; `progress(done, total)` is called after each member is written."""
    private = keys.office_key(svc.settings)
    g = _gather(svc, principal, store, case_id)
    now: datetime = svc.clock()
    sink = _Sink(out)
    writer = _Writer(sink, progress, g.members)
    _write_members(svc, writer, g, now)
    kid = keys.key_id(private.public_key())
    writer.add(bundle.README, export_index.readme(g.case["number"], kid, now))
    manifest = _json({"format": bundle.FORMAT, "case_id": case_id, "case_number": g.case["number"], "key_id": kid,
                      "exported_at": canonical.timestamp(now), "exported_by": principal.username,
                      "files": dict(sorted(writer.files.items()))})
    writer.add(bundle.MANIFEST, manifest)
    writer.add(bundle.SIGNATURE, base64.b64encode(keys.sign(private, manifest)) + b"\n")
    writer.zip.close()
    sink.flush()
    result = {"filename": f"auditoria-{bundle.safe_name(g.case['number'])}.zip", "bytes": sink.bytes,
              "sha256": sink.digest.hexdigest(), "events": len(g.records), "documents": len(g.docs),
              "attachments": len(g.attached)}
    log_access(svc, principal.username, "audit.export", g.case["number"],
               {"case_id": case_id, "checkpoint": g.latest["tree_size"],
                **{k: result[k] for k in ("bytes", "sha256", "events", "documents", "attachments")}})
    return result
