"""One-time form tokens: a page form sent twice (a double click, a reload, a retry after a timeout) acts once.

Each rendering of a protected form carries a fresh token (`submission_token()` in templates). The page handler
binds it as the user's idempotency key (engine.storage.idempotency, the same table as the API's Idempotency-Key), so it
is recorded with the use case's changes; a second submission of the same token gets the first redirect (PRG).
A rejected submission records nothing, so the clerk corrects the form and sends it again as before.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from functools import wraps

from flask import flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _

from engine.storage import idempotency
from engine.errors import Conflict
from web import i18n
from web.pages import bp, error_page, services

FIELD = "submission_token"
# A second submission waits this long for the first to finish before saying it is still being processed.
REPLAY_WAIT_SECONDS = 30.0


def submission_token() -> str:
    """A fresh token for one rendering of a form."""
    return uuid.uuid4().hex


@bp.app_context_processor
def _token_for_templates():
    return {"submission_token": submission_token}


def single_submission(unless=None):
    """Protect a page's POST with the form's token; `unless(form)` exempts harmless submissions (a draft)."""
    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            token = request.form.get(FIELD) if request.method == "POST" else None
            if not token or g.user is None or (unless is not None and unless(request.form)):
                return view(*args, **kwargs)  # a form rendered before tokens existed still works
            idempotency.check_key(token, FIELD)
            svc = services()
            try:
                with idempotency.claim(svc, g.user.user_id, token, _fingerprint()) as bound:
                    response = make_response(view(*args, **kwargs))
            except idempotency.IdempotentReplay as replay:
                return _replayed(svc, replay.claim)
            idempotency.store_answer(svc, bound, idempotency.Answer(
                response.status_code, None, None, response.headers.get("Location")))
            return response
        return inner
    return wrap


def _replayed(svc, claim: idempotency.Claim):
    try:
        answer = idempotency.wait_for_answer(svc, claim, REPLAY_WAIT_SECONDS, FIELD)
    except Conflict as exc:
        return error_page(409, i18n.localize(exc.message))
    flash(_("Este formulario ya se había enviado; se muestra el resultado del primer envío."), "info")
    if 300 <= answer.status < 400 and answer.location:
        return redirect(answer.location, code=answer.status)
    return redirect(url_for("pages.inbox"))


def _fingerprint() -> str:
    # A page's token is rendered into one form, so the form's address identifies the request.
    return hashlib.sha256(json.dumps(["page", request.method, request.path]).encode()).hexdigest()
