"""Shapes of the administration log (engine/usecases/admin_log.py)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text
from engine.usecases.paging import MAX_PAGE_SIZE


class AdminLogQuerySchema(Schema):
    action = Text(validate=validate.Length(1, 40),
                  metadata={"description": "An action (user.create) or its noun (user): all of its actions"})
    actor = Text(validate=validate.Length(1, 64))
    page = fields.Integer(validate=validate.Range(1, 1_000_000), load_default=1)
    per_page = fields.Integer(validate=validate.Range(1, MAX_PAGE_SIZE), load_default=50)


class AdminEntrySchema(Schema):
    seq = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(allow_none=True, metadata={"description": "None: the system or the command line"})
    action = fields.String(required=True, metadata={"description": "e.g. user.create, group.add_member, lane.set"})
    target = fields.String(required=True, metadata={"description": "The username, group, lane or day changed"})
    detail = fields.Raw(allow_none=True, metadata={"description": "What changed, as JSON"})


class AdminLogPageSchema(Schema):
    items = fields.List(fields.Nested(AdminEntrySchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    has_next = fields.Boolean(required=True)


class PasswordResetSchema(Schema):
    password = Text(validate=validate.Length(10, 1024),
                    metadata={"description": "The new password; omitted, one is generated and returned once"})


class PasswordResetResultSchema(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, metadata={"description": "The new password: shown this once"})


class MemberSchema(Schema):
    username = Text(required=True, validate=validate.Length(1, 64))
