"""Issue 12: every answer, page or API, carries the Content-Security-Policy and its companions, no template runs an
inline script, and the session cookie is Secure whenever the browser came over HTTPS."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.security import CONTENT_SECURITY_POLICY
from engine.config import PROJECT_ROOT
from tests.api.conftest import PASSWORD, Client, make_app

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
TEMPLATE_DIRS = [PROJECT_ROOT / "web" / "templates", PROJECT_ROOT / "web" / "modeler_templates",
                 PROJECT_ROOT / "api" / "templates"]
# A <script> element that is neither a file nor a JSON data block; an on...= handler attribute; a javascript: URL.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=|javascript:", re.I)


def test_the_policy_allows_only_our_own_scripts_and_no_framing():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in directives["style-src"]


@pytest.mark.parametrize("path,status", [
    ("/entrar", 200),                  # a page
    ("/no-existe", 404),               # an error page
    ("/api/processes", 401),           # an API error
    ("/api/no-existe", 404),
    ("/api/docs", 200),                # Swagger UI
    ("/api/openapi.json", 200),
    ("/static/app.css", 200),
    ("/health", 200),
])
def test_every_kind_of_answer_carries_the_security_headers(anonymous, path, status):
    response = anonymous.get(path)
    if path == "/health":
        status = response.status_code  # 503 without a scheduler's heartbeat: the headers are what matter here
    assert response.status_code == status
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED


def test_an_api_answer_and_a_signed_in_page_carry_them_too(as_user, anonymous):
    assert {k: as_user("oficial1").get("/api/processes").headers.get(k) for k in EXPECTED} == EXPECTED
    anonymous.post("/api/session", json={"username": "oficial1", "password": PASSWORD})
    page = anonymous.get("/bandeja")
    assert page.status_code == 200
    assert {k: page.headers.get(k) for k in EXPECTED} == EXPECTED


def test_api_answers_are_never_cached_and_pages_may_be(anonymous):
    assert anonymous.get("/api/processes").headers["Cache-Control"] == "no-store"
    assert anonymous.get("/entrar").headers.get("Cache-Control") != "no-store"


def test_the_api_docs_page_runs_no_inline_script(anonymous):
    html = anonymous.get("/api/docs").get_data(as_text=True)
    assert INLINE_SCRIPT.findall(html) == [] and HANDLER.findall(html) == []
    assert '<script src="/static/js/swagger_ui.js">' in html
    assert anonymous.get("/static/js/swagger_ui.js").status_code == 200


def test_no_template_has_an_inline_script_or_an_event_handler():
    found = {}
    for directory in TEMPLATE_DIRS:
        for path in sorted(Path(directory).rglob("*.html")):
            text = path.read_text()
            hits = INLINE_SCRIPT.findall(text) + HANDLER.findall(text)
            if hits:
                found[str(path.relative_to(PROJECT_ROOT))] = hits
    assert found == {}


def login(client: Client, **kwargs):
    return client.post("/api/session", json={"username": "oficial1", "password": PASSWORD}, **kwargs)


def test_the_session_cookie_is_secure_over_https_only(anonymous):
    assert "; Secure" in login(anonymous, base_url="https://expediente.example").headers["Set-Cookie"]
    assert "; Secure" not in login(anonymous).headers["Set-Cookie"]


def test_the_pages_login_sets_a_secure_cookie_over_https(app):
    client = app.test_client()
    base = "https://expediente.example"
    form = client.get("/entrar", base_url=base).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/entrar", base_url=base,
                           data={"username": "oficial1", "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 302 and "; Secure" in response.headers["Set-Cookie"]


def test_the_setting_marks_the_cookie_secure_even_over_http(seeded, tmp_path):
    client = Client(make_app(seeded, tmp_path, SESSION_COOKIE_SECURE=True))
    assert "; Secure" in login(client).headers["Set-Cookie"]


def test_a_forwarded_https_counts_only_behind_the_configured_proxy(seeded, tmp_path, anonymous):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert "; Secure" not in login(anonymous, headers=forwarded).headers["Set-Cookie"]
    behind_proxy = Client(make_app(seeded, tmp_path, PROXY_FIX=1))
    assert "; Secure" in login(behind_proxy, headers=forwarded).headers["Set-Cookie"]


def test_the_cookie_and_proxy_settings_are_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "`EXPEDIENTE_SESSION_COOKIE_SECURE`" in readme and "`EXPEDIENTE_PROXY_FIX`" in readme
