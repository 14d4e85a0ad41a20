"""The task page (instructions, form, case data, attachments; draft and complete) and filing a new case."""
from __future__ import annotations

import io

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from engine.documents import kinds
from engine.usecases import cases
from engine.usecases import documents
from engine.usecases import intake
from engine.usecases import issuing
from engine.usecases import tasks
from engine.errors import Conflict, FormInvalid, TaskNotReady
from engine.values import ValueRejected
from web import case_values, schema_form
from web.i18n import localize
from web.pages import bp, login_required, services
from web.submissions import single_submission
from web.task_messages import called, conflict_message


def _render_task(page: dict, data: dict | None = None, errors: dict | None = None, status: int = 200):
    task, form, names = page["task"], page["form"], page["names"]
    shown = form["data"] if data is None else data
    fields = schema_form.fields(form["schema"], shown, errors) if form["schema"] else []
    return render_template(
        "pages/task.html", task=task, form=form, fields=fields, errors=errors or {},
        instructions=page["instructions"], case_values=case_values.shown(page["case_data"], page["case_forms"]),
        files=page["files"],
        document=localize(kinds.title(task["document_kind"])) if task.get("document_kind") else None,
        holder=called(task["assignee"], names) if task["assignee"] else None,
        completer=called(task["completed_by"], names) if task["completed_by"] else None), status


@bp.get("/tareas/<uuid:task_id>")
@login_required
def task(task_id):
    return _render_task(tasks.task_page(services(), g.user, str(task_id)))


@bp.post("/tareas/<uuid:task_id>")
@login_required
# Saving a draft or previewing the document changes nothing that a second click could repeat.
@single_submission(unless=lambda form: form.get("accion") in ("borrador", "vista_previa"))
def work_task(task_id):
    svc, task_id = services(), str(task_id)
    data = schema_form.parse(tasks.form_schema(svc, g.user, task_id) or {}, request.form)
    try:
        if request.form.get("accion") == "borrador":
            tasks.save_draft(svc, g.user, task_id, data)
            flash(_("Borrador guardado."), "info")
            return redirect(url_for("pages.task", task_id=task_id))
        if request.form.get("accion") == "vista_previa":  # the document as completing would issue it, unsigned
            draft = tasks.document_draft(svc, g.user, task_id, data)
            return send_file(io.BytesIO(draft["pdf"]), mimetype="application/pdf", download_name=draft["filename"])
        result = tasks.complete_task(svc, g.user, task_id, data)
    except (FormInvalid, ValueRejected) as exc:  # the form again, with what the clerk typed and the field marked
        errors = schema_form.errors_by_field(exc.details.get("errors") or [])
        if isinstance(exc, issuing.DocumentIncomplete):  # says what the document lacks, maybe not a field here
            flash(localize(exc.message), "error")
        else:
            flash(_("El formulario tiene errores; corríjalos y envíelo de nuevo."), "error")
        return _render_task(tasks.task_page(svc, g.user, task_id), data, errors, 422)
    except (TaskNotReady, Conflict) as exc:
        flash(conflict_message(exc), "error")
        return redirect(url_for("pages.inbox"))
    if result["case_state"] == "error":
        flash(_("La tarea se completó, pero el expediente quedó con un error en «%(element)s».",
                element=result["error_element"]), "error")
    else:
        flash(_("Tarea «%(title)s» completada.", title=result["task_title"]), "info")
    for doc in result["documents"]:
        flash(_("Se emitió %(title)s %(number)s (código de verificación %(code)s).",
              title=localize(kinds.title(doc["kind"])), number=doc["number"] or "", code=doc["code"]), "info")
    return redirect(url_for("pages.case", case_id=result["case_id"]))


@bp.get("/expedientes/nuevo")
@login_required
def new_case():
    return render_template("pages/new_case.html", procedures=intake.procedures(services(), g.user))


@bp.route("/expedientes/nuevo/<process_key>", methods=["GET", "POST"])
@login_required
@single_submission()
def intake_page(process_key: str):
    form = intake.intake_form(services(), g.user, process_key)
    schema = form["schema"]
    data, errors, status = {}, {}, 200
    if request.method == "POST":
        data = schema_form.parse(schema or {}, request.form)
        try:
            started = cases.start_case(services(), g.user, process_key, data)
            return redirect(url_for("pages.receipt", case_id=started.id))
        except (FormInvalid, ValueRejected) as exc:
            errors = schema_form.errors_by_field(exc.details.get("errors") or [])
            flash(_("El formulario tiene errores; corríjalos y envíelo de nuevo."), "error")
            status = 422
    fields = schema_form.fields(schema, data, errors) if schema else []
    return render_template("pages/intake.html", process_key=process_key, name=form["name"], schema=schema,
                           fields=fields, errors=errors), status


@bp.get("/expedientes/<int:case_id>/constancia")
@login_required
def receipt(case_id: int):
    shown = cases.receipt(services(), g.user, case_id)
    return render_template("pages/receipt.html", case=shown["case"], name=shown["name"], next_task=shown["next_task"])


@bp.get("/documentos/<int:document_id>.pdf")
@login_required
def document_pdf(document_id: int):
    """An issued document's PDF, exactly as stored, for staff who may see its case."""
    made = documents.document_pdf(services(), g.user, document_id)
    return send_file(io.BytesIO(made["pdf"]), mimetype="application/pdf", download_name=made["filename"])


@bp.get("/expedientes/<int:case_id>/constancia.pdf")
@login_required
def receipt_pdf(case_id: int):
    made = documents.receipt_pdf(services(), g.user, case_id)
    return send_file(io.BytesIO(made["pdf"]), mimetype="application/pdf", download_name=made["filename"])
