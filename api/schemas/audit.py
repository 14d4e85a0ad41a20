"""Shapes of the auditor's desk: integrity status, office key, signed checkpoints, the access log, the event
search and a case's full record."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import Text
from engine.usecases.audit_desk import ACCESS_LOG_MAX_PAGE

MAX_SEQ = 2**62  # any sequence number a BIGINT holds with room; larger ones are refused, not compared


class CheckpointSchema(Schema):
    id = fields.Integer(required=True)
    tree_size = fields.Integer(required=True, metadata={"description": "Events 1..tree_size are under the root"})
    root_hash = fields.String(required=True, metadata={"description": "RFC 6962 Merkle root, hex"})
    created_at = fields.DateTime(required=True)
    created_by = fields.String(allow_none=True, metadata={"description": "None: the scheduler's daily checkpoint"})
    key_id = fields.String(required=True)
    note = fields.String(required=True, metadata={"description": "The signed note, as an outside party keeps it"})


class VerificationSchema(Schema):
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True)
    ok = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    checkpoints = fields.Integer(required=True)
    problem = fields.String(allow_none=True, metadata={"description": "The first disagreement found, if any"})
    run_by = fields.String(allow_none=True)


class IntegrityStatusSchema(Schema):
    last_verification = fields.Nested(VerificationSchema, allow_none=True, required=True)
    last_checkpoint = fields.Nested(CheckpointSchema, allow_none=True, required=True)
    events = fields.Integer(required=True, metadata={"description": "Sealed events (head of the global chain)"})


class PublicKeySchema(Schema):
    key_id = fields.String(required=True)
    public_key = fields.String(required=True, metadata={"description": 'One line: "ed25519 <base64>"'})
    pem = fields.String(required=True, metadata={"description": "The same key as a SubjectPublicKeyInfo PEM"})


class NoteFormatSchema(Schema):
    format = fields.String(validate=validate.OneOf(("json", "text")),
                           metadata={"description": "text: the bare signed note (as Accept: text/plain)"})


def _before():
    return fields.Integer(validate=validate.Range(1, MAX_SEQ),
                          metadata={"description": "Only rows older than this seq (the previous page's next_before)"})


class _DayRange(Schema):
    date_from = fields.Date(metadata={"description": "First day (office time), inclusive"})
    date_to = fields.Date(metadata={"description": "Last day (office time), inclusive"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("date_to is before date_from.", "date_to")


class AccessLogQuerySchema(_DayRange):
    actor = Text(validate=validate.Length(1, 64))
    action = Text(validate=validate.Length(1, 40), metadata={"description": "e.g. audit.search, audit.case"})
    before = _before()
    limit = fields.Integer(validate=validate.Range(1, ACCESS_LOG_MAX_PAGE), load_default=50)


class AccessEntrySchema(Schema):
    seq = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(allow_none=True)
    action = fields.String(required=True)
    target = fields.String(allow_none=True)
    detail = fields.Raw(allow_none=True, metadata={"description": "What was asked (filters, format), as JSON"})
    chain = fields.String(required=True)


class AccessLogPageSchema(Schema):
    items = fields.List(fields.Nested(AccessEntrySchema), required=True)
    next_before = fields.Integer(allow_none=True, required=True)
