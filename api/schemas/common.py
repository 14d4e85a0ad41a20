"""Shapes shared by every resource: safe text fields and the problem (error) document."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import INCLUDE, Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from web.i18n import localize


class Text(fields.String):
    """A string the databases can store: no NUL characters, no lone surrogates."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = _unstorable_text(text)
        if problem:
            raise ValidationError(problem)
        return text


class LocalizedText(fields.String):
    """Output text that may be an engine Message: sent in the request's language (web.i18n.localize)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(localize(value), attr, obj, **kwargs)


class File(Upload):
    """An uploaded file part of a multipart body (a plain text field of the same name is refused)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("Expected an uploaded file.")
        return value


def name(max_chars: int, **kwargs) -> Text:
    """A required short name: 1 to `max_chars` characters."""
    return Text(required=True, validate=validate.Length(1, max_chars), **kwargs)


class JsonObject(fields.Dict):
    """A JSON object of any shape whose texts the databases can store (checked at every depth)."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.Raw(allow_none=True), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        problem = _unstorable_text(result)
        if problem:
            raise ValidationError(problem)
        return result


def _unstorable_text(value) -> str | None:
    """Why some key or string inside `value` cannot be stored as text, if one cannot."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "NUL characters are not allowed."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Not valid Unicode text."
    return None



# --- errors (RFC 9457) -------------------------------------------------------------------------
class FieldErrorSchema(Schema):
    class Meta:
        unknown = INCLUDE

    field = fields.String(allow_none=True, metadata={"description": "Path of the field, e.g. data/amount"})
    message = fields.String(required=True)
    location = fields.String(metadata={"description": "json, query, form, files or path"})


class ProblemSchema(Schema):
    """application/problem+json; engine errors add their own details (task_id, state, ...)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "Machine-readable error code"})
    errors = fields.List(fields.Nested(FieldErrorSchema))
