"""The lane→group table (which group works each BPMN lane), and the `lanes.json` files that travel with the diagrams."""
from __future__ import annotations

from typing import TYPE_CHECKING

import json
from pathlib import Path

from sqlalchemy import select

from engine.errors import InvalidInput
from engine.storage import models
from engine.accounts.permissions import Principal, use_case
from engine.accounts.users import store_lane
from engine.messages import msg
from engine.usecases.admin_log import record

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

LANES_FILE = "lanes.json"


def read_lane_files(paths) -> list[dict[str, dict]]:
    """The lanes.json tables ({process_key or "*": {lane: group}}) found in the given directories."""
    tables = []
    for raw in paths:
        path = Path(raw)
        candidate = path / LANES_FILE if path.is_dir() else None
        if candidate is None or not candidate.exists():
            continue
        try:
            tables.append(json.loads(candidate.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{candidate}: not valid JSON ({exc})")
    return tables


def lane_table(paths) -> dict[str, dict]:
    """The lanes.json tables of read_lane_files merged into one."""
    merged: dict[str, dict] = {}
    for table in read_lane_files(paths):
        for process_key, lanes in table.items():
            merged.setdefault(process_key, {}).update(lanes)
    return merged


def apply_lane_files(svc: Services, paths, actor: str | None = None) -> list[tuple[str, str]]:
    """Apply every lanes.json found in the given directories: {process_key or "*": {lane: group}}; a row that
    changes the table is in the administration log (by `actor`, None: the system)."""
    applied = []
    for table in read_lane_files(paths):
        for process_key, lanes in table.items():
            for lane, group in lanes.items():
                with svc.uow() as uow:
                    _store_and_log(uow.conn, svc.clock(), actor, lane, group, process_key)
                    uow.commit()
                applied.append((lane, group))
    return applied



@use_case("user.read")
def list_lanes(svc: Services, principal: Principal) -> list[dict]:
    """The lane→group table."""
    lg, _g = models.lane_groups, models.groups
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(
            select(lg.c.process_key, lg.c.lane, _g.c.name.label("group")).join(_g, _g.c.id == lg.c.group_id)
            .order_by(lg.c.process_key, lg.c.lane)).mappings()]


@use_case("user.manage")
def set_lane(svc: Services, principal: Principal, lane: str, group: str, process_key: str = "*") -> dict:
    """Say which group works a lane (creating the group if needed); tasks created from now on go to it."""
    lane, group, process_key = (lane or "").strip(), (group or "").strip(), (process_key or "*").strip()
    errors = [{"field": field} for field, value, most in (("lane", lane, 100), ("group", group, 64),
                                                          ("process_key", process_key, 100))
              if not 1 <= len(value) <= most]
    if errors:
        raise InvalidInput(msg("Revise los campos: %(fields)s", fields=", ".join(e["field"] for e in errors)),
                           errors=errors)
    with svc.uow() as uow:
        _store_and_log(uow.conn, svc.clock(), principal.username, lane, group, process_key)
        uow.commit()
    return {"process_key": process_key, "lane": lane, "group": group}


def _store_and_log(conn, now, actor: str | None, lane: str, group: str, process_key: str) -> None:
    """Map the lane in the caller's transaction and log it when the group it names is new for the lane."""
    lg, _g = models.lane_groups, models.groups
    previous = conn.execute(select(_g.c.name).join(lg, lg.c.group_id == _g.c.id).where(
        lg.c.process_key == process_key, lg.c.lane == lane)).scalar()
    store_lane(conn, lane, group, process_key)
    if previous != group:
        record(conn, actor=actor, action="lane.set", target=f"{process_key} / {lane}",
               detail={"process_key": process_key, "lane": lane, "group": group, "previous": previous}, at=now)
