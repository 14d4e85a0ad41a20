"""Issued documents: one document's record and its PDF exactly as issued."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.work import IssuedDocumentSchema
from api.security import calls, principal, services
from engine.usecases import documents

blp = ApiBlueprint("documents", __name__, url_prefix="/api/documents", description="Documentos emitidos")
_BINARY = {"type": "string", "format": "binary"}


@blp.route("/<id:document_id>")
class Document(MethodView):
    @calls(documents.document_pdf)
    @blp.response(200, IssuedDocumentSchema)
    def get(self, document_id):
        """An issued document's record: kind, number, verification code, SHA-256, signature, what it corrects."""
        return documents.document_pdf(services(), principal(), document_id)


@blp.route("/<id:document_id>/content")
class Content(MethodView):
    @calls(documents.document_pdf)
    @blp.response(200, _BINARY, content_type="application/pdf")
    def get(self, document_id):
        """The PDF exactly as issued (its SHA-256 is the record's)."""
        made = documents.document_pdf(services(), principal(), document_id)
        return send_file(io.BytesIO(made["pdf"]), mimetype="application/pdf", as_attachment=True,
                         download_name=made["filename"])
