"""The administration log: who changed which account, group, lane mapping or closure day, and when. One row per
change, written in the change's own transaction (record), chained like the access log (head "admin" in
audit_heads, canonical.access_entry) and append-only in the database (migration 0019_admin_log)."""
from __future__ import annotations

import orjson
from sqlalchemy import or_, select

from engine.accounts.permissions import Principal, use_case
from engine.storage import admin_rows, models
from engine.usecases.paging import page_window

_log = models.admin_log


def record(conn, *, actor: str | None, action: str, target: str, detail: dict | None, at) -> None:
    """Append one row in the caller's transaction (it commits or rolls back with the change it records)."""
    admin_rows.append(conn, actor=actor, action=action, target=target, detail=detail, at=at)


@use_case("admin_log.read")
def list_admin_log(svc, principal: Principal, *, action: str | None = None, actor: str | None = None,
                   page: int = 1, per_page: int = 50) -> dict:
    """A page of the log, newest first; `action` matches exactly or by its prefix ("user" or "user."), `actor`
    exactly. {"items": [...], "page", "per_page", "has_next"}."""
    page, per_page = page_window(page, per_page)
    conditions = []
    if action:
        prefix = action.rstrip(".")
        conditions.append(or_(_log.c.action == prefix, _log.c.action.startswith(prefix + ".", autoescape=True)))
    if actor:
        conditions.append(_log.c.actor == actor)
    query = (select(_log.c.seq, _log.c.at, _log.c.actor, _log.c.action, _log.c.target, _log.c.detail_json)
             .where(*conditions).order_by(_log.c.seq.desc())
             .limit(per_page + 1).offset((page - 1) * per_page))
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(query).mappings().all()
    items = [{"seq": r["seq"], "at": r["at"], "actor": r["actor"], "action": r["action"], "target": r["target"],
              "detail": orjson.loads(r["detail_json"]) if r["detail_json"] else None} for r in rows[:per_page]]
    return {"items": items, "page": page, "per_page": per_page, "has_next": len(rows) > per_page}


@use_case("admin_log.read")
def admin_log_actions(svc, principal: Principal) -> list[str]:
    """The actions the log holds, for the page's filter."""
    with svc.uow(write=False) as uow:
        return list(uow.conn.execute(select(_log.c.action).group_by(_log.c.action).order_by(_log.c.action))
                    .scalars())
