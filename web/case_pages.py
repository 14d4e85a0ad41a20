"""The case page (summary, live diagram, who holds what, timeline, documents, attachments, the foliated case
file), the whole case file as one PDF, the cases list, and correcting an issued document."""
from __future__ import annotations

import io
import json

from flask import current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from engine.errors import FormInvalid
from engine.usecases import cases, casefile, corrections
from engine.usecases.inbox import due_flags
from engine.usecases.issuing import DocumentIncomplete
from web import schema_form
from web.i18n import localize
from web.pages import bp, login_required, services
from web.submissions import single_submission
from web.task_messages import called

CASE_STATES = ("running", "completed", "error", "suspended", "cancelled")


@bp.get("/expedientes/<int:case_id>")
@login_required
def case(case_id: int):
    page = cases.case_page(services(), g.user, case_id)
    detail, now = page["case"], services().clock()
    active = [dict(t, holder=called(t["assignee"], page["names"]) if t["assignee"] else None,
                   **due_flags(t["due_at"], now))
              for t in detail["tasks"] if t["state"] == "ready"]
    done = [t for t in detail["tasks"] if t["state"] == "completed"]
    diagram_url = f"/api/processes/{detail['process_key']}/versions/{detail['process_version']}/bpmn"
    folios, total = casefile.case_file_entries(page["documents"], page["files"])
    # Corrections, both ways: the number of what each correction corrects, and of what corrects each original.
    numbers = {d["id"]: d["number"] for d in page["documents"]}
    corrected_by = {d["corrects_id"]: d["number"] for d in page["documents"] if d["corrects_id"]}
    return render_template(
        "pages/case.html", case=detail, active=active, done=done, history=page["history"], files=page["files"],
        documents=page["documents"], folios=folios, total_folios=total, diagram_url=diagram_url,
        marks=json.dumps(page["marks"]), name=page["name"], numbers=numbers, corrected_by=corrected_by)


@bp.get("/expedientes/<int:case_id>/expediente.pdf")
@login_required
def case_file_pdf(case_id: int):
    """The whole case file (foliated index, then every document and attachment), compiled on demand."""
    made = casefile.case_file_pdf(services(), g.user, current_app.extensions["expediente.attachments"], case_id)
    return send_file(io.BytesIO(made["pdf"]), mimetype="application/pdf", download_name=made["filename"])


@bp.get("/expedientes")
@login_required
def cases_list():
    filters = {"process_key": request.args.get("procedimiento") or None,
               "state": request.args.get("estado") if request.args.get("estado") in CASE_STATES else None,
               "municipality": request.args.get("municipio") or None}
    try:
        page = max(1, int(request.args.get("pagina", 1)))
    except ValueError:
        page = 1
    result = cases.cases_page(services(), g.user, page=page, per_page=25, **filters)
    pages = max(1, -(-result["total"] // result["per_page"]))
    return render_template("pages/cases.html", result=result, pages=pages, filters=filters,
                           names=result["names"], states=CASE_STATES, args=request.args.to_dict())


@bp.route("/documentos/<int:document_id>/corregir", methods=["GET", "POST"])
@login_required
@single_submission()
def correct_document(document_id: int):
    """Correct an issued document: its fields prefilled (a list one item a line) and the reason; the correction is
    a new document with the next number, the original stays (engine/usecases/corrections.py)."""
    svc = services()
    form = corrections.correction_form(svc, g.user, document_id)
    values, reason, errors, status = {f["name"]: f["value"] for f in form["fields"]}, "", {}, 200
    if request.method == "POST":
        values = {f["name"]: _posted(f) for f in form["fields"]}
        reason = request.form.get("motivo", "")
        changes = {f["name"]: values[f["name"]] for f in form["fields"] if values[f["name"]] != f["value"]}
        try:
            made = corrections.correct_document(svc, g.user, document_id, changes, reason)
        except FormInvalid as exc:  # the form again, with what was typed and the fields marked
            errors = {name: localize(message) for name, message in
                      schema_form.errors_by_field(exc.details.get("errors") or []).items()}
            flash(localize(exc.message) if isinstance(exc, DocumentIncomplete)
                  else _("El formulario tiene errores; corríjalos y envíelo de nuevo."), "error")
            status = 422
        else:
            flash(_("Se emitió %(number)s, que corrige %(original)s.", number=made["number"] or "",
                    original=form["document"]["number"] or ""), "info")
            return redirect(url_for("pages.case", case_id=form["document"]["case_id"]))
    fields = [schema_form.Field(name=f["name"], label=f["label"] or f["name"].replace("_", " ").capitalize(),
                                kind="lines" if f["list"] else "textarea", required=f["required"],
                                help=_("Un elemento por línea.") if f["list"] else None,
                                value=values[f["name"]], error=errors.get(f["name"]))
              for f in form["fields"]]
    return render_template("pages/correction.html", document=form["document"], fields=fields,
                           corrected_by=form["corrected_by"], reason=reason,
                           reason_error=errors.get(corrections.REASON_FIELD)), status


def _posted(field: dict):
    """A field as the correction form posted it: a list one item a line, a text as typed (line ends as stored);
    a field the form did not send keeps its stored value."""
    if field["name"] not in request.form:  # not sent: unchanged
        return field["value"]
    raw = request.form[field["name"]]
    if field["list"]:
        return [line.strip() for line in raw.splitlines() if line.strip()]
    return raw.replace("\r\n", "\n")
