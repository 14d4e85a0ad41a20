"""A case's legal deadlines (engine.usecases.legal_deadlines)."""
from __future__ import annotations

from marshmallow import Schema, fields


class LegalDeadlineSchema(Schema):
    key = fields.String(metadata={"description": "The catalogue's key (engine/timekeeping/legal_deadlines.py)"})
    title = fields.String()
    basis = fields.String(metadata={"description": "The legal basis, in words"})
    owner = fields.String(metadata={"description": "oficina | ciudadano | institucion: whose time it is"})
    owner_group = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True, metadata={"description": "The element that opened it"})
    start_at = fields.DateTime()
    days = fields.Integer(allow_none=True, metadata={"description": "None: a deadline fixed by date"})
    counting = fields.String(metadata={"description": "habiles | habiles_corte | calendario"})
    extension_days = fields.Integer()
    due_at = fields.DateTime()
    state = fields.String(metadata={"description": "open | met | late | used | expired | cancelled"})
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    extended_at = fields.DateTime(allow_none=True)
    extended_by = fields.String(allow_none=True)
    citizen_told_at = fields.DateTime(allow_none=True)
    working_days_left = fields.Integer(allow_none=True, metadata={"description": "Open ones: negative when past"})
    overdue = fields.Boolean(allow_none=True)
