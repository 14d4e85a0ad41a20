"""Institutions that answer by link: records with an e-mail address, not accounts."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text, name


class InstitutionSchema(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True, metadata={"description": "What the diagrams name (e.g. 'pnc')."})
    name = fields.String(required=True)
    email = fields.String(required=True, metadata={"description": "Where requests and reminders go."})
    contact = fields.String(required=True, metadata={"description": "The person or post letters are addressed to."})
    phone = fields.String(required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class InstitutionCreateSchema(Schema):
    key = Text(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$"),
               metadata={"description": "2 to 40 lower-case letters, digits or _, starting with a letter."})
    name = name(200)
    email = Text(required=True, validate=[validate.Length(3, 254), validate.Email()])
    contact = Text(validate=validate.Length(max=200), load_default="")
    phone = Text(validate=validate.Length(max=40), load_default="")
    active = fields.Boolean(load_default=True)


class InstitutionUpdateSchema(Schema):
    name = Text(validate=validate.Length(1, 200))
    email = Text(validate=[validate.Length(3, 254), validate.Email()])
    contact = Text(validate=validate.Length(max=200))
    phone = Text(validate=validate.Length(max=40))
    active = fields.Boolean()


class InstitutionQuerySchema(Schema):
    active = fields.Boolean(load_default=None, metadata={"description": "Only the active (or inactive) ones."})
