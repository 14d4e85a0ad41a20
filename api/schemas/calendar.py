"""Office closure days (not working days for deadlines computed after they are declared)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text, name


class MovedSchema(Schema):
    deadlines = fields.Integer(metadata={"description": "Open legal deadlines whose due moment moved"})
    timers = fields.Integer(metadata={"description": "Waiting timers whose due moment moved"})
    cases = fields.List(fields.String(), metadata={"description": "Numbers of the cases rewritten"})
    skipped = fields.List(fields.String(), metadata={"description": "Cases in error: rows moved, workflow kept"})


class ClosureSchema(Schema):
    id = fields.Integer()
    day = fields.Date()
    description = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    moved = fields.Nested(MovedSchema, metadata={"description": "What adding the day moved (only when adding)"})


class ClosureCreateSchema(Schema):
    day = fields.Date(required=True, metadata={"description": "The day the office is closed (YYYY-MM-DD)."})
    description = name(200, metadata={"description": "Why (e.g. a declared emergency)."})


class ClosureQuerySchema(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=1900, max=9998),
                          metadata={"description": "Only this year's closure days."})


__all__ = ["ClosureSchema", "ClosureCreateSchema", "ClosureQuerySchema", "Text"]
