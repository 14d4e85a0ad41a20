"""Shapes of messages and signals: what a caller posts, what the supervisors' list and one message show."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import JsonObject, LocalizedText, Text

MESSAGE_STATES = ("queued", "pending", "delivered", "undeliverable", "discarded")
MAX_LIST_ROWS = 200


class PostMessageSchema(Schema):
    name = Text(required=True, validate=validate.Length(1, 200),
                metadata={"description": "The message's name, as a catch event's message names it"})
    correlation = JsonObject(required=True, validate=validate.Length(min=1), metadata={
        "description": "Keys the waiting catch must match: \"caso\" (case id), \"expediente\" (case number), or "
                       "any key its `correlacion` property declares"})
    payload = JsonObject(load_default=dict, metadata={"description": "Data the waiting case receives"})


class SignalSchema(Schema):
    name = Text(required=True, validate=validate.Length(1, 200))
    process_key = Text(load_default=None, allow_none=True, validate=validate.Length(1, 100),
                       metadata={"description": "Only the cases of this procedure (default: every procedure)"})
    payload = JsonObject(load_default=dict)


class CaseRefSchema(Schema):
    case_id = fields.Integer(required=True)
    number = fields.String(required=True)


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(MESSAGE_STATES))
    reason = LocalizedText(allow_none=True, metadata={"description": "Why it is pending or undeliverable"})
    cases = fields.List(fields.Nested(CaseRefSchema), required=True,
                        metadata={"description": "The cases it was delivered to, or started"})


class MessageQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(MESSAGE_STATES))
    name = Text(validate=validate.Length(1, 200))
    case_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "Messages a case sent or received"})
    limit = fields.Integer(validate=validate.Range(1, MAX_LIST_ROWS), load_default=50)
    before = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                            metadata={"description": "Only messages older than this id (the `next` of a page)"})


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "message or signal"})
    name = fields.String(required=True)
    correlation = fields.Dict(allow_none=True)
    payload = fields.Dict(allow_none=True)
    process_key = fields.String(allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(MESSAGE_STATES))
    reason = LocalizedText(allow_none=True)
    source = fields.String(required=True, metadata={"description": "api, case or institution"})
    source_case_id = fields.Integer(allow_none=True)
    source_case_number = fields.String(allow_none=True)
    source_element = fields.String(allow_none=True)
    target_case_id = fields.Integer(allow_none=True)
    target_case_number = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    attempts = fields.Integer(allow_none=True)
    cases = fields.List(fields.Nested(CaseRefSchema), metadata={"description": "The cases it reached"})


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema), required=True)
    next = fields.Integer(allow_none=True, metadata={"description": "`before` for the next page (None: the last)"})


class DiscardSchema(Schema):
    reason = Text(required=True, validate=validate.Length(1, 500),
                  metadata={"description": "Why the message is set aside (kept with it)"})
