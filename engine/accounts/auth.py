"""Who is asking: password logins with a lock on repeated failures, revocable sessions, personal API tokens,
accounts."""
from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, insert, select, update

from engine.accounts import admin, login_throttle
from engine.storage import models
from engine.storage.prepared import Prepared
from engine.errors import Conflict, ExpedienteError, InvalidInput, NotFound
from engine.messages import msg
from engine.accounts.login_throttle import LoginPolicy
from engine.accounts.permissions import NotAuthenticated, Principal, use_case
from engine.accounts.users import ROLES, ensure_group, groups_with_members, hash_password, verify_password

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

TOKEN_PREFIX = "exp_"
TOKEN_BYTES = 32
_users = models.users
_groups = models.groups
_ug = models.user_groups
_tokens = models.api_tokens


class LoginFailed(NotAuthenticated):
    code = "login_failed"


class AccountLocked(ExpedienteError):
    """Too many failed logins with this username; `retry_after_seconds` says when to try again."""

    code = "account_locked"


# One query reads the account with its groups (NULL group when it has none).
_PRINCIPAL_COLUMNS = (_users.c.id, _users.c.username, _users.c.role, _users.c.display_name, _users.c.active,
                      _users.c.password_hash, _users.c.session_generation, _groups.c.name.label("group_name"))
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
# Read on every request (a token's bearer; a browser session's account): straight on the driver (engine.storage.prepared)
_TOKEN_BEARER = Prepared(_BY_TOKEN)
_SESSION_HOLDER = Prepared(_BY_ID)


def _principal(rows) -> Principal | None:
    if not rows or not rows[0].active:
        return None
    first = rows[0]
    groups = tuple(sorted({r.group_name for r in rows if r.group_name}))
    return Principal(first.id, first.username, first.role, groups, first.display_name)


def session_tag(password_hash: str | None, generation: int) -> str:
    """A fingerprint of the password hash and the session generation: a session dies when either changes."""
    return hashlib.sha256(f"{generation}:{password_hash or ''}".encode()).hexdigest()[:32]


def login(svc: Services, username: str, password: str, policy: LoginPolicy = LoginPolicy()) -> tuple[Principal, str]:
    """Check a password; return the principal and his session tag, or raise LoginFailed/AccountLocked.

    Unknown, disabled and real accounts get the same answers in the same time: failures are counted per typed
    name (engine.accounts.login_throttle), and every attempt spends exactly one password verification.
    """
    with svc.uow(write=False) as uow:
        user = uow.conn.execute(select(_users.c.id, _users.c.active, _users.c.password_hash,
                                       _users.c.session_generation).where(_users.c.username == username)).first()
        failures = login_throttle.read(uow.conn, username)
    usable = user is not None and user.active
    # The hash is checked outside any transaction (argon2 is slow on purpose and must not hold a lock), and
    # also while the name is locked, so a locked answer takes as long as any other.
    right = verify_password(user.password_hash if usable else _dummy_hash(), password) and usable
    now = svc.clock()
    if failures is not None and failures.locked_until is not None and failures.locked_until > now:
        raise _locked(failures.locked_until, now)
    if not right:
        login_throttle.note_failure(svc, username, policy)
        raise LoginFailed("Usuario o contraseña incorrectos.")
    if failures is not None:
        with svc.uow() as uow:
            login_throttle.clear(uow.conn, username)
            uow.commit()
    return load_principal(svc, user.id), session_tag(user.password_hash, user.session_generation)


@cache
def _dummy_hash() -> str:
    """Spent on unknown and disabled accounts so a failed login takes as long whether or not the account exists."""
    return hash_password(secrets.token_urlsafe(16))


def _locked(until: datetime, now: datetime) -> AccountLocked:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return AccountLocked(f"Demasiados intentos fallidos; intente de nuevo en {seconds} segundos.",
                         retry_after_seconds=seconds)


def end_sessions(svc: Services, user_id: int) -> None:
    """End every browser session of the account (logout ends them all, on every device)."""
    with svc.uow() as uow:
        uow.conn.execute(update(_users).where(_users.c.id == user_id)
                         .values(session_generation=_users.c.session_generation + 1))
        uow.commit()


def load_principal(svc: Services, user_id: int, tag: str | None = None) -> Principal | None:
    """The active account with this id (and, for sessions, the same password and session generation as at
    login)."""
    rows = _SESSION_HOLDER.all(svc.db, b_id=user_id)
    if tag is not None and rows and not hmac.compare_digest(
            session_tag(rows[0].password_hash, rows[0].session_generation), tag):
        return None
    return _principal(rows)


def principal_by_username(svc: Services, username: str) -> Principal | None:
    """The active account with this username, if there is one."""
    with svc.uow(write=False) as uow:
        return principal_named(uow.conn, username)


def principal_named(conn, username: str) -> Principal | None:
    """The active account with this username, inside a use case's unit of work."""
    return _principal(conn.execute(_BY_NAME, {"b_name": username}).all())


def display_names(conn, usernames) -> dict[str, str]:
    """The display names of the active accounts among these usernames (username: display name), in one query,
    inside a use case's unit of work: what pages show for a colleague."""
    wanted = sorted({name for name in usernames if name})
    if not wanted:
        return {}
    rows = conn.execute(select(_users.c.username, _users.c.display_name)
                        .where(_users.c.username.in_(wanted), _users.c.active.is_(True))).all()
    return {row.username: row.display_name for row in rows}


def principal_for_token(svc: Services, token: str) -> Principal | None:
    """The active account a bearer token belongs to, if the token exists and has not expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    rows = _TOKEN_BEARER.all(svc.db, b_hash=_digest(token))
    if rows and rows[0].expires_at is not None and rows[0].expires_at <= svc.clock():
        return None
    return _principal(rows)


def _digest(token: str) -> str:
    # A plain hash is enough: the token is 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@use_case("token.own")
def create_token(svc: Services, principal: Principal, name: str, expires_in_days: int | None = None) -> dict:
    """Create a personal token acting with the principal's role; the returned `token` is the only time it is shown."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with svc.uow() as uow:
        now = svc.clock()
        expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
        values = {"user_id": principal.user_id, "name": name, "token_hash": _digest(token),
                  "prefix": token[:12], "created_at": now, "expires_at": expires_at}
        token_id = uow.conn.execute(insert(_tokens).values(**values)).inserted_primary_key[0]
        uow.commit()
    return {"id": token_id, "name": name, "prefix": values["prefix"], "created_at": now,
            "expires_at": expires_at, "token": token}


@use_case("token.own")
def list_tokens(svc: Services, principal: Principal) -> list[dict]:
    """The principal's tokens (never the tokens themselves)."""
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(
            select(_tokens.c.id, _tokens.c.name, _tokens.c.prefix, _tokens.c.created_at, _tokens.c.expires_at)
            .where(_tokens.c.user_id == principal.user_id).order_by(_tokens.c.id)).mappings()]


@use_case("token.own")
def revoke_token(svc: Services, principal: Principal, token_id: int) -> None:
    """Delete one of the principal's tokens; another account's token is NotFound, as if it did not exist."""
    with svc.uow() as uow:
        done = uow.conn.execute(delete(_tokens).where(_tokens.c.id == token_id,
                                                      _tokens.c.user_id == principal.user_id))
        if done.rowcount != 1:
            raise NotFound(f"token {token_id} does not exist", token_id=token_id)
        uow.commit()


@use_case("user.manage")
def update_user(svc: Services, principal: Principal, username: str, *, role: str | None = None,
                active: bool | None = None, display_name: str | None = None, email: str | None = None,
                password: str | None = None, groups: list[str] | None = None, unlock: bool = False) -> dict:
    """Change an account and return it; only the given fields change (`groups` replaces the whole list).

    A new password or a deactivation ends every browser session of the account (tokens stop with a deactivation);
    the last active administrator is neither deactivated nor demoted; each change is in the administration log.
    """
    if role is not None and role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", errors=[{"field": "role", "message": f"one of {ROLES}"}])
    with svc.uow() as uow:
        changed = admin.change_account(uow.conn, svc.clock(), principal, username, role=role, active=active,
                                       display_name=display_name, email=email, password=password, groups=groups,
                                       unlock=unlock)
        uow.commit()
    return changed


@use_case("user.manage")
def create_group(svc: Services, principal: Principal, name: str, description: str = "") -> dict:
    """Create a group and return it with its number of members; a name already taken is a conflict."""
    name, description = (name or "").strip(), (description or "").strip()
    if not 1 <= len(name) <= 64 or "/" in name:
        raise InvalidInput(msg("El nombre del grupo debe tener de 1 a 64 caracteres, sin «/»."),
                           errors=[{"field": "name", "message": msg("de 1 a 64 caracteres, sin «/»")}])
    if len(description) > 200:
        raise InvalidInput(msg("La descripción tiene más de 200 caracteres."), errors=[{"field": "description"}])
    with svc.uow() as uow:
        if uow.conn.execute(select(_groups.c.id).where(_groups.c.name == name)).scalar() is not None:
            raise Conflict(f"group '{name}' already exists", group=name)
        ensure_group(uow.conn, name, description)
        [created] = groups_with_members(uow.conn, name)
        admin.log(uow.conn, svc.clock(), principal, "group.create", name, {"description": description})
        uow.commit()
    return created


@use_case("session.read")
def current_user(svc: Services, principal: Principal) -> Principal:
    """Who is signed in (the principal the session or token stands for)."""
    return principal
