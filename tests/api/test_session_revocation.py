"""Issue 12 on SQLite and PostgreSQL: logout, a password change and a deactivation end every browser session of the
account (the old cookie answers 401, the pages send it to the login), and a login answers alike for unknown,
existing and locked usernames."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

import engine.cli.main
from engine.accounts.auth import create_token, principal_by_username
from engine.accounts.users import add_user
from tests.api.conftest import PASSWORD, Client, make_app, seed
from tests.web.conftest import csrf_of

COOKIE = "expediente_session"


@pytest.fixture
def office(svc, tmp_path):
    """The API app on each backend, with the seeded accounts."""
    seed(svc)
    return make_app(svc, tmp_path)


def logged_in(app, username: str = "oficial1", password: str = PASSWORD) -> tuple[Client, str]:
    """A browser with a fresh session, and its CSRF token."""
    client = Client(app)
    response = client.post("/api/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return client, response.get_json()["csrf_token"]


def replay(app, browser: Client) -> Client:
    """Another client holding a copy of the browser's cookie as it is now (as a thief would)."""
    copy = Client(app)
    copy.flask.set_cookie(COOKIE, browser.flask.get_cookie(COOKIE).value)
    return copy


def admin(app, svc) -> Client:
    return Client(app, create_token(svc, principal_by_username(svc, "admin"), "admin")["token"])


def test_logout_ends_the_old_cookie_and_every_other_session_of_the_user(office):
    browser, csrf = logged_in(office)
    old_cookie = replay(office, browser)
    other_browser, _ = logged_in(office)
    colleague, _ = logged_in(office, "oficial2")

    assert browser.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204

    assert old_cookie.get("/api/session").status_code == 401
    assert old_cookie.get("/api/cases").status_code == 401
    page = old_cookie.get("/bandeja")
    assert page.status_code == 302 and page.headers["Location"].startswith("/entrar")
    assert other_browser.get("/api/session").status_code == 401
    assert colleague.get("/api/session").status_code == 200  # another account keeps its sessions
    assert logged_in(office)[0].get("/api/session").status_code == 200  # and a new login works


def test_the_pages_logout_ends_the_api_session_and_the_other_browsers(office):
    page = office.test_client()
    form = page.get("/entrar").get_data(as_text=True)
    assert page.post("/entrar", data={"username": "oficial1", "password": PASSWORD,
                                      "csrf_token": csrf_of(form)}).status_code == 302
    old_cookie = office.test_client()
    old_cookie.set_cookie(COOKIE, page.get_cookie(COOKIE).value)
    api_browser, _ = logged_in(office)
    inbox = page.get("/bandeja").get_data(as_text=True)

    out = page.post("/salir", data={"csrf_token": csrf_of(inbox)})
    assert out.status_code == 302 and out.headers["Location"] == "/entrar"

    again = old_cookie.get("/bandeja")
    assert again.status_code == 302 and again.headers["Location"].startswith("/entrar")
    assert old_cookie.get("/api/session").status_code == 401
    assert api_browser.get("/api/session").status_code == 401


def test_a_password_change_by_the_administrator_ends_every_session(office, svc):
    first, _ = logged_in(office)
    second, _ = logged_in(office)
    changed = admin(office, svc).patch("/api/users/oficial1", json={"password": "otra-clave-segura"})
    assert changed.status_code == 200
    assert first.get("/api/session").status_code == 401
    assert second.get("/api/session").status_code == 401
    assert logged_in(office, password="otra-clave-segura")[0].get("/api/session").status_code == 200


def test_resetting_an_account_from_the_command_line_ends_its_sessions(office, svc, database_url, monkeypatch):
    browser, _ = logged_in(office, "admin")
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", database_url)
    monkeypatch.setenv("EXPEDIENTE_DEMO_PASSWORD", "clave-demo-123")
    made, build = [], engine.cli.main.cli_services
    monkeypatch.setattr(engine.cli.main, "cli_services", lambda: made.append(build()) or made[-1])  # to close its pool
    result = CliRunner().invoke(engine.cli.main.main, ["demo-users"], catch_exceptions=False)  # resets admin, oficial1...
    made[0].db.dispose()
    assert result.exit_code == 0, result.output
    assert browser.get("/api/session").status_code == 401
    # The use case behind `user add` and `demo-users`: a reset with the same password ends them too.
    again, _ = logged_in(office, "oficial2")
    add_user(svc, "oficial2", "clerk", PASSWORD, groups=["ventanilla"], replace=True)
    assert again.get("/api/session").status_code == 401


def test_a_deactivation_ends_every_session_and_blocks_the_tokens_until_reactivated(office, svc):
    browser, _ = logged_in(office, "oficial2")
    token = Client(office, create_token(svc, principal_by_username(svc, "oficial2"), "renap")["token"])
    boss = admin(office, svc)

    assert boss.patch("/api/users/oficial2", json={"active": False}).status_code == 200
    assert browser.get("/api/session").status_code == 401
    assert token.get("/api/cases").status_code == 401
    assert boss.patch("/api/users/oficial2", json={"active": True}).status_code == 200
    # Ended sessions stay ended; tokens are revoked one by one (DELETE /api/tokens/{id}), so they work again.
    assert browser.get("/api/session").status_code == 401
    assert token.get("/api/cases").status_code == 200


def test_a_login_lock_or_an_unlock_does_not_end_the_sessions(office, svc):
    """Otherwise anybody could log a clerk out by typing wrong passwords with his name."""
    browser, _ = logged_in(office)
    stranger = Client(office)
    for _ in range(5):
        stranger.post("/api/session", json={"username": "oficial1", "password": "mal"})
        svc.clock.advance(seconds=10)
    assert stranger.post("/api/session", json={"username": "oficial1", "password": PASSWORD}).status_code == 429
    assert browser.get("/api/session").status_code == 200
    assert admin(office, svc).patch("/api/users/oficial1", json={"unlock": True}).status_code == 200
    assert browser.get("/api/session").status_code == 200


def answers(app, svc, username: str) -> list[tuple]:
    """The API's answers to one fixed series of logins with `username`: wrong passwords through the slow-down
    to the lock, then the right password (PASSWORD) while locked."""
    client = Client(app)

    def attempt(password="mal"):
        r = client.post("/api/session", json={"username": username, "password": password})
        return r.status_code, r.get_json(), sorted(r.headers.items())

    seen = [attempt(), attempt(), attempt()]        # 1st, 2nd failure; the 3rd comes too soon (429, 1 s)
    for wait_seconds in (1.5, 3, 5):                # 3rd, 4th and 5th failures, each after the wait it earned
        svc.clock.advance(seconds=wait_seconds)
        seen.append(attempt())
    seen.append(attempt(PASSWORD))                  # locked: even the right password gets 429
    svc.clock.advance(seconds=60)
    seen.append(attempt(PASSWORD))
    svc.clock.advance(minutes=30)                   # the lock is over
    return seen


def test_unknown_existing_and_disabled_names_get_identical_answers_up_to_and_during_the_lock(office, svc):
    admin(office, svc).patch("/api/users/oficial2", json={"active": False})
    existing = answers(office, svc, "oficial1")
    assert [status for status, _body, _headers in existing] == [401, 401, 429, 401, 401, 401, 429, 429]
    assert existing[-1][1]["code"] == "account_locked" and dict(existing[-1][2])["Retry-After"] == "840"
    assert answers(office, svc, "nadie") == existing
    assert answers(office, svc, "oficial2") == existing
    assert Client(office).post("/api/session", json={"username": "oficial1", "password": PASSWORD}).status_code == 200


def test_the_login_page_answers_alike_for_unknown_and_existing_names(office, svc):
    def page_answers(username):
        client = office.test_client()
        csrf = csrf_of(client.get("/entrar").get_data(as_text=True))
        seen = []
        for _ in range(3):
            r = client.post("/entrar", data={"username": username, "password": "mal", "csrf_token": csrf})
            seen.append((r.status_code, r.get_data(as_text=True).replace(csrf, "CSRF").replace(username, "NAME")))
        svc.clock.advance(minutes=30)
        return seen

    existing = page_answers("oficial1")
    assert [status for status, _html in existing] == [401, 401, 429]
    assert page_answers("fantasma7") == existing


def test_variants_of_a_name_share_its_failures(office, svc):
    client = Client(office)
    for variant in ("OFICIAL1", " oficial1", "Oficial1 ", "ｏｆｉｃｉａｌ１", "oficial1"):
        assert client.post("/api/session", json={"username": variant, "password": "mal"}).status_code == 401
        svc.clock.advance(seconds=10)
    locked = client.post("/api/session", json={"username": "oficial1", "password": PASSWORD})
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "890"


def test_failures_are_forgotten_a_day_after_the_last(office, svc):
    client = Client(office)
    for _ in range(2):
        client.post("/api/session", json={"username": "oficial1", "password": "mal"})
    svc.clock.advance(hours=25)
    assert client.post("/api/session", json={"username": "oficial1", "password": "mal"}).status_code == 401
    # Counted as the 1st failure again, so no wait: the right password gets in at once.
    assert client.post("/api/session", json={"username": "oficial1", "password": PASSWORD}).status_code == 200
