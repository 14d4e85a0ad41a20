"""The auditor's desk beside the search and the case record (engine/usecases/audit.py): the integrity status, the
office's public key, the signed checkpoints (listing them, signing one now) and the access log of who viewed and
exported what, the integrity page's overview (with the recent verification runs) and what the public verification
page publishes (the latest checkpoint and the key). Each checks the role (audit.read, audit.checkpoint) in its own unit of work; reading the access
log is itself logged, like every other look at the record."""
from __future__ import annotations

from datetime import date, timedelta

import orjson
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from engine.audit import checkpoints as cps
from engine.audit.access import record_access
from engine.audit.status import integrity_status
from engine.accounts.permissions import Principal, use_case
from engine.errors import NotFound
from engine.integrity import keys
from engine.messages import msg
from engine.storage import models
from engine.timekeeping.calendar import office_midnight

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

ACCESS_LOG_MAX_PAGE = 500
_log = models.access_log


class CheckpointNotFound(NotFound):
    code = "checkpoint_not_found"


@use_case("audit.read")
def desk_status(svc, principal: Principal) -> dict:
    """The last verification, the last signed checkpoint and the number of sealed events."""
    with svc.uow(write=False) as uow:
        return integrity_status(uow.conn)


@use_case("audit.read")
def office_public_key(svc, principal: Principal) -> dict:
    """The public half of the office key that signs checkpoints and exports: key id, one-line text and PEM."""
    public = keys.office_key(svc.settings).public_key()
    return {"key_id": keys.key_id(public), "public_key": keys.public_text(public), "pem": keys.public_pem(public)}


@use_case("audit.read")
def list_checkpoints(svc, principal: Principal) -> list[dict]:
    """Every signed checkpoint, the oldest first."""
    with svc.uow(write=False) as uow:
        return cps.all_checkpoints(uow.conn)


@use_case("audit.read")
def latest_checkpoint(svc, principal: Principal) -> dict:
    """The newest signed checkpoint; CheckpointNotFound before the first one is signed."""
    with svc.uow(write=False) as uow:
        row = cps.latest(uow.conn)
    if row is None:
        raise CheckpointNotFound(msg("Todavía no se ha firmado ningún punto de control."))
    return row


@use_case("audit.checkpoint")
def sign_checkpoint(svc, principal: Principal) -> tuple[dict, bool]:
    """Sign the tree of every event so far now: (the checkpoint, True); (the latest, False) when no event came
    since it."""
    with svc.uow(write=False) as uow:
        before = cps.latest(uow.conn)
    row = cps.create_checkpoint(svc, principal.username)
    return row, before is None or row["id"] != before["id"]


@use_case("audit.read")
def access_log(svc, principal: Principal, actor: str | None = None, action: str | None = None,
               date_from: date | None = None, date_to: date | None = None, before: int | None = None,
               limit: int = 50) -> dict:
    """A page of the access log, the newest first: {"items", "next_before"} (pass next_before as `before` for the
    next page; None after the last). Days are office days, both inclusive. The look itself is logged."""
    limit = max(1, min(limit, ACCESS_LOG_MAX_PAGE))
    query = select(_log).order_by(_log.c.seq.desc()).limit(limit + 1)
    for column, value in ((_log.c.actor, actor), (_log.c.action, action)):
        if value is not None:
            query = query.where(column == value)
    if date_from is not None:
        query = query.where(_log.c.at >= office_midnight(date_from))
    if date_to is not None and date_to < date.max:
        query = query.where(_log.c.at < office_midnight(date_to + timedelta(days=1)))
    if before is not None:
        query = query.where(_log.c.seq < before)
    filters = {k: v for k, v in (("actor", actor), ("action", action), ("date_from", date_from),
                                 ("date_to", date_to), ("before", before)) if v is not None}
    with svc.uow() as uow:
        rows = [_access_row(r) for r in uow.conn.execute(query).mappings()]
        record_access(uow.conn, svc.clock(), principal.username, "audit.access_log", None,
                      {k: str(v) for k, v in filters.items()} or None)
        uow.commit()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_before": rows[-1]["seq"] if more else None}


def _access_row(row) -> dict:
    item = {k: v for k, v in row.items() if k != "detail_json"}
    item["detail"] = orjson.loads(row["detail_json"]) if row["detail_json"] else None
    return item


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
        latest = cps.latest(uow.conn)
    if latest is None:
        return None
    path = keys.key_path(svc.settings)
    public = keys.load_or_create(path).public_key() if path.exists() else None
    return {"note": latest["note"], "tree_size": latest["tree_size"], "created_at": latest["created_at"],
            "public_key": keys.public_text(public) if public else None,
            "key_id": keys.key_id(public) if public else latest["key_id"]}
