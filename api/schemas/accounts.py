"""Shapes of sessions, accounts, groups, lanes and personal tokens."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text, name
from engine.accounts.users import ROLES


class LoginSchema(Schema):
    username = name(64)
    password = Text(required=True, validate=validate.Length(1, 1024))


class PrincipalSchema(Schema):
    id = fields.Integer(attribute="user_id", required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    groups = fields.List(fields.String(), required=True)


class SessionSchema(Schema):
    user = fields.Nested(PrincipalSchema, required=True)
    csrf_token = fields.String(allow_none=True, required=True,
                               metadata={"description": "Send as X-CSRF-Token on state-changing requests "
                                                        "authenticated by the session cookie"})


class UserSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    role = fields.String(required=True)
    active = fields.Boolean(required=True)
    failed_logins = fields.Integer(required=True)
    locked_until = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    groups = fields.List(fields.String(), required=True)


class UserCreateSchema(Schema):
    username = Text(required=True, validate=[validate.Length(1, 64), validate.Regexp(r"^[A-Za-z0-9._-]+$")])
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = Text(required=True, validate=validate.Length(10, 1024))
    display_name = Text(validate=validate.Length(1, 200))
    email = Text(validate=validate.Length(3, 254))
    groups = fields.List(name(64), validate=validate.Length(max=50), load_default=list)


class UserUpdateSchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    display_name = Text(validate=validate.Length(1, 200))
    email = Text(validate=validate.Length(3, 254))
    password = Text(validate=validate.Length(10, 1024))
    groups = fields.List(name(64), validate=validate.Length(max=50))
    unlock = fields.Boolean(metadata={"description": "Clear failed logins and any lock"})


class GroupSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    members = fields.Integer(required=True)


class GroupCreateSchema(Schema):
    name = name(64)
    description = Text(validate=validate.Length(max=200), load_default="")


class LaneSchema(Schema):
    process_key = Text(validate=validate.Length(1, 100), load_default="*",
                       metadata={"description": "A process key, or * for every process"})
    lane = name(100)
    group = name(64)


class TokenCreateSchema(Schema):
    name = name(100)
    expires_in_days = fields.Integer(validate=validate.Range(1, 3650), load_default=None, allow_none=True)


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(required=True, metadata={"description": "Shown only now; store it safely"})
