"""The auditor's desk: integrity status, the office's public key, signed checkpoints, the event search across cases
(a page, or the whole selection streamed as CSV or JSON), a case's full record and its verifiable export, and the
access log of who viewed and exported what. Auditors and admins only; every look at the record is logged."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.audit import (
    AccessLogPageSchema, AccessLogQuerySchema, CheckpointSchema, IntegrityStatusSchema, NoteFormatSchema,
    PublicKeySchema,
)
from api.security import calls, principal, services
from engine.usecases import audit_desk

blp = ApiBlueprint("audit", __name__, url_prefix="/api/audit", description="Auditoría")
_TEXT = {"type": "string"}


def wants(query_format: str | None, mimetype: str, name: str) -> bool:
    """Whether the caller asked for `name` (?format=) or, without a format, prefers `mimetype` over JSON."""
    if query_format is not None:
        return query_format == name
    best = request.accept_mimetypes.best_match(["application/json", mimetype])
    return best == mimetype and request.accept_mimetypes[mimetype] > request.accept_mimetypes["application/json"]


@blp.route("/status")
class Status(MethodView):
    @calls(audit_desk.desk_status)
    @blp.response(200, IntegrityStatusSchema)
    def get(self):
        """The integrity of the history: the last verification run, the last signed checkpoint, the sealed
        events."""
        return audit_desk.desk_status(services(), principal())


@blp.route("/public-key")
class PublicKey(MethodView):
    @calls(audit_desk.office_public_key)
    @blp.response(200, PublicKeySchema)
    def get(self):
        """The office's Ed25519 public key that verifies checkpoints and case exports (one line and PEM)."""
        return audit_desk.office_public_key(services(), principal())


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @calls(audit_desk.list_checkpoints)
    @blp.response(200, CheckpointSchema(many=True))
    def get(self):
        """Every signed checkpoint of the events' Merkle tree, the oldest first."""
        return audit_desk.list_checkpoints(services(), principal())

    @calls(audit_desk.sign_checkpoint)
    @blp.response(201, CheckpointSchema)
    @blp.alt_response(200, schema=CheckpointSchema, description="No event since the latest checkpoint: that one")
    def post(self):
        """Sign a checkpoint of every event so far now (201); when no event came since the latest one, that
        one (200)."""
        row, created = audit_desk.sign_checkpoint(services(), principal())
        return row, 201 if created else 200


@blp.route("/checkpoints/latest")
class LatestCheckpoint(MethodView):
    @calls(audit_desk.latest_checkpoint)
    @blp.arguments(NoteFormatSchema, location="query")
    @blp.response(200, CheckpointSchema)
    @blp.doc(responses={"200": {"content": {"text/plain": {"schema": _TEXT}}}})
    def get(self, args):
        """The newest signed checkpoint; with `Accept: text/plain` or `?format=text`, only its signed note (the
        short text an outside party keeps). 404 before the first checkpoint."""
        row = audit_desk.latest_checkpoint(services(), principal())
        if wants(args.get("format"), "text/plain", "text"):
            return Response(row["note"], mimetype="text/plain")
        return row


@blp.route("/access-log")
class AccessLog(MethodView):
    @calls(audit_desk.access_log)
    @blp.arguments(AccessLogQuerySchema, location="query")
    @blp.response(200, AccessLogPageSchema)
    def get(self, args):
        """Who viewed and exported what of the record, the newest first, filtered by actor, action and office
        days; page on with `before` = the previous page's next_before. Reading it is logged too."""
        return audit_desk.access_log(services(), principal(), **args)
