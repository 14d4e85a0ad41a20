"""The public status page (`/consulta`): no login; each view is one call to engine.usecases.tracking.

GET shows the form (tracking code and «últimos 4 dígitos del DPI o correo»); POST answers with the case's status.
The second factor travels only in the POST body, never in a URL. An unknown code and a wrong factor are the same
404 page; too many attempts (per client address and per code) a 429 page. The answers are not cached.

While the case waits on the citizen (a previo), the status page holds a form posting files and a note to
`/consulta/respuesta` (with the code and the factor again, as hidden fields of the POST): a receipt page, 200; a
case that waits on no answer 409; a file too big 413, of another type 422.
"""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _

from engine.errors import CaseNotFound, Conflict, InvalidInput, RateLimited
from engine.usecases import tracking
from engine.usecases.attachments import AttachmentRefused, AttachmentTooLarge
from web import i18n
from web.pages import bp, services


def _client() -> str:
    """Who is asking, for the rate limits: the client's address (behind EXPEDIENTE_PROXY_FIX, the proxy's word)."""
    return request.remote_addr or "-"


def _page(template: str, status: int, headers: dict | None = None, **context):
    response = render_template(template, t=i18n.localize, **context)
    return response, status, {"Cache-Control": "no-store", **(headers or {})}


def _refusal(exc: Exception, typed: str):
    """The page for a refused request: the form again for a code or factor not found and for too many attempts
    (429, Retry-After), else the error page with the engine's message."""
    if isinstance(exc, CaseNotFound):
        return _page("pages/consulta.html", 404, typed=typed, error=i18n.localize(exc.message))
    if isinstance(exc, RateLimited):
        return _page("pages/consulta.html", 429, {"Retry-After": str(exc.details["retry_after_seconds"])},
                     typed=typed, error=i18n.localize(exc.message))
    status = {AttachmentTooLarge: 413, AttachmentRefused: 422, Conflict: 409}.get(type(exc), 400)
    return _page("pages/error.html", status, code=status, message=i18n.localize(exc.message))


@bp.get("/consulta")
def tracking_form():
    return _page("pages/consulta.html", 200, typed="")


@bp.post("/consulta")
def tracking_status():
    typed = request.form.get("codigo", "")
    factor = request.form.get("dato", "")
    try:
        shown = tracking.follow_case(services(), typed, factor, _client())
    except (CaseNotFound, RateLimited) as exc:
        return _refusal(exc, typed)
    max_mib = current_app.extensions["expediente.attachments"].max_bytes // (1024 * 1024)
    return _page("pages/consulta_estado.html", 200, shown=shown, factor=factor, max_mib=max_mib,
                 max_files=tracking.MAX_FILES, max_note=tracking.MAX_NOTE_CHARS)


@bp.post("/consulta/respuesta")
def tracking_answer():
    """The citizen's answer to a previo: files and a note, with the code and the factor posted again."""
    typed = request.form.get("codigo", "")
    files = [(f.filename, f.stream) for f in request.files.getlist("archivos") if f and f.filename]
    try:
        receipt = tracking.answer_request(services(), typed, request.form.get("dato", ""), files,
                                          request.form.get("nota", ""), _client(),
                                          current_app.extensions["expediente.attachments"])
    except (CaseNotFound, RateLimited, Conflict, InvalidInput) as exc:
        return _refusal(exc, typed)
    return _page("pages/consulta_recibido.html", 200, receipt=receipt)
