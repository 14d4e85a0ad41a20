"""The administrator's changes to accounts and groups, each recorded in the administration log (admin_log) in its
own transaction: create an account (with a generated password shown once), edit it (refused when the form was read
before someone else's change), deactivate and reactivate, reset a password, unlock, and a group's members.

The last active administrator can be neither deactivated nor demoted: the office would be left without anyone who
can manage accounts. A deactivation or a new password ends the account's browser sessions (session_generation).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import re

import orjson
from sqlalchemy import delete, insert, select, update

from engine.accounts import login_throttle
from engine.accounts.permissions import ADMIN, Principal, use_case
from engine.accounts.users import ROLES, _store_user, account, ensure_group, hash_password, random_password
from engine.errors import Conflict, InvalidInput, NotFound
from engine.messages import msg
from engine.storage import admin_rows, models

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_CHARS = 10
MAX_NAME_CHARS = 200
_users, _groups, _ug = models.users, models.groups, models.user_groups


class LastAdmin(Conflict):
    """The change would leave the office without an active administrator."""

    code = "last_admin"


class StaleForm(Conflict):
    """The account changed after the form was read: reload and redo the change."""

    code = "stale_form"


def fingerprint(user: dict) -> str:
    """A short digest of what the edit form shows of an account; a form sends back the one it was read with."""
    shown = [user["role"], user["display_name"], user["email"], bool(user["active"]), sorted(user["groups"])]
    return hashlib.sha256(orjson.dumps(shown)).hexdigest()[:16]


def log(conn, now, principal: Principal | None, action: str, target: str, detail: dict | None = None) -> None:
    admin_rows.append(conn, actor=principal.username if principal else None, action=action, target=target,
                      detail=detail, at=now)


def _check_fields(role=None, display_name=None, email=None, password=None, groups=None) -> None:
    errors = []
    if role is not None and role not in ROLES:
        errors.append({"field": "role", "message": msg("elija uno de los roles")})
    if display_name is not None and not 1 <= len(display_name) <= MAX_NAME_CHARS:
        errors.append({"field": "display_name", "message": msg("de 1 a 200 caracteres")})
    if email and not EMAIL.match(email):
        errors.append({"field": "email", "message": msg("no es una dirección de correo")})
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        errors.append({"field": "password", "message": msg("al menos %(n)s caracteres", n=MIN_PASSWORD_CHARS)})
    if groups is not None and any(not USERNAME.match(g) for g in groups):
        errors.append({"field": "groups", "message": msg("nombres de grupo de letras, números, punto o guion")})
    if errors:
        raise InvalidInput(msg("Revise los campos: %(fields)s", fields=", ".join(e["field"] for e in errors)),
                           errors=errors)


@use_case("user.manage")
def create_account(svc: Services, principal: Principal, username: str, role: str, *,
                   display_name: str | None = None, email: str | None = None, groups=(),
                   password: str | None = None) -> dict:
    """Create an account with its groups; return it with "password": the one typed, or a generated one to show once."""
    username = (username or "").strip()
    if not USERNAME.match(username):
        raise InvalidInput(msg("El usuario debe tener de 1 a 64 letras sin tilde, números, punto, guion o guion bajo."),
                           errors=[{"field": "username", "message": msg("de 1 a 64 letras sin tilde, números, "
                                                                         "punto, guion o guion bajo")}])
    groups = sorted({g.strip() for g in groups if g and g.strip()})
    _check_fields(role=role, display_name=display_name, email=email or None, password=password or None,
                  groups=groups)
    password = password or random_password()
    with svc.uow() as uow:
        _store_user(uow.conn, svc.clock(), username, role, password, display_name=display_name, email=email or None,
                    groups=groups, replace=False)
        created = account(uow.conn, username)
        log(uow.conn, svc.clock(), principal, "user.create", username,
            {"role": role, "display_name": created["display_name"], "email": created["email"], "groups": groups})
        uow.commit()
    return {**created, "password": password}


def change_account(conn, now, principal: Principal | None, username: str, *, role: str | None = None,
                   active: bool | None = None, display_name: str | None = None, email: str | None = None,
                   password: str | None = None, groups=None, unlock: bool = False,
                   expected: str | None = None) -> dict:
    """Change an account in the caller's transaction, log each kind of change, and return it as it is now.

    Only the given fields change (`groups` replaces the list; `email` "" clears it). `expected` is the fingerprint
    the form was read with: a different one now means someone else changed the account first (StaleForm).
    """
    _check_fields(role=role, display_name=display_name, email=email, password=password, groups=groups)
    if active is False or role is not None:
        # Two administrators demoting each other at once: both lock the active admins in one order first, so the
        # second waits, then sees the first's change and is refused (LastAdmin), rather than deadlocking.
        conn.execute(select(_users.c.id).where(_users.c.role == ADMIN, _users.c.active.is_(True))
                     .order_by(_users.c.id).with_for_update()).all()
    uid = conn.execute(select(_users.c.id).where(_users.c.username == username).with_for_update()).scalar()
    if uid is None:
        raise NotFound(msg("El usuario %(username)s no existe.", username=username), username=username)
    before = account(conn, username)
    if expected is not None and expected != fingerprint(before):
        raise StaleForm(msg("Otra persona modificó la cuenta %(username)s mientras usted la editaba; vuelva a "
                            "cargar la página y repita el cambio.", username=username), username=username)
    if before["role"] == ADMIN and before["active"] and (active is False or role not in (None, ADMIN)):
        _keep_an_admin(conn, uid, username)
    values = {k: v for k, v in (("role", role), ("active", active), ("display_name", display_name)) if v is not None}
    if email is not None:
        values["email"] = email or None
    if password is not None:
        values["password_hash"] = hash_password(password)
    if password is not None or (active is False and before["active"]):
        values["session_generation"] = _users.c.session_generation + 1
    if values:
        conn.execute(update(_users).where(_users.c.id == uid).values(**values))
    if groups is not None:
        conn.execute(delete(_ug).where(_ug.c.user_id == uid))
        for name in sorted(set(groups)):
            conn.execute(insert(_ug).values(user_id=uid, group_id=ensure_group(conn, name)))
    unlocked = (unlock or password is not None) and bool(before["failed_logins"] or before["locked_until"])
    if unlock or password is not None:
        login_throttle.clear(conn, username)
    after = account(conn, username)
    _log_changes(conn, now, principal, before, after, password is not None, unlocked)
    return after


def _log_changes(conn, now, principal, before: dict, after: dict, new_password: bool, unlocked: bool) -> None:
    edited = {field: [before[field], after[field]] for field in ("role", "display_name", "email", "groups")
              if before[field] != after[field]}
    if edited:
        log(conn, now, principal, "user.update", after["username"], edited)
    if before["active"] != after["active"]:
        log(conn, now, principal, "user.reactivate" if after["active"] else "user.deactivate", after["username"])
    if new_password:
        log(conn, now, principal, "user.reset_password", after["username"])
    if unlocked:
        log(conn, now, principal, "user.unlock", after["username"],
            {"failed_logins": before["failed_logins"]})


def _keep_an_admin(conn, uid: int, username: str) -> None:
    """Refuse a change that leaves no other active administrator (their rows locked until the change commits)."""
    others = conn.execute(select(_users.c.id).where(_users.c.role == ADMIN, _users.c.active.is_(True),
                                                    _users.c.id != uid).order_by(_users.c.id).with_for_update()).all()
    if not others:
        raise LastAdmin(msg("%(username)s es el último administrador activo: no se puede desactivar ni cambiar de "
                            "rol. Primero dé el rol de administrador a otra cuenta.", username=username),
                        username=username)


def _change(svc: Services, principal: Principal, username: str, **changes) -> dict:
    with svc.uow() as uow:
        changed = change_account(uow.conn, svc.clock(), principal, username, **changes)
        uow.commit()
    return changed


@use_case("user.manage")
def edit_account(svc: Services, principal: Principal, username: str, *, expected: str, role: str,
                 display_name: str, email: str, groups) -> dict:
    """Save the edit form: role, name, e-mail and groups as the form shows them, unless the account changed since."""
    groups = sorted({g.strip() for g in groups if g and g.strip()})
    return _change(svc, principal, username, expected=expected, role=role, display_name=display_name.strip(),
                   email=(email or "").strip(), groups=groups)


@use_case("user.manage")
def set_active(svc: Services, principal: Principal, username: str, active: bool) -> dict:
    """Deactivate (no login, every session ended) or reactivate an account; not one's own, not the last admin."""
    if username == principal.username and not active:
        raise Conflict(msg("No puede desactivar su propia cuenta."), username=username)
    return _change(svc, principal, username, active=bool(active))


@use_case("user.manage")
def reset_password(svc: Services, principal: Principal, username: str, password: str | None = None) -> dict:
    """Give the account a new password (the one typed, or a generated one returned once under "password"); it
    ends the account's sessions and clears its login lock."""
    password = password or random_password()
    changed = _change(svc, principal, username, password=password)
    return {**changed, "password": password}


@use_case("user.manage")
def unlock_account(svc: Services, principal: Principal, username: str) -> dict:
    """Forget the account's failed logins, lifting its lock."""
    return _change(svc, principal, username, unlock=True)


@use_case("user.read")
def groups_and_members(svc: Services, principal: Principal) -> list[dict]:
    """Every group with its description and its members' usernames, by name."""
    with svc.uow(write=False) as uow:
        groups = {r.id: {"name": r.name, "description": r.description, "members": []}
                  for r in uow.conn.execute(select(_groups.c.id, _groups.c.name, _groups.c.description))}
        for group_id, username in uow.conn.execute(
                select(_ug.c.group_id, _users.c.username).join(_users, _users.c.id == _ug.c.user_id)
                .order_by(_users.c.username)):
            groups[group_id]["members"].append(username)
    return sorted(groups.values(), key=lambda g: g["name"])


def _group_id(conn, name: str) -> int:
    gid = conn.execute(select(_groups.c.id).where(_groups.c.name == name)).scalar()
    if gid is None:
        raise NotFound(msg("El grupo %(group)s no existe.", group=name), group=name)
    return gid


@use_case("user.manage")
def add_member(svc: Services, principal: Principal, group: str, username: str) -> None:
    """Put an account in a group (already there: a conflict)."""
    with svc.uow() as uow:
        conn = uow.conn
        gid = _group_id(conn, group)
        uid = conn.execute(select(_users.c.id).where(_users.c.username == username)).scalar()
        if uid is None:
            raise NotFound(msg("El usuario %(username)s no existe.", username=username), username=username)
        if conn.execute(select(_ug.c.user_id).where(_ug.c.user_id == uid, _ug.c.group_id == gid)).first():
            raise Conflict(msg("%(username)s ya es miembro de %(group)s.", username=username, group=group),
                           username=username, group=group)
        conn.execute(insert(_ug).values(user_id=uid, group_id=gid))
        log(conn, svc.clock(), principal, "group.add_member", group, {"username": username})
        uow.commit()


@use_case("user.manage")
def remove_member(svc: Services, principal: Principal, group: str, username: str) -> None:
    """Take an account out of a group."""
    with svc.uow() as uow:
        conn = uow.conn
        gid = _group_id(conn, group)
        uid = conn.execute(select(_users.c.id).where(_users.c.username == username)).scalar()
        gone = conn.execute(delete(_ug).where(_ug.c.user_id == uid, _ug.c.group_id == gid)).rowcount if uid else 0
        if gone != 1:
            raise NotFound(msg("%(username)s no es miembro de %(group)s.", username=username, group=group),
                           username=username, group=group)
        log(conn, svc.clock(), principal, "group.remove_member", group, {"username": username})
        uow.commit()
