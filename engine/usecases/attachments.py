"""Files attached to a case: type checked by content, size limited, stored under generated names; only for
those who may see the case."""
from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select

from engine.documents.casefile import content_pages
from engine.storage import models
from engine.config import PROJECT_ROOT
from engine.errors import Conflict, InvalidInput, NotFound
from engine.storage.persistence import append_events, event_row, require_case
from engine.accounts.permissions import Principal, check_case_visible, use_case

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

DEFAULT_DIRECTORY = PROJECT_ROOT / "var" / "attachments"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
MAX_FILENAME_CHARS = 200
# Accepted types by their first bytes (a name or a declared Content-Type proves nothing).
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z]{3}$")
# Characters no file system or download header should see in a name.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_a = models.attachments


class AttachmentTooLarge(InvalidInput):
    code = "attachment_too_large"


class AttachmentRefused(InvalidInput):
    """The content is not one of the accepted types."""

    code = "attachment_type_refused"


@dataclass(frozen=True)
class AttachmentStore:
    """Where the bytes go and how big one file may be."""

    directory: Path = DEFAULT_DIRECTORY
    max_bytes: int = DEFAULT_MAX_BYTES

    def path(self, stored_name: str) -> Path:
        if not _STORED_NAME.match(stored_name):
            raise NotFound("attachment file missing")
        return Path(self.directory) / stored_name[:2] / stored_name


def detect_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes, or None if not accepted."""
    for magic, content_type, ext in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def clean_filename(name: str | None) -> str:
    """The uploaded name made safe to show and to offer back as a download name."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = _UNSAFE.sub("", base).strip(" .")
    if len(base) > MAX_FILENAME_CHARS:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_FILENAME_CHARS - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 \
            else base[:MAX_FILENAME_CHARS]
    return base or "adjunto"


@use_case("attachment.add")
def add_attachment(svc: Services, principal: Principal, store: AttachmentStore, case_id: int, filename: str | None,
                   stream) -> dict:
    """Store an uploaded file for a case the principal may see and record it in the case's history."""
    with svc.uow(write=False) as uow:  # refuse before reading the upload; checked again when it is recorded
        check_case_visible(uow.conn, principal, case_id)
    stored = store_upload(store, filename, stream)
    try:
        with svc.uow() as uow:
            check_case_visible(uow.conn, principal, case_id)
            row = record_attachment(uow.conn, case_id, stored, principal.username, svc.clock())
            uow.commit()
        return row
    except BaseException:
        discard_upload(store, stored)  # the row was not written: leave no orphan file behind
        raise


def store_upload(store: AttachmentStore, filename: str | None, stream) -> dict:
    """Write an uploaded stream to the store under a generated name, refusing one larger than the store allows
    (AttachmentTooLarge) or not a PDF, PNG or JPEG by its content (AttachmentRefused); nothing is left behind
    when refused. Returns what a case's attachment row records: filename, stored_name, content_type,
    size_bytes, sha256, pages."""
    tmp = Path(store.directory) / f".upload-{uuid.uuid4().hex}"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(tmp, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > store.max_bytes:
                    raise AttachmentTooLarge(
                        f"El archivo supera el límite de {store.max_bytes // (1024 * 1024)} MiB.",
                        errors=[{"field": "file", "message": f"más de {store.max_bytes} bytes"}])
                head = head if len(head) >= 16 else (head + chunk)[:16]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        detected = detect_type(head)
        if detected is None:
            raise AttachmentRefused("Solo se aceptan archivos PDF, PNG o JPEG.",
                                    errors=[{"field": "file", "message": "tipo de archivo no permitido"}])
        content_type, ext = detected
        pages = content_pages(tmp, content_type)  # before any write transaction: pypdf reads the whole file
        stored_name = uuid.uuid4().hex + ext
        final = store.path(stored_name)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return {"filename": clean_filename(filename), "stored_name": stored_name, "content_type": content_type,
            "size_bytes": size, "sha256": digest.hexdigest(), "pages": pages}


def discard_upload(store: AttachmentStore, stored: dict) -> None:
    """Remove a stored upload no row refers to."""
    store.path(stored["stored_name"]).unlink(missing_ok=True)


def record_attachment(conn, case_id: int, stored: dict, actor: str | None, now) -> dict:
    """Unchecked: record a stored upload (store_upload's answer) as the case's attachment, with its event, in the
    caller's transaction (a use case that already checked its reach). A cancelled case admits none (Conflict)."""
    case = require_case(conn, case_id)
    if case.state == "cancelled":
        raise Conflict("El expediente está anulado; no admite adjuntos.", state=case.state)
    row = {"case_id": case_id, **{k: stored[k] for k in _STORED_FIELDS}, "uploaded_by": actor, "uploaded_at": now}
    row["id"] = conn.execute(insert(_a).values(**row)).inserted_primary_key[0]
    append_events(conn, [event_row(case_id, now, "attachment_added", actor=actor, data={
        "attachment_id": row["id"], "filename": row["filename"], "content_type": row["content_type"],
        "size_bytes": row["size_bytes"], "sha256": row["sha256"]})])
    return row


_STORED_FIELDS = ("filename", "stored_name", "content_type", "size_bytes", "sha256", "pages")


@use_case("attachment.read")
def list_attachments(svc: Services, principal: Principal, case_id: int) -> list[dict]:
    """A case's attachments, oldest first."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        return attachments_of(uow.conn, case_id)


def attachments_of(conn, case_id: int) -> list[dict]:
    """Unchecked: a case's attachments, inside the unit of work of a use case that already checked its reach."""
    return [dict(r) for r in conn.execute(select(_a).where(_a.c.case_id == case_id).order_by(_a.c.id)).mappings()]


@use_case("attachment.read")
def get_attachment(svc: Services, principal: Principal, attachment_id: int) -> dict:
    """One attachment's row (also what its download serves), if the principal may see its case."""
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(select(_a).where(_a.c.id == attachment_id)).mappings().first()
        if row is None:
            raise NotFound(f"attachment {attachment_id} does not exist", attachment_id=attachment_id)
        check_case_visible(uow.conn, principal, row["case_id"])
    return dict(row)
