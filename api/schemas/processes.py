"""Shapes of processes, their versions, validation and deployment."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import File, LocalizedText, Text


class ProcessSchema(Schema):
    process_key = fields.String(required=True)
    name = fields.String(required=True)
    latest_version = fields.Integer(required=True)
    latest_version_id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    open_cases = fields.Integer(required=True)


class VersionSchema(Schema):
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(allow_none=True)
    comment = fields.String(required=True)
    open_cases = fields.Integer(required=True)


class BundleFilesSchema(Schema):
    files = fields.List(File(), required=True, validate=validate.Length(1, 50),
                        metadata={"description": ".bpmn and .dmn files, parsed together"})


class DeploySchema(BundleFilesSchema):
    comment = Text(validate=validate.Length(max=500), load_default="")


class DeployedSchema(Schema):
    process_key = fields.String(required=True)
    version = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    created = fields.Boolean(required=True, metadata={"description": "False: same content as the latest"})


class SpecProblemSchema(Schema):
    file = fields.String(required=True)
    line = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)
    message = LocalizedText(required=True, metadata={"description": "in the request's language (Spanish by default)"})
    severity = fields.String(required=True)


class ValidationResultSchema(Schema):
    valid = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(SpecProblemSchema), required=True)
