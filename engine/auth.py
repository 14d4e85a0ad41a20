"""Who is asking: password logins with a lock on repeated failures, personal API tokens, accounts."""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, insert, select, update

from engine import models
from engine.errors import Conflict, ExpedienteError, InvalidInput, NotFound
from engine.permissions import NotAuthenticated, Principal
from engine.services import Services
from engine.users import ROLES, ensure_group, hash_password, verify_password

TOKEN_PREFIX = "exp_"
TOKEN_BYTES = 32
_users = models.users
_groups = models.groups
_ug = models.user_groups
_tokens = models.api_tokens


@dataclass(frozen=True)
class LoginPolicy:
    """How repeated failed logins slow down and then lock an account."""

    max_failures: int = 5           # this many failures in a row lock the account
    lock_seconds: int = 15 * 60
    # Before the lock, each failure after the first makes the next attempt wait 1, 2, 4... seconds.
    first_delay_seconds: float = 1.0


class LoginFailed(NotAuthenticated):
    code = "login_failed"


class AccountLocked(ExpedienteError):
    """Too many failed logins; `retry_after_seconds` says when to try again."""

    code = "account_locked"


# One query reads the account with its groups (NULL group when it has none).
_PRINCIPAL_COLUMNS = (_users.c.id, _users.c.username, _users.c.role, _users.c.display_name, _users.c.active,
                      _users.c.password_hash, _groups.c.name.label("group_name"))
_USER_WITH_GROUPS = (select(*_PRINCIPAL_COLUMNS)
                     .select_from(_users.outerjoin(_ug, _ug.c.user_id == _users.c.id)
                                  .outerjoin(_groups, _groups.c.id == _ug.c.group_id)))
_BY_ID = _USER_WITH_GROUPS.where(_users.c.id == bindparam("b_id"))
_BY_NAME = _USER_WITH_GROUPS.where(_users.c.username == bindparam("b_name"))
_BY_TOKEN = (select(*_PRINCIPAL_COLUMNS, _tokens.c.expires_at)
             .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user_id)
                          .outerjoin(_ug, _ug.c.user_id == _users.c.id)
                          .outerjoin(_groups, _groups.c.id == _ug.c.group_id))
             .where(_tokens.c.token_hash == bindparam("b_hash")))


def _principal(rows) -> Principal | None:
    if not rows or not rows[0].active:
        return None
    first = rows[0]
    groups = tuple(sorted({r.group_name for r in rows if r.group_name}))
    return Principal(first.id, first.username, first.role, groups, first.display_name)


def session_tag(password_hash: str | None) -> str:
    """A short fingerprint of the password hash: sessions die when the password changes."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def login(svc: Services, username: str, password: str, policy: LoginPolicy = LoginPolicy()) -> tuple[Principal, str]:
    """Check a password; return the principal and his session tag, or raise LoginFailed/AccountLocked."""
    with svc.uow(write=False) as uow:
        user = uow.conn.execute(select(_users).where(_users.c.username == username)).mappings().first()
    now = svc.clock()
    if user is None or not user["active"]:
        verify_password(_dummy_hash(), password)
        raise LoginFailed("Usuario o contraseña incorrectos.")
    if user["locked_until"] is not None and user["locked_until"] > now:
        raise _locked(user["locked_until"], now)
    # The hash is checked outside any transaction: argon2 is slow on purpose and must not hold a lock.
    if not verify_password(user["password_hash"], password):
        _note_failure(svc, user["id"], policy)
        raise LoginFailed("Usuario o contraseña incorrectos.")
    if user["failed_logins"] or user["locked_until"] is not None:
        with svc.uow() as uow:
            uow.conn.execute(update(_users).where(_users.c.id == user["id"])
                             .values(failed_logins=0, locked_until=None))
            uow.commit()
    return load_principal(svc, user["id"]), session_tag(user["password_hash"])


@cache
def _dummy_hash() -> str:
    """Spent on unknown usernames so a failed login takes as long whether or not the account exists."""
    return hash_password(secrets.token_urlsafe(16))


def _note_failure(svc: Services, user_id: int, policy: LoginPolicy) -> None:
    with svc.uow() as uow:
        conn = uow.conn
        # Incremented in SQL: two wrong guesses at the same moment both count.
        conn.execute(update(_users).where(_users.c.id == user_id).values(failed_logins=_users.c.failed_logins + 1))
        failures = conn.execute(select(_users.c.failed_logins).where(_users.c.id == user_id)).scalar_one()
        if failures >= policy.max_failures:
            wait = policy.lock_seconds
        else:
            wait = policy.first_delay_seconds * 2 ** (failures - 2) if failures >= 2 else 0
        if wait:
            conn.execute(update(_users).where(_users.c.id == user_id)
                         .values(locked_until=svc.clock() + timedelta(seconds=wait)))
        uow.commit()


def _locked(until: datetime, now: datetime) -> AccountLocked:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return AccountLocked(f"Demasiados intentos fallidos; intente de nuevo en {seconds} segundos.",
                         retry_after_seconds=seconds)


def load_principal(svc: Services, user_id: int, tag: str | None = None) -> Principal | None:
    """The active account with this id (and, for sessions, the same password as at login)."""
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(_BY_ID, {"b_id": user_id}).all()
    if tag is not None and rows and session_tag(rows[0].password_hash) != tag:
        return None
    return _principal(rows)


def principal_by_username(svc: Services, username: str) -> Principal | None:
    """The active account with this username, if there is one."""
    with svc.uow(write=False) as uow:
        return _principal(uow.conn.execute(_BY_NAME, {"b_name": username}).all())


def principal_for_token(svc: Services, token: str) -> Principal | None:
    """The active account a bearer token belongs to, if the token exists and has not expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(_BY_TOKEN, {"b_hash": _digest(token)}).all()
    if rows and rows[0].expires_at is not None and rows[0].expires_at <= svc.clock():
        return None
    return _principal(rows)


def _digest(token: str) -> str:
    # A plain hash is enough: the token is 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(svc: Services, user_id: int, name: str, expires_at: datetime | None = None) -> dict:
    """Create a personal token; the returned `token` is the only time it is ever shown."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with svc.uow() as uow:
        now = svc.clock()
        values = {"user_id": user_id, "name": name, "token_hash": _digest(token),
                  "prefix": token[:12], "created_at": now, "expires_at": expires_at}
        token_id = uow.conn.execute(insert(_tokens).values(**values)).inserted_primary_key[0]
        uow.commit()
    return {"id": token_id, "name": name, "prefix": values["prefix"], "created_at": now,
            "expires_at": expires_at, "token": token}


def list_tokens(svc: Services, user_id: int) -> list[dict]:
    """The user's tokens (never the tokens themselves)."""
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(
            select(_tokens.c.id, _tokens.c.name, _tokens.c.prefix, _tokens.c.created_at, _tokens.c.expires_at)
            .where(_tokens.c.user_id == user_id).order_by(_tokens.c.id)).mappings()]


def revoke_token(svc: Services, user_id: int, token_id: int) -> None:
    """Delete one of the user's tokens."""
    with svc.uow() as uow:
        done = uow.conn.execute(delete(_tokens).where(_tokens.c.id == token_id, _tokens.c.user_id == user_id))
        if done.rowcount != 1:
            raise NotFound(f"token {token_id} does not exist", token_id=token_id)
        uow.commit()


def update_user(svc: Services, username: str, *, role: str | None = None, active: bool | None = None,
                display_name: str | None = None, email: str | None = None, password: str | None = None,
                groups: list[str] | None = None, unlock: bool = False) -> None:
    """Change an account; only the given fields change (`groups` replaces the whole list)."""
    if role is not None and role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", errors=[{"field": "role", "message": f"one of {ROLES}"}])
    values = {k: v for k, v in (("role", role), ("active", active), ("display_name", display_name),
                                ("email", email)) if v is not None}
    if password is not None:
        values["password_hash"] = hash_password(password)
    if unlock:
        values.update(failed_logins=0, locked_until=None)
    with svc.uow() as uow:
        conn = uow.conn
        uid = conn.execute(select(_users.c.id).where(_users.c.username == username)).scalar()
        if uid is None:
            raise NotFound(f"user '{username}' does not exist", username=username)
        if values:
            conn.execute(update(_users).where(_users.c.id == uid).values(**values))
        if groups is not None:
            conn.execute(delete(_ug).where(_ug.c.user_id == uid))
            for name in sorted(set(groups)):
                conn.execute(insert(_ug).values(user_id=uid, group_id=ensure_group(conn, name)))
        uow.commit()


def create_group(svc: Services, name: str, description: str = "") -> int:
    """Create a group; a name already taken is a conflict."""
    with svc.uow() as uow:
        if uow.conn.execute(select(_groups.c.id).where(_groups.c.name == name)).scalar() is not None:
            raise Conflict(f"group '{name}' already exists", group=name)
        gid = ensure_group(uow.conn, name, description)
        uow.commit()
    return gid
