"""Shapes of moving a case to another step (engine/usecases/case_moves.py)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text
from api.schemas.work import CASE_STATES


class MoveCaseSchema(Schema):
    element_id = Text(required=True, validate=validate.Length(1, 255))
    reason = Text(load_default="", validate=validate.Length(0, 2000))
    dry_run = fields.Boolean(load_default=False)
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class MoveStepSchema(Schema):
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    what = fields.String(required=True, validate=validate.OneOf(("task", "timer", "wait", "error")))


class MovedCaseSchema(Schema):
    case_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    state = fields.String(validate=validate.OneOf(CASE_STATES))
    target = fields.String(required=True)
    moved = fields.Boolean(required=True)
    close = fields.List(fields.Nested(MoveStepSchema), required=True)
    open = fields.List(fields.Nested(MoveStepSchema), required=True)
    problems = fields.List(fields.String(), required=True)
