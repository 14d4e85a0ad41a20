"""Accounts, groups and the lane→group table."""
from __future__ import annotations

from typing import TYPE_CHECKING

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update

from engine.accounts import login_throttle
from engine.accounts.permissions import Principal, use_case
from engine.storage import admin_rows, models
from engine.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

ROLES = ("clerk", "supervisor", "auditor", "admin")
_u, _g, _ug = models.users, models.groups, models.user_groups
_hasher = PasswordHasher()
_users = models.users
_groups = models.groups


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def random_password() -> str:
    return secrets.token_urlsafe(12)


def ensure_group(conn, name: str, description: str = "") -> int:
    gid = conn.execute(select(_groups.c.id).where(_groups.c.name == name)).scalar()
    if gid is None:
        gid = conn.execute(insert(_groups).values(name=name, description=description)).inserted_primary_key[0]
    return gid


def add_user(svc: Services, username: str, role: str, password: str, *, display_name: str | None = None,
             email: str | None = None, groups: list[str] = (), replace: bool = False) -> int:
    """Create (or with `replace`, reset) an account with its groups; a reset ends the account's sessions.

    For seeding (the CLI's demo users, tests); requests create accounts through create_user.
    """
    with svc.uow() as uow:
        uid = _store_user(uow.conn, svc.clock(), username, role, password, display_name=display_name, email=email,
                          groups=groups, replace=replace)
        uow.commit()
    return uid


@use_case("user.manage")
def create_user(svc: Services, principal: Principal, username: str, role: str, password: str, *,
                display_name: str | None = None, email: str | None = None, groups: list[str] = ()) -> dict:
    """Create an account with its groups; return it as the list of users shows it."""
    with svc.uow() as uow:
        _store_user(uow.conn, svc.clock(), username, role, password, display_name=display_name, email=email,
                    groups=sorted(set(groups)), replace=False)
        created = account(uow.conn, username)
        admin_rows.append(uow.conn, actor=principal.username, action="user.create", target=username, at=svc.clock(),
                          detail={"role": role, "display_name": created["display_name"], "email": email,
                                  "groups": created["groups"]})
        uow.commit()
    return created


def _store_user(conn, now, username: str, role: str, password: str, *, display_name: str | None, email: str | None,
                groups, replace: bool) -> int:
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", errors=[{"field": "role", "message": f"one of {ROLES}"}])
    if not username or len(username) > 64:
        raise InvalidInput("username must have 1 to 64 characters", errors=[{"field": "username"}])
    uid = conn.execute(select(_users.c.id).where(_users.c.username == username)).scalar()
    values = {"display_name": display_name or username, "email": email, "role": role,
              "password_hash": hash_password(password), "active": True}
    if uid is not None and not replace:
        raise Conflict(f"user '{username}' already exists", username=username)
    if uid is None:
        uid = conn.execute(insert(_users).values(username=username, created_at=now, **values)).inserted_primary_key[0]
    else:
        conn.execute(update(_users).where(_users.c.id == uid)
                     .values(session_generation=_users.c.session_generation + 1, **values))
        conn.execute(delete(models.user_groups).where(models.user_groups.c.user_id == uid))
        login_throttle.clear(conn, username)
    for name in groups:
        conn.execute(insert(models.user_groups).values(user_id=uid, group_id=ensure_group(conn, name)))
    return uid


def map_lane(svc: Services, lane: str, group: str, process_key: str = "*") -> None:
    """Say which group works `lane` (in one process, or in all with '*')."""
    with svc.uow() as uow:
        store_lane(uow.conn, lane, group, process_key)
        uow.commit()


def store_lane(conn, lane: str, group: str, process_key: str = "*") -> None:
    """map_lane in the caller's transaction."""
    lg = models.lane_groups
    gid = ensure_group(conn, group)
    conn.execute(delete(lg).where(lg.c.process_key == process_key, lg.c.lane == lane))
    conn.execute(insert(lg).values(process_key=process_key, lane=lane, group_id=gid))


@use_case("user.read")
def list_users(svc: Services, principal: Principal) -> list[dict]:
    """Accounts with their groups (no password hashes)."""
    with svc.uow(write=False) as uow:
        return _accounts(uow.conn)


@use_case("user.read")
def get_user(svc: Services, principal: Principal, username: str) -> dict:
    """One account with its groups."""
    with svc.uow(write=False) as uow:
        return account(uow.conn, username)


def account(conn, username: str) -> dict:
    """One account with its groups, read in the caller's unit of work; NotFound if there is none."""
    found = _accounts(conn, username)
    if not found:
        raise NotFound(f"user '{username}' does not exist", username=username)
    return found[0]


def _accounts(conn, username: str | None = None) -> list[dict]:
    q = select(_u.c.id, _u.c.username, _u.c.display_name, _u.c.email, _u.c.role, _u.c.active,
               _u.c.created_at).order_by(_u.c.username)
    if username is not None:
        q = q.where(_u.c.username == username)
    users = [dict(r, groups=[]) for r in conn.execute(q).mappings()]
    failures = login_throttle.read_many(conn, [u["username"] for u in users])
    for user in users:
        found = failures.get(user["username"])
        user.update(failed_logins=found.count if found else 0, locked_until=found.locked_until if found else None)
    by_id = {u["id"]: u for u in users}
    memberships = select(_ug.c.user_id, _g.c.name).join(_g, _g.c.id == _ug.c.group_id).order_by(_g.c.name)
    if username is not None:
        memberships = memberships.where(_ug.c.user_id.in_(list(by_id)))
    for user_id, name in conn.execute(memberships):
        if user_id in by_id:
            by_id[user_id]["groups"].append(name)
    return users


@use_case("user.read")
def list_groups(svc: Services, principal: Principal) -> list[dict]:
    """Groups with their number of members."""
    with svc.uow(write=False) as uow:
        return groups_with_members(uow.conn)


def groups_with_members(conn, name: str | None = None) -> list[dict]:
    """Groups (all, or the one named) with their number of members, in the caller's unit of work."""
    members = select(func.count()).where(_ug.c.group_id == _g.c.id).scalar_subquery()
    q = select(_g.c.id, _g.c.name, _g.c.description, members.label("members")).order_by(_g.c.name)
    if name is not None:
        q = q.where(_g.c.name == name)
    return [dict(r) for r in conn.execute(q).mappings()]
