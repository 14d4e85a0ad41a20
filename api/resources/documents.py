"""Issued documents: one document's record and its PDF exactly as issued; correcting one (a new document that says
which one it corrects)."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView

from api.idempotency import idempotent
from api.openapi import ApiBlueprint
from api.schemas.work import CorrectionFormSchema, CorrectionRequestSchema, IssuedDocumentSchema
from api.security import calls, principal, services
from engine.usecases import corrections, documents

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


@blp.route("/<id:document_id>/correction-form")
class CorrectionForm(MethodView):
    @calls(corrections.correction_form)
    @blp.response(200, CorrectionFormSchema)
    def get(self, document_id):
        """What a correction of the document may change (its fields with the values it was filled with) and
        whether another document already corrects it."""
        return corrections.correction_form(services(), principal(), document_id)


@blp.route("/<id:document_id>/corrections")
class Corrections(MethodView):
    @calls(corrections.correct_document)
    @idempotent
    @blp.arguments(CorrectionRequestSchema())
    @blp.response(201, IssuedDocumentSchema)
    def post(self, args, document_id):
        """Correct an issued document: a new document of its kind with the next number, filled as the original
        with `changes` over it, saying which document it corrects and why (`reason`). The original stays
        unchanged; its verification then says it was corrected. 409 when another document already corrects it
        (correct that one); 422 naming the field for a missing reason or a field that cannot be changed."""
        return corrections.correct_document(services(), principal(), document_id, args["changes"], args["reason"])
