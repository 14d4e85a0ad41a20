"""Office closure days (not working days for deadlines computed after they are declared)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text, name


class ClosureSchema(Schema):
    id = fields.Integer()
    day = fields.Date()
    description = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ClosureCreateSchema(Schema):
    day = fields.Date(required=True, metadata={"description": "The day the office is closed (YYYY-MM-DD)."})
    description = name(200, metadata={"description": "Why (e.g. a declared emergency)."})


class ClosureQuerySchema(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=1900, max=9998),
                          metadata={"description": "Only this year's closure days."})


__all__ = ["ClosureSchema", "ClosureCreateSchema", "ClosureQuerySchema", "Text"]
