"""What the auditor's integrity page shows (the status, the recent verification runs, the office's public key), and
what the public verification page publishes of it: the latest signed checkpoint and the key that verifies it.

Signing a checkpoint, listing them and reading the access log are engine/usecases/audit_desk.py's."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from engine.accounts.permissions import Principal, use_case
from engine.audit import checkpoints
from engine.audit.status import integrity_status
from engine.integrity import keys
from engine.storage import models

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

RECENT_RUNS = 10
_ver, _cp = models.audit_verifications, models.audit_checkpoints


@use_case("audit.read")
def integrity_overview(svc: Services, principal: Principal) -> dict:
    """integrity_status, plus the recent verification runs (newest first), how many checkpoints were signed and
    the office's public key ("ed25519 <base64>") with its key id."""
    public = keys.office_key(svc.settings).public_key()
    with svc.uow(write=False) as uow:
        conn = uow.conn
        status = integrity_status(conn)
        runs = [dict(r) for r in conn.execute(select(_ver).order_by(_ver.c.id.desc()).limit(RECENT_RUNS)).mappings()]
        signed = conn.execute(select(func.count()).select_from(_cp)).scalar_one()
    return {**status, "verifications": runs, "checkpoints": signed, "public_key": keys.public_text(public),
            "key_id": keys.key_id(public)}


def published_checkpoint(svc: Services) -> dict | None:
    """For anyone (the public verification page): the latest signed checkpoint's note, size and time, and the
    office's public key; None before the first checkpoint. The key file is only read, never created here."""
    with svc.uow(write=False) as uow:
        latest = checkpoints.latest(uow.conn)
    if latest is None:
        return None
    path = keys.key_path(svc.settings)
    public = keys.load_or_create(path).public_key() if path.exists() else None
    return {"note": latest["note"], "tree_size": latest["tree_size"], "created_at": latest["created_at"],
            "public_key": keys.public_text(public) if public else None,
            "key_id": keys.key_id(public) if public else latest["key_id"]}
