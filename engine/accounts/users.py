"""Accounts, groups and the lane→group table."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update

from engine.accounts import login_throttle
from engine.storage import models
from engine.errors import Conflict, InvalidInput
from engine.services import Services

ROLES = ("clerk", "supervisor", "auditor", "admin")
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
    """Create (or with `replace`, reset) an account with its groups; a reset ends the account's sessions."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", errors=[{"field": "role", "message": f"one of {ROLES}"}])
    if not username or len(username) > 64:
        raise InvalidInput("username must have 1 to 64 characters", errors=[{"field": "username"}])
    with svc.uow() as uow:
        conn = uow.conn
        uid = conn.execute(select(_users.c.id).where(_users.c.username == username)).scalar()
        values = {"display_name": display_name or username, "email": email, "role": role,
                  "password_hash": hash_password(password), "active": True}
        if uid is not None and not replace:
            raise Conflict(f"user '{username}' already exists", username=username)
        if uid is None:
            uid = conn.execute(insert(_users).values(username=username, created_at=svc.clock(), **values)
                               ).inserted_primary_key[0]
        else:
            conn.execute(update(_users).where(_users.c.id == uid)
                         .values(session_generation=_users.c.session_generation + 1, **values))
            conn.execute(delete(models.user_groups).where(models.user_groups.c.user_id == uid))
            login_throttle.clear(conn, username)
        for name in groups:
            conn.execute(insert(models.user_groups).values(user_id=uid, group_id=ensure_group(conn, name)))
        uow.commit()
    return uid


def map_lane(svc: Services, lane: str, group: str, process_key: str = "*") -> None:
    """Say which group works `lane` (in one process, or in all with '*')."""
    lg = models.lane_groups
    with svc.uow() as uow:
        gid = ensure_group(uow.conn, group)
        uow.conn.execute(delete(lg).where(lg.c.process_key == process_key, lg.c.lane == lane))
        uow.conn.execute(insert(lg).values(process_key=process_key, lane=lane, group_id=gid))
        uow.commit()


def user_groups(svc: Services, username: str) -> list[str]:
    ug = models.user_groups
    with svc.uow(write=False) as uow:
        return list(uow.conn.execute(
            select(_groups.c.name).join(ug, ug.c.group_id == _groups.c.id)
            .join(_users, _users.c.id == ug.c.user_id).where(_users.c.username == username)
            .order_by(_groups.c.name)).scalars())
