"""Shape of a case's electronic case file: its foliated index (engine/usecases/casefile.py)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class CaseFileEntrySchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("documento", "anexo")),
                         metadata={"description": "documento: an issued document; anexo: an attachment"})
    id = fields.Integer(required=True, metadata={"description": "The document's or the attachment's id"})
    position = fields.Integer(required=True, metadata={"description": "1, 2 … in the order added"})
    title = fields.String(required=True, metadata={"description": "The document kind's title, or the file name"})
    number = fields.String(allow_none=True, metadata={"description": "The document's own number, if it has one"})
    added_at = fields.DateTime(required=True)
    pages = fields.Integer(allow_none=True, metadata={"description": "null: unknown (not in the compiled file)"})
    sha256 = fields.String(required=True)
    content_type = fields.String(required=True)
    included = fields.Boolean(required=True, metadata={"description": "Whether the compiled file holds its pages"})
    folio_first = fields.Integer(allow_none=True)
    folio_last = fields.Integer(allow_none=True)


class CaseFileSchema(Schema):
    case_id = fields.Integer(required=True)
    number = fields.String(required=True)
    index_folios = fields.Integer(required=True, metadata={"description": "Folios 1..n are the index itself"})
    folios = fields.Integer(required=True, metadata={"description": "Pages of the compiled case file"})
    entries = fields.List(fields.Nested(CaseFileEntrySchema), required=True)
