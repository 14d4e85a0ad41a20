"""The browser session the pages and the JSON API share: log in and out, who is signed in, its CSRF token.

The API (api.security) builds its cookie authentication on this module; nothing in web/ imports api/.
"""
from __future__ import annotations

import hmac
import secrets

from flask import current_app, session

from engine.accounts import auth
from engine.accounts.permissions import Principal

# The JSON API's paths (api/): they share this session, and answer their errors as problem+json, not as pages.
API_PREFIX = "/api/"


def services():
    """The engine's services of the running application."""
    return current_app.extensions["expediente"]


def start_session(user: Principal, tag: str) -> str:
    """Log the browser in: a fresh session with a new CSRF token (returned)."""
    session.clear()
    session.permanent = True
    session.update(uid=user.user_id, tag=tag, csrf=secrets.token_urlsafe(32))
    return session["csrf"]


def end_session(user: Principal | None) -> None:
    """Log the browser out, and with it every other browser session of the same account."""
    if user is not None:
        auth.end_sessions(services(), user.user_id)
    session.clear()


def session_principal() -> Principal | None:
    """Who the session cookie belongs to, if its account is still active and the session was not ended."""
    uid, tag = session.get("uid"), session.get("tag")
    if not isinstance(uid, int) or not isinstance(tag, str):
        return None
    found = auth.load_principal(services(), uid, tag)
    if found is None:
        session.clear()  # account disabled, password changed or logged out since login
    return found


def csrf_token() -> str:
    """The session's CSRF token (one is made for anonymous visitors too, for the login form)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_matches(sent: str | None) -> bool:
    """Whether a form field or header carries the session's CSRF token."""
    expected = session.get("csrf", "")
    return bool(sent and expected and hmac.compare_digest(sent, expected))
