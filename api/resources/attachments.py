"""Attachments: files of a case, uploaded and downloaded."""
from __future__ import annotations

from flask import current_app, send_file
from flask.views import MethodView

from api.idempotency import idempotent
from api.openapi import ApiBlueprint
from api.schemas.work import AttachmentSchema, UploadSchema
from api.security import calls, principal, services
from engine.usecases import attachments

blp = ApiBlueprint("attachments", __name__, url_prefix="/api", description="Adjuntos de un expediente")
_BINARY = {"type": "string", "format": "binary"}


def _store() -> attachments.AttachmentStore:
    return current_app.extensions["expediente.attachments"]


@blp.route("/cases/<id:case_id>/attachments")
class CaseAttachments(MethodView):
    @calls(attachments.list_attachments)
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, case_id):
        """The case's attachments, oldest first."""
        return attachments.list_attachments(services(), principal(), case_id)

    @calls(attachments.add_attachment)
    @idempotent
    @blp.arguments(UploadSchema(), location="files")
    @blp.response(201, AttachmentSchema)
    def post(self, files, case_id):
        """Attach a PDF, PNG or JPEG (checked by content) to the case; it shows in the history."""
        upload = files["file"]
        return attachments.add_attachment(services(), principal(), _store(), case_id, upload.filename, upload.stream)


@blp.route("/attachments/<id:attachment_id>")
class Attachment(MethodView):
    @calls(attachments.get_attachment)
    @blp.response(200, AttachmentSchema)
    def get(self, attachment_id):
        """One attachment's details."""
        return attachments.get_attachment(services(), principal(), attachment_id)


@blp.route("/attachments/<id:attachment_id>/content")
class Content(MethodView):
    @calls(attachments.get_attachment)
    @blp.response(200, _BINARY, content_type="application/pdf")
    @blp.alt_response(200, schema=_BINARY, content_type="image/png")
    @blp.alt_response(200, schema=_BINARY, content_type="image/jpeg")
    def get(self, attachment_id):
        """The file itself, as a download under its original name."""
        row = attachments.get_attachment(services(), principal(), attachment_id)
        return send_file(_store().path(row["stored_name"]), mimetype=row["content_type"], as_attachment=True,
                         download_name=row["filename"])
