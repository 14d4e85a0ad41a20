"""The auditor's desk: integrity status, the office's public key, signed checkpoints, the event search across cases
(a page, or the whole selection streamed as CSV or JSON), a case's full record and its verifiable export, and the
access log of who viewed and exported what. Auditors and admins only; every look at the record is logged."""
from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.audit import (
    AccessLogPageSchema, AccessLogQuerySchema, CaseRecordSchema, CheckpointSchema, EventPageSchema,
    EventQuerySchema, IntegrityStatusSchema, NoteFormatSchema, PublicKeySchema,
)
from api.security import calls, principal, services
from engine.audit.export import export_case
from engine.usecases import audit, audit_desk
from web import audit_streams

blp = ApiBlueprint("audit", __name__, url_prefix="/api/audit", description="Auditoría")
_TEXT = {"type": "string"}
_BINARY = {"type": "string", "format": "binary"}
_DOWNLOAD = {"X-Total-Count": {"description": "Rows in the whole selection (for a progress bar)",
                               "schema": {"type": "integer"}}}


def wants(query_format: str | None, mimetype: str, name: str) -> bool:
    """Whether the caller asked for `name` (?format=) or, without a format, prefers `mimetype` over JSON."""
    if query_format is not None:
        return query_format == name
    return request.accept_mimetypes[mimetype] > request.accept_mimetypes["application/json"]


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
    @blp.arguments(NoteFormatSchema(), location="query")
    @blp.response(200, CheckpointSchema)
    @blp.doc(responses={200: {"content": {"text/plain": {"schema": _TEXT}}}})
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
    @blp.arguments(AccessLogQuerySchema(), location="query")
    @blp.response(200, AccessLogPageSchema)
    def get(self, args):
        """Who viewed and exported what of the record, the newest first, filtered by actor, action and office
        days; page on with `before` = the previous page's next_before. Reading it is logged too."""
        return audit_desk.access_log(services(), principal(), **args)


@blp.route("/events")
class Events(MethodView):
    @calls(audit.search_events)
    @blp.arguments(EventQuerySchema(), location="query")
    @blp.response(200, EventPageSchema)
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": _TEXT}}, "headers": _DOWNLOAD}})
    def get(self, args):
        """Search the history of every case: events matching all the filters (actor, office days, procedure,
        element, kind, case number, municipality), newest first; page on with `before` = next_before. With
        `format=csv|json` (or `Accept: text/csv`) the whole selection instead, oldest first, streamed as a
        download (the JSON has this page's shape). Every search and export is logged."""
        export_format = args.pop("format", None)
        if export_format is None and wants(None, "text/csv", "csv"):
            export_format = "csv"
        before, limit = args.pop("before", None), args.pop("limit")
        if export_format is not None:
            return audit_streams.search_download(services(), principal(), args, export_format)
        return audit.search_events(services(), principal(), args, limit=limit, before_seq=before)


@blp.route("/cases/<id:case_id>/record")
class Record(MethodView):
    @calls(audit.case_record)
    @blp.response(200, CaseRecordSchema)
    def get(self, case_id):
        """A case's full record: each step with who, when, the data submitted and what it changed; its tasks'
        deadlines against the time taken (breaches marked); documents, attachments and mail with their hashes;
        the diagram version; the integrity status and the case's own chain recomputed. Logged."""
        return audit.case_record(services(), principal(), case_id)


@blp.route("/cases/<id:case_id>/export")
class Export(MethodView):
    @calls(export_case)
    @blp.response(200, _BINARY, content_type="application/zip")
    def get(self, case_id):
        """The case's verifiable audit export, a ZIP streamed while it is written: events with their inclusion
        proofs against a signed checkpoint (one is signed when none covers the case yet), consistency proofs,
        index (JSON, CSV, PDF), documents, attachments, diagrams and a signed manifest. Check it offline with
        `expediente audit verify-export FILE` and the office public key. Logged."""
        return audit_streams.zip_download(services(), principal(), current_app.extensions["expediente.attachments"],
                                          case_id)
