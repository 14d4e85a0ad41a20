"""Shapes of the decision tables edited within a process draft and of a try with sample inputs."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import LocalizedText, Text
from api.schemas.processes import SpecProblemSchema


class DecisionSummarySchema(Schema):
    file_name = fields.String(required=True)
    edited = fields.Boolean(required=True, metadata={"description": "False: the version's file, unchanged"})
    revision = fields.Integer(required=True, metadata={"description": "0 until edited; +1 on every save"})
    updated_by = fields.String(allow_none=True)


class DecisionInputSchema(Schema):
    id = fields.String(required=True, metadata={"description": "the column's id: the key of a try's values"})
    label = fields.String(required=True)
    expression = fields.String(required=True)
    type_ref = fields.String(allow_none=True)
    name = fields.String(allow_none=True, metadata={"description": "the data the column reads (null: an "
                                                                   "expression, which a try cannot set)"})


class DecisionOutputSchema(Schema):
    id = fields.String(required=True)
    label = fields.String(required=True)
    name = fields.String(required=True)


class DecisionSchema(DecisionSummarySchema):
    process_key = fields.String(required=True)
    xml = fields.String(required=True)
    updated_at = fields.DateTime(allow_none=True)
    decision_id = fields.String(allow_none=True)
    decision_name = fields.String(allow_none=True)
    hit_policy = fields.String(allow_none=True)
    inputs = fields.List(fields.Nested(DecisionInputSchema), required=True)
    outputs = fields.List(fields.Nested(DecisionOutputSchema), required=True)
    valid = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(SpecProblemSchema), required=True)


class SaveDecisionSchema(Schema):
    xml = Text(required=True, validate=validate.Length(1, 2 * 1024 * 1024))
    revision = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, 2**31 - 1),
                              metadata={"description": "the revision the editor opened (0: the version's file); "
                                                       "409 when it moved on. Omit to overwrite."})


class TryDecisionSchema(Schema):
    values = fields.Dict(keys=Text(validate=validate.Length(1, 200)), values=fields.Raw(allow_none=True),
                         load_default=dict, validate=validate.Length(max=100),
                         metadata={"description": "by input column id (or data name): text as typed in the form, "
                                                  "or a JSON value"})
    xml = Text(load_default=None, allow_none=True, validate=validate.Length(1, 2 * 1024 * 1024),
               metadata={"description": "try this table (the editor's, unsaved) instead of the draft's"})


class MatchedRuleSchema(Schema):
    id = fields.String(required=True)
    row = fields.Integer(required=True)
    description = fields.String(allow_none=True)


class TriedOutputSchema(DecisionOutputSchema):
    value = fields.Raw(allow_none=True)


class TryResultSchema(Schema):
    process_key = fields.String(required=True)
    file_name = fields.String(required=True)
    inputs = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    matched = fields.List(fields.Nested(MatchedRuleSchema), required=True)
    outputs = fields.List(fields.Nested(TriedOutputSchema), required=True)
    error = LocalizedText(allow_none=True, metadata={"description": "why the table gave no result, if it did not"})
