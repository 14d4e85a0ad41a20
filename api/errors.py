"""One table maps engine errors to HTTP statuses; every error is RFC 9457 problem+json."""
from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from engine import errors
from engine.usecases.attachments import AttachmentRefused, AttachmentTooLarge
from engine.accounts.auth import AccountLocked
from engine.storage.idempotency import IdempotencyKeyReused, IdempotentReplay
from engine.accounts.permissions import NotAssignable, NotAuthenticated
from engine.runtime.storable import StateRejected
from engine.values import ValueRejected
from web.i18n import localize

PROBLEM_MIMETYPE = "application/problem+json"
log = logging.getLogger(__name__)

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: list[tuple[type, int]] = [
    (NotAuthenticated, 401),
    (AccountLocked, 429),
    (errors.RateLimited, 429),
    (AttachmentTooLarge, 413),
    (AttachmentRefused, 422),
    (NotAssignable, 422),
    (IdempotencyKeyReused, 422),
    (IdempotentReplay, 409),  # a replay is answered by api.idempotency; this only if one escapes
    (errors.FormInvalid, 422),
    (ValueRejected, 422),
    (StateRejected, 422),
    (errors.SpecInvalid, 422),
    (errors.InvalidInput, 400),
    (errors.NotFound, 404),
    (errors.Forbidden, 403),
    (errors.Conflict, 409),
    (errors.ScriptError, 422),
    (errors.LoopLimitExceeded, 422),
    # The request and the case are fine; the case's stored state conflicts with what this build reads,
    # until an upgrade step is added: not the client's content (422), and a known state, not a crash (500).
    (errors.SerializerVersionUnsupported, 409),
    (errors.ExpedienteError, 400),
]


def status_for(exc: errors.ExpedienteError) -> int:
    return next(status for cls, status in STATUS_BY_ERROR if isinstance(exc, cls))


def problem(status: int, detail: str, code: str | None = None, errors: list | None = None, **extra):
    """A problem+json response; `errors` lists field-level problems as [{field, message}]."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = {"type": "about:blank", "title": phrase, "status": status, "detail": detail,
            "code": code or phrase.lower().replace(" ", "_"), **extra}
    if errors:
        body["errors"] = [_field_error(e) for e in errors]
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    return response


def _field_error(item) -> dict:
    if not isinstance(item, dict):
        return {"field": None, "message": str(localize(item))}
    # Spec problems name a file and element rather than a field.
    field = item.get("field") or item.get("element_id") or item.get("file")
    message = item.get("message") or item.get("keyword") or "invalid"
    return {**item, "field": field, "message": str(localize(message))}


def flatten_messages(messages) -> list[dict]:
    """marshmallow/webargs {location: {field: [msg]}} -> [{field, message, location}]."""
    out = []
    for location, fields in (messages or {}).items():
        for field, message in _walk(fields, ()):
            out.append({"field": field or None, "message": message, "location": location})
    return out


def _walk(node, path):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, path if key == "_schema" else path + (str(key),))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
    else:
        yield "/".join(path), str(node)


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as problem+json: domain errors by the table, HTTP errors as they are."""

    @app.errorhandler(errors.ExpedienteError)
    def _domain(exc: errors.ExpedienteError):
        status = status_for(exc)
        details = {k: v for k, v in exc.details.items() if v is not None and k != "errors"}
        # Engine messages are Spanish; localize answers in the request's language (Accept-Language, session).
        response = problem(status, str(localize(exc.message)), exc.code, exc.details.get("errors"), **details)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="expediente"'
        if "retry_after_seconds" in details:
            response.headers["Retry-After"] = str(details["retry_after_seconds"])
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        # webargs puts marshmallow's messages under "messages", keyed by location.
        field_errors = flatten_messages(data.get("messages")) if "messages" in data else None
        code = exc.code or 500
        response = problem(code, data.get("message") or exc.description or exc.name, errors=field_errors)
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]  # e.g. Allow on 405
        for key, value in headers + list((data.get("headers") or {}).items()):
            response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Last net only: every input must map to a 4xx above; a 500 here is a bug to fix at its root.
        log.exception("unhandled error")
        return problem(500, "Error interno; el equipo técnico fue notificado.", "internal_error")
