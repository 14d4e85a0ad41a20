"""Browser sessions with CSRF, failed-login slowdown and lock, personal tokens."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from engine.storage import models
from engine.accounts.auth import create_token, principal_by_username
from tests.api.conftest import PASSWORD, Client, make_app


def login(client, username="oficial1", password=PASSWORD):
    return client.post("/api/session", json={"username": username, "password": password})


def test_login_opens_a_session_whose_changes_need_the_csrf_header(anonymous):
    response = login(anonymous)
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == "oficial1" and body["user"]["groups"] == ["tramite", "ventanilla"]
    csrf = body["csrf_token"]
    assert anonymous.get("/api/session").get_json()["csrf_token"] == csrf

    start = {"process_key": "five_step", "data": {"amount": 1}}
    refused = anonymous.post("/api/cases", json=start)
    assert refused.status_code == 403 and refused.get_json()["code"] == "csrf_rejected"
    assert anonymous.post("/api/cases", json=start, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert anonymous.post("/api/cases", json=start, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert anonymous.get("/api/cases").status_code == 200  # reads need no token


def test_session_cookie_is_http_only_and_same_site(anonymous):
    cookie = login(anonymous).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and cookie.startswith("expediente_session=")


def test_logout_needs_the_csrf_header_and_ends_the_session(anonymous):
    csrf = login(anonymous).get_json()["csrf_token"]
    assert anonymous.delete("/api/session").status_code == 403
    assert anonymous.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert anonymous.get("/api/session").status_code == 401


def test_bearer_token_needs_no_csrf_header(as_user):
    response = as_user("oficial1").post("/api/cases", json={"process_key": "five_step", "data": {"amount": 1}})
    assert response.status_code == 201


def test_wrong_password_and_unknown_user_get_the_same_401(anonymous):
    wrong = login(anonymous, password="otra")
    unknown = login(anonymous, username="nadie")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]
    assert wrong.content_type == "application/problem+json"


def test_failed_logins_slow_down_then_lock_the_account_for_a_while(anonymous, seeded):
    clock = seeded.clock
    assert login(anonymous, password="x").status_code == 401          # 1st failure: no wait
    assert login(anonymous, password="x").status_code == 401          # 2nd: next try waits 1 s
    early = login(anonymous)
    assert early.status_code == 429 and early.headers["Retry-After"] == "1"
    clock.advance(seconds=1.5)
    for _ in range(3):                                                 # 3rd, 4th, 5th failures
        assert login(anonymous, password="x").status_code == 401
        clock.advance(seconds=10)
    locked = login(anonymous)
    assert locked.status_code == 429 and locked.get_json()["code"] == "account_locked"
    assert 800 < int(locked.headers["Retry-After"]) <= 900
    clock.advance(minutes=15)
    assert login(anonymous).status_code == 200


def test_a_successful_login_clears_the_failure_count(anonymous, seeded):
    login(anonymous, password="x")
    assert login(anonymous).status_code == 200
    with seeded.uow(write=False) as uow:
        assert uow.conn.execute(select(models.login_failures)).all() == []


def test_lock_settings_come_from_the_app_config(seeded, tmp_path):
    client = Client(make_app(seeded, tmp_path, LOGIN_MAX_FAILURES=2, LOGIN_LOCK_SECONDS=60))
    login(client, password="x")
    seeded.clock.advance(seconds=5)
    login(client, password="x")
    assert login(client).headers["Retry-After"] == "60"


def test_changing_the_password_ends_existing_sessions(anonymous, as_user):
    login(anonymous)
    assert anonymous.get("/api/session").status_code == 200
    assert as_user("admin").patch("/api/users/oficial1", json={"password": "nueva-clave-segura"}).status_code == 200
    assert anonymous.get("/api/session").status_code == 401


def test_token_is_shown_once_and_stored_only_as_a_hash(as_user, seeded):
    clerk = as_user("oficial1")
    created = clerk.post("/api/tokens", json={"name": "integración RENAP"})
    assert created.status_code == 201
    token = created.get_json()["token"]
    assert token.startswith("exp_") and len(token) > 40
    listed = clerk.get("/api/tokens").get_json()
    assert all("token" not in t for t in listed)
    assert created.get_json()["prefix"] in [t["prefix"] for t in listed]
    with seeded.uow(write=False) as uow:
        stored = uow.conn.execute(select(models.api_tokens.c.token_hash)).scalars().all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored and token not in stored
    assert Client(clerk.flask.application, token).get("/api/session").get_json()["user"]["username"] == "oficial1"


def test_revoked_expired_and_foreign_tokens_are_refused(app, seeded):
    me = principal_by_username(seeded, "oficial1")
    mine = create_token(seeded, me, "a")
    client = Client(app, mine["token"])
    assert client.delete(f"/api/tokens/{mine['id']}").status_code == 204
    assert client.get("/api/cases").status_code == 401

    soon = create_token(seeded, me, "b", expires_in_days=1)
    seeded.clock.advance(days=2)
    assert Client(app, soon["token"]).get("/api/cases").status_code == 401

    other = create_token(seeded, principal_by_username(seeded, "oficial2"), "c")
    assert Client(app, create_token(seeded, me, "d")["token"]).delete(f"/api/tokens/{other['id']}").status_code == 404
    assert Client(app, "exp_not-a-real-token").get("/api/cases").status_code == 401
    assert Client(app).get("/api/cases", headers={"Authorization": "Basic abc"}).status_code == 401


def test_a_disabled_account_loses_its_tokens(as_user, app, seeded):
    token = create_token(seeded, principal_by_username(seeded, "oficial2"), "x")["token"]
    assert as_user("admin").patch("/api/users/oficial2", json={"active": False}).status_code == 200
    response = Client(app, token).get("/api/cases")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
