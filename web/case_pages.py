"""The case page (summary, live diagram, who holds what, timeline, documents, attachments, the foliated case
file), the whole case file as one PDF, the cases list, and correcting an issued document."""
from __future__ import annotations

import io
import json
from datetime import datetime

from flask import current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from engine.errors import FormInvalid
from engine.timekeeping.calendar import OFFICE_TZ
from engine.usecases import cases, casefile, corrections
from engine.usecases.inbox import due_flags
from engine.usecases.issuing import DocumentIncomplete
from web import case_operation_pages, message_pages, schema_form
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
        marks=json.dumps(page["marks"]), name=page["name"], numbers=numbers, corrected_by=corrected_by,
        mail=page["mail"], messaging=message_pages.case_block(case_id),
        operations=case_operation_pages.panel(case_id), deadlines=page["deadlines"])


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
    # Past the counted cap the number of pages is not known: the pager offers the next page.
    pages = None if result["total_more"] else max(1, -(-result["total"] // result["per_page"]))
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
    schema = _correction_schema(form["fields"])
    values, reason, errors, status = {f["name"]: f["value"] for f in form["fields"]}, "", {}, 200
    if request.method == "POST":
        values = _posted(schema, form["fields"])
        reason = request.form.get("motivo", "")
        changes = {f["name"]: values[f["name"]] for f in form["fields"] if not _same(values[f["name"]], f["value"])}
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
    shown = {name: _office_minutes(value) if schema["properties"][name].get("format") == "date-time" else value
             for name, value in values.items()}
    return render_template("pages/correction.html", document=form["document"],
                           fields=schema_form.fields(schema, shown, errors), corrected_by=form["corrected_by"],
                           reason=reason, reason_error=errors.get(corrections.REASON_FIELD)), status


# The inputs a field of the issuing form may keep on the correction page: those that hold a text, or a list of
# texts; any other (a number, a group of rows) is shown as a text area, or one item a line.
_TEXT_INPUTS = frozenset({"text", "textarea", "select", "date", "datetime-local", "email", "tel"})
_LIST_INPUTS = frozenset({"lines", "multiselect"})


def _correction_schema(form_fields: list[dict]) -> dict:
    """A JSON Schema of a correction's fields for schema_form: each field's own property in the issuing form
    (its select, date or e-mail input) where that holds a text or list of texts, else a text area or a list one
    item a line; every field shown, read-only or hidden on the form or not."""
    props = {}
    for f in form_fields:
        own = {k: v for k, v in (f["schema"] or {}).items() if k not in ("readOnly", "x-oculto", "default")}
        [probe] = schema_form.fields({"properties": {f["name"]: own}}) if own else [None]
        fits = probe is not None and probe.kind in (_LIST_INPUTS if f["list"] else _TEXT_INPUTS)
        prop = own if fits else ({"type": "array", "items": {"type": "string"}} if f["list"]
                                 else {"type": "string", "x-multilinea": True})
        prop = {**prop, "title": f["label"] or f["name"].replace("_", " ").capitalize()}
        if f["list"] and not prop.get("description") and not (fits and probe.kind == "multiselect"):
            prop["description"] = _("Un elemento por línea.")
        props[f["name"]] = prop
    return {"type": "object", "properties": props, "required": [f["name"] for f in form_fields if f["required"]]}


def _posted(schema: dict, form_fields: list[dict]) -> dict:
    """Each field as the form posted it (schema_form reads selects, dates and lists); one posted empty is
    cleared; one the form did not send keeps its stored value."""
    parsed = schema_form.parse(schema, request.form)
    out = {}
    for f in form_fields:
        name = f["name"]
        if name in parsed:
            out[name] = parsed[name]
        elif name in request.form:
            out[name] = [] if f["list"] else ""
        else:
            out[name] = f["value"]
    return out


def _same(posted, stored) -> bool:
    """Whether a posted value is the stored one: equal, or the same moment written in another time zone (the
    page shows and posts the office's local time)."""
    if posted == stored:
        return True
    try:
        return datetime.fromisoformat(posted) == datetime.fromisoformat(stored)
    except (TypeError, ValueError):
        return False


def _office_minutes(value):
    """A stored moment as a datetime-local input shows it: the office's local time (the input keeps 16 chars)."""
    try:
        return datetime.fromisoformat(value).astimezone(OFFICE_TZ).isoformat()
    except (TypeError, ValueError):
        return value
