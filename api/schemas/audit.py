"""Shapes of the auditor's desk: integrity status, office key, signed checkpoints, the access log, the event
search and a case's full record."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import LocalizedText, Text
from api.schemas.work import AttachmentSchema, IssuedDocumentSchema, TaskSchema
from engine.usecases.audit import EVENT_KINDS, MAX_LIMIT as SEARCH_MAX_LIMIT
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


# --- the event search ---------------------------------------------------------------------------
class EventQuerySchema(_DayRange):
    actor = Text(validate=validate.Length(1, 64))
    process_key = Text(validate=validate.Length(1, 100))
    element_id = Text(validate=validate.Length(1, 200))
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    case_number = Text(validate=validate.Length(1, 64))
    municipality = Text(validate=validate.Length(1, 100))
    before = _before()
    limit = fields.Integer(validate=validate.Range(1, SEARCH_MAX_LIMIT), load_default=50)
    format = fields.String(validate=validate.OneOf(("csv", "json")),
                           metadata={"description": "The whole selection, oldest first, streamed as a download "
                                                    "(X-Total-Count: its rows) instead of a page"})


class AuditEventSchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "Place in the global history"})
    case_seq = fields.Integer(required=True, metadata={"description": "Place in its case's history"})
    case_id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    process_key = fields.String(required=True)
    municipality = fields.String(allow_none=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    element_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True, metadata={"description": "The data the step submitted"})
    changes = fields.Raw(allow_none=True, metadata={"description": "{field: [before, after]} in the case data"})
    leaf_hash = fields.String(required=True)


class EventPageSchema(Schema):
    events = fields.List(fields.Nested(AuditEventSchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "Events in the whole selection"})
    next_before = fields.Integer(allow_none=True, required=True)


# --- a case's full record -----------------------------------------------------------------------
class RecordCaseSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    process_key = fields.String(required=True)
    process_name = fields.String(required=True)
    process_version = fields.Integer(required=True)
    content_hash = fields.String(required=True, metadata={"description": "SHA-256 of the diagram version"})
    state = fields.String(required=True)
    title = fields.String(allow_none=True)
    applicant_name = fields.String(allow_none=True)
    applicant_dpi = fields.String(allow_none=True)
    municipality = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    error_element = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)


class RecordStepSchema(Schema):
    seq = fields.Integer(required=True)
    case_seq = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    actor = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    element_name = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True)
    changes = fields.Raw(allow_none=True)
    leaf_hash = fields.String(required=True)
    process_version = fields.Integer(required=True)


class RecordTaskSchema(TaskSchema):
    breached = fields.Boolean(required=True, metadata={"description": "Completed after due_at, or open past it"})
    working_days_used = fields.Integer(allow_none=True)
    working_days_allowed = fields.Integer(allow_none=True)


class RecordDocumentSchema(IssuedDocumentSchema):
    class Meta:
        exclude = ("case_id", "task_id", "correction_reason", "citizen_facing")

    title = LocalizedText(required=True)
    signers = fields.Raw(required=True)


class RecordAttachmentSchema(AttachmentSchema):
    class Meta:
        exclude = ("case_id",)

    pages = fields.Integer(allow_none=True)


class RecordMailSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    to_address = fields.String(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)
    document_id = fields.Integer(allow_none=True)


class RecordVersionSchema(Schema):
    process_key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    content_hash = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    bpmn_url = fields.String(required=True)


class CaseChainSchema(Schema):
    ok = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    broken_at = fields.Integer(allow_none=True, required=True, metadata={"description": "First case_seq that "
                                                                                        "disagrees"})
    problem = fields.String(allow_none=True, required=True)


class CaseRecordSchema(Schema):
    case = fields.Nested(RecordCaseSchema, required=True)
    steps = fields.List(fields.Nested(RecordStepSchema), required=True)
    tasks = fields.List(fields.Nested(RecordTaskSchema), required=True)
    documents = fields.List(fields.Nested(RecordDocumentSchema), required=True)
    attachments = fields.List(fields.Nested(RecordAttachmentSchema), required=True)
    mail = fields.List(fields.Nested(RecordMailSchema), required=True)
    people = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), required=True,
                         metadata={"description": "username -> display name"})
    versions = fields.List(fields.Nested(RecordVersionSchema), required=True)
    integrity = fields.Nested(IntegrityStatusSchema, required=True)
    chain = fields.Nested(CaseChainSchema, required=True, metadata={"description": "The case's own hash chain, "
                                                                                    "recomputed from its rows"})
