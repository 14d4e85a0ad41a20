"""The Idempotency-Key header: a retried write gets the first answer (marked Idempotent-Replayed), changes nothing.

`@idempotent` goes on a view method, below `@calls`: it checks the header, fingerprints the request and binds
the key around the view (engine.storage.idempotency records it with the use case's changes). A request whose key is
already recorded waits for the first answer and returns it; the same key with another request is a 422.
"""
from __future__ import annotations

import hashlib
import json
from functools import wraps

from flask import current_app, make_response, request
from flask_smorest import Blueprint

from api.security import principal, services
from engine.storage import idempotency

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# A replay waits this long for the first request to finish (a slow step); then 409, to be retried.
REPLAY_WAIT_SECONDS = 30.0
_CHUNK_BYTES = 64 * 1024
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "description": "Any unique value (a UUID) per intended action. A retry with the same key, by the same user, "
                   "returns the first answer with `Idempotent-Replayed: true` and changes nothing; the same key "
                   "with a different request is refused (422). Keys are kept for 24 hours (by default).",
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_CHARS,
               "pattern": "^[\\x21-\\x7e]+$"},
}


def idempotent(view):
    """Let a retry that carries the same Idempotency-Key get the first answer instead of acting again."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        idempotency.check_key(key, HEADER)
        svc = services()
        try:
            with idempotency.claim(svc, principal().user_id, key, fingerprint()) as bound:
                response = make_response(view(*args, **kwargs))
        except idempotency.IdempotentReplay as replay:
            return _replayed(idempotency.wait_for_answer(svc, replay.claim, REPLAY_WAIT_SECONDS, HEADER))
        idempotency.store_answer(svc, bound, idempotency.Answer(
            response.status_code, response.get_data(as_text=True), response.content_type,
            response.headers.get("Location")))
        return response
    return Blueprint.doc(parameters=[PARAMETER])(wrapper)


def _replayed(answer: idempotency.Answer):
    response = current_app.response_class(answer.body or "", status=answer.status, content_type=answer.content_type)
    if answer.location:
        response.headers["Location"] = answer.location
    response.headers[REPLAYED_HEADER] = "true"
    return response


def fingerprint() -> str:
    """sha256 of what makes two requests the same: method, path, query and body (a form's fields and files'
    contents, not its random multipart boundary)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([request.method, request.path, request.query_string.decode("latin-1")]).encode())
    if request.mimetype in _FORM_TYPES:
        # A part whose name the multipart parser could not read has the name None: ordered as "", not compared.
        fields = sorted(request.form.items(multi=True), key=lambda item: (item[0] or "", item[1] or ""))
        files = [[name, storage.filename, _file_sha256(storage)]
                 for name, storage in sorted(request.files.items(multi=True), key=lambda item: item[0] or "")]
        digest.update(json.dumps([fields, files]).encode())
    else:
        digest.update(b"\n")
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _file_sha256(storage) -> str:
    stream = storage.stream
    start = stream.tell()
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK_BYTES):
        digest.update(chunk)
    stream.seek(start)  # the view reads the file next
    return digest.hexdigest()
