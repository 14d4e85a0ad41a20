"""Who is calling (session cookie or bearer token), CSRF, and the action each view needs.

Views declare their action with @requires("case.read") (or @public); one before-request hook
authenticates, checks CSRF and asks engine.permissions before any argument is even parsed.
A view without a declaration is refused, so forgetting one fails closed.
"""
from __future__ import annotations

import hmac
import logging
import secrets

from flask import Flask, current_app, g, request, session

from engine import auth, permissions
from engine.errors import Forbidden
from engine.permissions import NotAuthenticated, Principal

API_PREFIX = "/api/"
PUBLIC = "public"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
# Flask views outside our resources that anyone may call (smorest's document and its viewer).
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui"})
log = logging.getLogger(__name__)


class CsrfRejected(Forbidden):
    code = "csrf_rejected"


def requires(action: str):
    """Declare the permission a view method needs (an action of engine.permissions.RULES)."""
    if action not in permissions.RULES:
        raise ValueError(f"unknown action {action!r}")

    def mark(fn):
        fn._permission = action
        return fn
    return mark


def public(fn):
    """Declare a view method anyone may call (its own logic decides what it reveals)."""
    fn._permission = PUBLIC
    return fn


def principal() -> Principal:
    """The authenticated caller of the current request (views run only once one is known)."""
    return g.principal


def services():
    return current_app.extensions["expediente"]


def permission_of(endpoint: str, method: str) -> str | None:
    """The declared action of the view method that will answer this request."""
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    cls = getattr(view, "view_class", None)
    if cls is None:
        return getattr(view, "_permission", None)
    name = method.lower()
    handler = getattr(cls, name, None) or (getattr(cls, "get", None) if name == "head" else None)
    return getattr(handler, "_permission", None)


def start_session(user: Principal, tag: str) -> str:
    """Log the browser in: a fresh session with a new CSRF token (returned)."""
    session.clear()
    session.permanent = True
    session.update(uid=user.user_id, tag=tag, csrf=secrets.token_urlsafe(32))
    return session["csrf"]


def _from_bearer(header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use 'Authorization: Bearer <token>'.")
    found = auth.principal_for_token(services(), token.strip())
    if found is None:
        raise NotAuthenticated("El token no es válido o ya venció.")
    return found


def _from_session() -> Principal | None:
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    found = auth.load_principal(services(), uid, session.get("tag"))
    if found is None:
        session.clear()  # account disabled or password changed since login
    return found


def _check_csrf() -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    expected = session.get("csrf", "")
    if not (sent and expected and hmac.compare_digest(sent, expected)):
        raise CsrfRejected("Falta el encabezado X-CSRF-Token o no coincide con la sesión "
                           "(obténgalo con GET /api/session).")


def authorize_request() -> None:
    """Before every request: identify the caller and apply the view's declared permission."""
    g.principal, g.via = None, None
    if request.url_rule is None or request.method == "OPTIONS":
        return  # 404/405 answer by themselves; OPTIONS is answered by Flask
    if not request.path.startswith(API_PREFIX):
        return  # pages check their own sessions (through engine.permissions as well)
    header = request.headers.get("Authorization")
    if header:
        g.principal, g.via = _from_bearer(header), "token"
    elif request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        g.principal = _from_session()
        g.via = "session" if g.principal else None
        # A cookie-authenticated change must prove it comes from our own page.
        if g.principal is not None and request.method not in SAFE_METHODS:
            _check_csrf()
    action = permission_of(request.endpoint, request.method)
    if action == PUBLIC:
        return
    if action is None:
        log.error("endpoint %s %s declares no permission; refused", request.method, request.endpoint)
        raise Forbidden("Esta operación no declara permisos; se rechaza por seguridad.")
    permissions.require(g.principal, action)


def protect_response(response):
    """API answers are personal: never cached by a shared proxy or the browser, never content-sniffed."""
    if request.path.startswith(API_PREFIX):
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def init_app(app: Flask) -> None:
    app.before_request(authorize_request)
    app.after_request(protect_response)
