"""The reply page of an institution (`/responder/<token>`): no login; each view is one call to
engine.usecases.institutions.

The link comes in the institution's mail (request_reply). GET shows what is asked (institution, case number,
subject, due date) and a form with the answer's text and its documents; POST (with the session's CSRF token, like
every public form) submits it and shows a receipt. A link no request has is a 404 page, one answered, expired or
of a case that ended a 410 page; neither says anything of the case. Too many requests from one client: 429.
The answers are not cached.
"""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _

from engine.errors import InvalidInput, RateLimited
from engine.usecases import institutions
from engine.usecases.attachments import AttachmentRefused, AttachmentTooLarge
from web import i18n
from web.pages import bp, services

_ANSWERED, _EXPIRED = institutions.ANSWERED, institutions.EXPIRED


def _page(template: str, status: int, headers: dict | None = None, **context):
    return render_template(template, **context), status, {"Cache-Control": "no-store", **(headers or {})}


def _client() -> str:
    return request.remote_addr or "-"


def _refused(exc: Exception):
    """The page for a link that takes no answer (404, 410) or for too many requests (429)."""
    if isinstance(exc, RateLimited):
        return _page("pages/reply_notice.html", 429, {"Retry-After": str(exc.details["retry_after_seconds"])},
                     title=_("Demasiadas solicitudes"),
                     message=_("Se recibieron demasiadas solicitudes desde esta conexión. Intente de nuevo más tarde."))
    if isinstance(exc, institutions.ReplyLinkClosed):
        state = exc.details.get("state")
        if state == _ANSWERED:
            message = _("Esta solicitud ya fue respondida. Cada enlace sirve para una sola respuesta; si necesita "
                        "agregar algo, comuníquese con la Gobernación citando el número de la solicitud del correo.")
        elif state == _EXPIRED:
            message = _("El enlace venció. Si aún debe responder, comuníquese con la Gobernación citando el número "
                        "de la solicitud del correo.")
        else:
            message = _("Esta solicitud ya no espera respuesta. Si tiene dudas, comuníquese con la Gobernación.")
        return _page("pages/reply_notice.html", 410, title=_("El enlace ya no recibe respuestas"), message=message)
    return _page("pages/reply_notice.html", 404, title=_("Enlace no válido"), message=_(
        "Este enlace no corresponde a ninguna solicitud. Revise que lo copió completo del correo electrónico."))


def _form(token: str, shown: dict, status: int = 200, errors: dict | None = None, typed: str = ""):
    return _page("pages/reply_form.html", status, token=token, shown=shown, errors=errors or {}, typed=typed,
                 max_mib=current_app.extensions["expediente.attachments"].max_bytes // (1024 * 1024))


@bp.get("/responder/<token>")
def reply_form(token: str):
    try:
        shown = institutions.reply_page(services(), token, _client())
    except (institutions.ReplyLinkInvalid, institutions.ReplyLinkClosed, RateLimited) as exc:
        return _refused(exc)
    return _form(token, shown)


@bp.post("/responder/<token>")
def reply_submit(token: str):
    svc = services()
    typed = request.form.get(institutions.ANSWER_FIELD, "")
    files = [(f.filename, f.stream) for f in request.files.getlist(institutions.FILES_FIELD) if f and f.filename]
    try:
        receipt = institutions.submit_reply(svc, token, typed, files, client=_client(),
                                            store=current_app.extensions["expediente.attachments"])
    except (institutions.ReplyLinkInvalid, institutions.ReplyLinkClosed, RateLimited) as exc:
        return _refused(exc)
    except InvalidInput as exc:  # no text, too long, too many files, a file too big or of another type
        try:
            shown = institutions.reply_page(svc, token, _client())
        except (institutions.ReplyLinkInvalid, institutions.ReplyLinkClosed, RateLimited) as again:
            return _refused(again)
        field = (exc.details.get("errors") or [{}])[0].get("field")
        if isinstance(exc, (AttachmentTooLarge, AttachmentRefused)) or field not in (institutions.ANSWER_FIELD,):
            field = institutions.FILES_FIELD
        status = 413 if isinstance(exc, AttachmentTooLarge) else 422
        return _form(token, shown, status, {field: i18n.localize(exc.message)}, typed)
    return _page("pages/reply_done.html", 200, receipt=receipt)
