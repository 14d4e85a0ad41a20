"""Who is calling (session cookie or bearer token), CSRF, the action each view needs, and the protective
headers of every answer.

Views declare the use case they call with @calls(tasks.claim_task), or @public; one before-request hook
authenticates, checks CSRF and refuses a role the use case's action (engine.accounts.permissions.RULES) does not
allow, before any argument is even parsed; the use case checks again, with the rows, when it runs.
A view without a declaration is refused, so forgetting one fails closed. The browser session itself lives in
web.session, which the pages share.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.accounts import auth
from engine.accounts import permissions
from engine.errors import Forbidden
from engine.accounts.permissions import NotAuthenticated, Principal
from web.session import API_PREFIX, csrf_matches, services, session_principal

PUBLIC = "public"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
# Flask views outside our resources that anyone may call (smorest's document and its viewer).
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui"})
# Every answer, page or API: only our own scripts run (no inline ones, no eval), nothing frames us. Measured in
# Chromium (tests/e2e/test_csp_browser.py): the modeler (diagram-js) writes style attributes, so those are
# allowed while <style> elements are not; the modeler's bundled fonts and Swagger UI's icons are data: URIs.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
log = logging.getLogger(__name__)


class CsrfRejected(Forbidden):
    code = "csrf_rejected"


def calls(use_case):
    """Declare the use case a view calls: the view needs the action that use case performs."""
    action = getattr(use_case, "action", None)
    if action not in permissions.RULES:
        raise ValueError(f"{getattr(use_case, '__name__', use_case)!r} declares no action (use permissions.use_case)")

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


def _from_bearer(header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use 'Authorization: Bearer <token>'.")
    found = auth.principal_for_token(services(), token.strip())
    if found is None:
        raise NotAuthenticated("El token no es válido o ya venció.")
    return found


def _check_csrf() -> None:
    if not csrf_matches(request.headers.get(CSRF_HEADER)):
        raise CsrfRejected("Falta el encabezado X-CSRF-Token o no coincide con la sesión "
                           "(obténgalo con GET /api/session).")


def authorize_request() -> None:
    """Before every request: identify the caller and apply the view's declared permission."""
    g.principal, g.via = None, None
    if request.url_rule is None or request.method == "OPTIONS":
        return  # 404/405 answer by themselves; OPTIONS is answered by Flask
    if not request.path.startswith(API_PREFIX):
        return  # pages read the session themselves (web.session) and call use cases that check the role
    header = request.headers.get("Authorization")
    if header:
        g.principal, g.via = _from_bearer(header), "token"
    elif request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        g.principal = session_principal()
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
    """Every answer gets SECURITY_HEADERS; API answers are personal, so never cached by a proxy or the browser."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith(API_PREFIX):
        response.headers["Cache-Control"] = "no-store"
    return response


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, its cookie marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    # Behind N reverse proxies, trust their X-Forwarded-For/-Proto/-Host/-Port, so request.is_secure (and
    # so the Secure cookie) follows the visitor's scheme; off by default: a direct client could forge them.
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.before_request(authorize_request)
    app.after_request(protect_response)
