"""Shapes of the forms edited within a process draft and of their preview."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import JsonObject, LocalizedText


class DraftFormSummarySchema(Schema):
    form_key = fields.String(required=True)
    title = fields.String(required=True)
    tasks = fields.List(fields.String(), required=True, metadata={"description": "the tasks that name the form"})
    exists = fields.Boolean(required=True, metadata={"description": "False: no such form in forms/ or the version"})
    edited = fields.Boolean(required=True, metadata={"description": "changed in this draft"})
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    revision = fields.Integer(required=True, metadata={"description": "0: not edited in this draft"})


class DraftFormListSchema(Schema):
    process_key = fields.String(required=True)
    base_version = fields.Integer(allow_none=True)
    revision = fields.Integer(required=True, metadata={"description": "the draft's revision"})
    forms = fields.List(fields.Nested(DraftFormSummarySchema), required=True)


class DraftFormSchema(Schema):
    process_key = fields.String(required=True)
    form_key = fields.String(required=True)
    schema = fields.Dict(required=True, metadata={"description": "the form's JSON Schema (Draft 2020-12)"})
    schema_json = fields.String(required=True, metadata={"description": "the same schema as JSON text, its fields in "
                                                                        "the form's order (an answer's object keys "
                                                                        "come sorted)"})
    source = fields.String(required=True, validate=validate.OneOf(["borrador", "version", "formularios"]),
                           metadata={"description": "borrador: saved in this draft; version: the base version's; "
                                                    "formularios: forms/'s"})
    revision = fields.Integer(required=True, metadata={"description": "send it back when saving (0: not edited)"})
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class SaveDraftFormSchema(Schema):
    schema = JsonObject(required=True, metadata={"description": "the form's JSON Schema"})
    revision = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, 2**31 - 1),
                              metadata={"description": "the revision this save builds on (0: not edited yet); 409 "
                                                       "when the form moved on. Omit to overwrite."})


class PreviewFormSchema(Schema):
    schema = JsonObject(required=True, metadata={"description": "the JSON Schema being edited"})


class FieldProblemSchema(Schema):
    field = fields.String(required=True)
    message = LocalizedText(required=True)


class FormPreviewSchema(Schema):
    valid = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(FieldProblemSchema), required=True)
    html = fields.String(required=True, metadata={"description": "the form's fields as the task page draws them "
                                                                "(empty while the schema has problems)"})
