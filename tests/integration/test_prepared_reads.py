"""engine.storage.prepared: a read straight on the driver gives exactly what the same select gives through a
SQLAlchemy connection (types converted by the columns: aware UTC datetimes, booleans, labels), on both databases."""
from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import bindparam, select

from engine.accounts import auth
from engine.accounts.auth import create_token, principal_by_username, principal_for_token
from engine.accounts.users import add_user
from engine.storage import models
from engine.storage.prepared import Prepared


def _through_sqlalchemy(svc, statement, **params):
    with svc.db.connect() as conn:
        return [tuple(r) for r in conn.execute(statement, params).all()]


def test_the_token_read_matches_sqlalchemy_with_groups_and_an_expiry(svc):
    add_user(svc, "ana", "clerk", "contraseña-segura-1", display_name="Ana Xicará", groups=["ventanilla", "tramite"])
    made = create_token(svc, principal_by_username(svc, "ana"), "bench", expires_in_days=3)
    digest = auth._digest(made["token"])

    fast = auth._TOKEN_BEARER.all(svc.db, b_hash=digest)
    assert [tuple(r) for r in fast] == _through_sqlalchemy(svc, auth._BY_TOKEN, b_hash=digest)
    assert len(fast) == 2 and {r.group_name for r in fast} == {"ventanilla", "tramite"}
    assert fast[0].expires_at.tzinfo is not None and fast[0].expires_at.utcoffset() == timedelta(0)
    assert fast[0].active is True

    principal = principal_for_token(svc, made["token"])
    assert (principal.username, principal.role, principal.groups) == ("ana", "clerk", ("tramite", "ventanilla"))
    assert principal_for_token(svc, made["token"] + "x") is None


def test_an_expired_token_and_a_disabled_account_are_refused(svc, clock):
    add_user(svc, "beto", "clerk", "contraseña-segura-1")
    made = create_token(svc, principal_by_username(svc, "beto"), "corto", expires_in_days=1)
    assert principal_for_token(svc, made["token"]) is not None
    clock.now = clock.now + timedelta(days=2)
    assert principal_for_token(svc, made["token"]) is None

    other = create_token(svc, principal_by_username(svc, "beto"), "largo")
    assert principal_for_token(svc, other["token"]) is not None
    with svc.db.begin() as conn:
        conn.execute(models.users.update().where(models.users.c.username == "beto").values(active=False))
    assert principal_for_token(svc, other["token"]) is None  # no cache: the next request already sees it


def test_bound_datetimes_go_through_the_column_type(svc, clock):
    add_user(svc, "carla", "clerk", "contraseña-segura-1")
    create_token(svc, principal_by_username(svc, "carla"), "t", expires_in_days=5)
    t = models.api_tokens
    statement = select(t.c.name, t.c.expires_at).where(t.c.expires_at > bindparam("b_after", type_=t.c.expires_at.type))
    after = clock.now.astimezone(timezone(timedelta(hours=-6)))  # any aware time: stored as UTC
    fast = Prepared(statement).all(svc.db, b_after=after)
    assert [tuple(r) for r in fast] == _through_sqlalchemy(svc, statement, b_after=after)
    assert [r.name for r in fast] == ["t"]
    assert Prepared(statement).all(svc.db, b_after=after + timedelta(days=6)) == []


def test_a_session_holder_is_read_with_his_groups_and_refused_when_his_password_changes(svc):
    add_user(svc, "dora", "supervisor", "contraseña-segura-1", groups=["tramite"])
    principal, tag = auth.login(svc, "dora", "contraseña-segura-1")
    assert auth.load_principal(svc, principal.user_id, tag) == principal
    assert auth.load_principal(svc, principal.user_id).groups == ("tramite",)
    auth.end_sessions(svc, principal.user_id)
    assert auth.load_principal(svc, principal.user_id, tag) is None
    assert auth.load_principal(svc, 10 ** 9) is None
