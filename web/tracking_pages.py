"""The public status page (`/consulta`): no login; each view is one call to engine.usecases.tracking.

GET shows the form (tracking code and «últimos 4 dígitos del DPI o correo»); POST answers with the case's status.
The second factor travels only in the POST body, never in a URL. An unknown code and a wrong factor are the same
404 page; too many attempts (per client address and per code) a 429 page. The answers are not cached.
"""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from engine.errors import CaseNotFound, RateLimited
from engine.usecases import tracking
from web import i18n
from web.pages import bp, services


def _client() -> str:
    """Who is asking, for the rate limits: the client's address (behind EXPEDIENTE_PROXY_FIX, the proxy's word)."""
    return request.remote_addr or "-"


def _page(template: str, status: int, **context):
    response = render_template(template, t=i18n.localize, **context)
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/consulta")
def tracking_form():
    return _page("pages/consulta.html", 200, typed="")


@bp.post("/consulta")
def tracking_status():
    typed = request.form.get("codigo", "")
    factor = request.form.get("dato", "")
    try:
        shown = tracking.follow_case(services(), typed, factor, _client())
    except CaseNotFound as exc:
        return _page("pages/consulta.html", 404, typed=typed, error=i18n.localize(exc.message))
    except RateLimited as exc:
        page = _page("pages/consulta.html", 429, typed=typed, error=i18n.localize(exc.message))
        return page[0], 429, {**page[2], "Retry-After": str(exc.details["retry_after_seconds"])}
    return _page("pages/consulta_estado.html", 200, shown=shown, factor=factor)
