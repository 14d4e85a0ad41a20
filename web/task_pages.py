"""The task page (instructions, form, case data, attachments; draft and complete) and filing a new case."""
from __future__ import annotations

import io

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from engine.usecases import cases
from engine.usecases import documents
from engine.usecases import intake
from engine.usecases import tasks
from engine.errors import Conflict, FormInvalid, TaskNotReady
from engine.values import ValueRejected
from web import schema_form
from web.pages import bp, login_required, services
from web.submissions import single_submission
from web.task_messages import called, conflict_message


def _render_task(page: dict, data: dict | None = None, errors: dict | None = None, status: int = 200):
    task, form, names = page["task"], page["form"], page["names"]
    shown = form["data"] if data is None else data
    fields = schema_form.fields(form["schema"], shown, errors) if form["schema"] else []
    return render_template(
        "pages/task.html", task=task, form=form, fields=fields, errors=errors or {},
        instructions=page["instructions"], case_data=page["case_data"], files=page["files"],
        holder=called(task["assignee"], names) if task["assignee"] else None,
        completer=called(task["completed_by"], names) if task["completed_by"] else None), status


@bp.get("/tareas/<uuid:task_id>")
@login_required
def task(task_id):
    return _render_task(tasks.task_page(services(), g.user, str(task_id)))


@bp.post("/tareas/<uuid:task_id>")
@login_required
@single_submission(unless=lambda form: form.get("accion") == "borrador")  # a draft save is harmless twice
def work_task(task_id):
    svc, task_id = services(), str(task_id)
    data = schema_form.parse(tasks.form_schema(svc, g.user, task_id) or {}, request.form)
    try:
        if request.form.get("accion") == "borrador":
            tasks.save_draft(svc, g.user, task_id, data)
            flash(_("Borrador guardado."), "info")
            return redirect(url_for("pages.task", task_id=task_id))
        result = tasks.complete_task(svc, g.user, task_id, data)
    except (FormInvalid, ValueRejected) as exc:  # the form again, with what the clerk typed and the field marked
        errors = schema_form.errors_by_field(exc.details.get("errors") or [])
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
    return render_template("pages/receipt.html", case=shown["case"], name=shown["name"])


@bp.get("/expedientes/<int:case_id>/constancia.pdf")
@login_required
def receipt_pdf(case_id: int):
    made = documents.receipt_pdf(services(), g.user, case_id)
    return send_file(io.BytesIO(made["pdf"]), mimetype="application/pdf", download_name=made["filename"])
