"""One table maps engine errors to HTTP statuses; every error is RFC 9457 problem+json."""
from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from engine import errors

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: list[tuple[type, int]] = [
    (errors.FormInvalid, 422),
    (errors.SpecInvalid, 422),
    (errors.InvalidInput, 400),
    (errors.NotFound, 404),
    (errors.Forbidden, 403),
    (errors.Conflict, 409),
    (errors.ScriptError, 422),
    (errors.LoopLimitExceeded, 422),
    (errors.ExpedienteError, 400),
]


def status_for(exc: errors.ExpedienteError) -> int:
    return next(status for cls, status in STATUS_BY_ERROR if isinstance(exc, cls))


def problem(status: int, title: str, detail: str, **extra):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.ExpedienteError)
    def _domain(exc: errors.ExpedienteError):
        status = status_for(exc)
        return problem(status, exc.code, exc.message, **{k: v for k, v in exc.details.items() if v is not None})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return problem(exc.code or 500, exc.name, exc.description or exc.name)
