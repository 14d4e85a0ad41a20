"""Shapes of process drafts, their validation and the differences between diagrams."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text
from api.schemas.processes import SpecProblemSchema


class ProcessDraftSummarySchema(Schema):
    process_key = fields.String(required=True)
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(required=True)
    base_version = fields.Integer(allow_none=True, metadata={"description": "version the draft started from"})
    revision = fields.Integer(required=True, metadata={"description": "increases on every save; send it back"})


class ProcessDraftSchema(ProcessDraftSummarySchema):
    xml = fields.String(required=True)
    valid = fields.Boolean(required=True, metadata={"description": "False: publishing would be refused"})
    problems = fields.List(fields.Nested(SpecProblemSchema), required=True)


class NewProcessDraftSchema(Schema):
    process_key = Text(required=True, validate=validate.Length(1, 100))
    name = Text(validate=validate.Length(max=200), load_default="",
                metadata={"description": "name of a new process (ignored when the process exists)"})


class SaveProcessDraftSchema(Schema):
    xml = Text(required=True, validate=validate.Length(1, 2 * 1024 * 1024))
    base_version = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 2**31 - 1),
                                  metadata={"description": "rebase the draft on this version"})
    revision = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, 2**31 - 1),
                              metadata={"description": "the revision this save builds on (0: no draft expected); "
                                                       "409 when the draft moved on. Omit to overwrite."})


class DraftDiffQuerySchema(Schema):
    against = fields.Integer(load_default=None, validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "compare with this version instead of the draft's base"})


class PublishSchema(Schema):
    comment = Text(required=True, validate=validate.Length(1, 500))
    revision = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 2**31 - 1),
                              metadata={"description": "publish only this revision of the draft (409 otherwise)"})


class ElementSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    name = fields.String(allow_none=True)


class FieldChangeSchema(Schema):
    field = fields.String(required=True)
    old = fields.String(allow_none=True)
    new = fields.String(allow_none=True)


class ChangedElementSchema(ElementSchema):
    changes = fields.List(fields.Nested(FieldChangeSchema), required=True)


class DiffSchema(Schema):
    process_key = fields.String(required=True)
    old = fields.Integer(allow_none=True)
    new = fields.Integer(allow_none=True, metadata={"description": "null: the draft"})
    added = fields.List(fields.Nested(ElementSchema), required=True)
    removed = fields.List(fields.Nested(ElementSchema), required=True)
    changed = fields.List(fields.Nested(ChangedElementSchema), required=True)
