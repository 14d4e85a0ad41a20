"""The public verification page (`/verificar`): no login; each view is one call to engine.usecases.verification.

The QR on every issued document points to `/verificar/<code>`; the form at `/verificar` takes a typed code
(normalised by the use case: lower case, O for 0, I or L for 1, spaces); below it, the latest signed checkpoint of
the history and the office's public key, for anyone to keep or compare (engine/usecases/audit_desk.py). An unknown or malformed code is a 404
with the same message, so the page tells apart only «not found», «valid» and «corrected by».
"""
from __future__ import annotations

import io

from flask import current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from engine.usecases import audit_desk, verification
from engine.usecases.attachments import AttachmentTooLarge
from web import i18n
from web.pages import bp, error_page, services


@bp.get("/verificar")
def verify_form():
    typed = request.args.get("codigo", "").strip()
    if typed:
        return redirect(url_for("pages.verify_result", code=typed))
    return render_template("pages/verificar.html", published=audit_desk.published_checkpoint(services()))


def _result(shown: dict, upload: dict | None = None):
    status = 404 if shown["status"] == "not_found" else 200
    if "title" in shown:  # the kind's title, in the page's language
        shown = {**shown, "title": i18n.localize(shown["title"])}
    return render_template("pages/verificar_resultado.html", shown=shown, upload=upload), status


@bp.get("/verificar/<code>")
def verify_result(code: str):
    return _result(verification.verify_code(services(), code))


@bp.get("/verificar/<code>/pdf")
def verify_pdf(code: str):
    found = verification.verified_pdf(services(), code)
    return send_file(io.BytesIO(found["pdf"]), mimetype="application/pdf", download_name=found["filename"])


@bp.post("/verificar/<code>")
def verify_upload(code: str):
    """Compare an uploaded PDF with the stored document, byte for byte (by SHA-256)."""
    sent = request.files.get("archivo")
    if sent is None or not sent.filename:
        return error_page(400, _("Elija el archivo PDF que desea comparar."))
    max_bytes = current_app.extensions["expediente.attachments"].max_bytes
    try:
        checked = verification.check_upload(services(), code, sent.stream.read(max_bytes + 1), max_bytes)
    except AttachmentTooLarge:
        return error_page(413)
    return _result(checked, upload=checked)
