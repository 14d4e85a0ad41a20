"""The trial page of the modeler (/modelador/<key>/prueba): run the draft with test data in a throwaway database
(engine/usecases/trial.py), step by step, and see its path on the diagram.

The page only renders; starting, stepping and ending the trial go through the JSON API (/api/trials) with the
session cookie and its CSRF token. A ready task may also be filled in on its own page, its form drawn as the clerk
sees it. Each page calls use cases of engine.usecases (drafts, trial), which decide who may model. Routes of
modeler_pages' blueprint.
"""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for

from engine.errors import InvalidInput
from engine.usecases import drafts, trial as trial_use_cases
from web import schema_form
from web.i18n import localize
from web.modeler_pages import bp, signed_in
from web.pages import error_page
from web.session import csrf_matches, services


@bp.get("/<name:process_key>/prueba")
@signed_in
def trial(process_key: str):
    shown = drafts.modeler_editor(services(), g.user, process_key)
    return render_template("modeler/trial.html", process_key=process_key, process_name=shown["process_name"],
                           has_draft=shown["has_draft"], csrf=session.get("csrf", ""))


@bp.route("/<name:process_key>/prueba/<string:token>/tarea/<string:task_id>", methods=["GET", "POST"])
@signed_in
def trial_task(process_key: str, token: str, task_id: str):
    """A trial's ready task with its form drawn as the clerk sees it (web/templates/pages/_form_fields.html),
    prefilled with the form's example data; completing it goes back to the trial page."""
    if request.method == "POST" and not csrf_matches(request.form.get("csrf_token")):
        return error_page(403)
    state = trial_use_cases.trial_state(services(), g.user, token)
    task = next((t for t in state["ready_tasks"] if t["id"] == task_id), None)
    if task is None or state["process_key"] != process_key:
        return error_page(404)
    schema = task["schema"] or {"type": "object", "properties": {}}
    data, errors, status = task["example"], {}, 200
    if request.method == "POST":
        data = schema_form.parse(schema, request.form)
        try:
            trial_use_cases.trial_complete(services(), g.user, token, task_id, data)
        except InvalidInput as exc:  # the form refused it: the same page, each field with its message
            errors = schema_form.errors_by_field(exc.errors) or {"": localize(exc.message)}
            errors.setdefault("", localize(exc.message))
            status = 400
        else:
            return redirect(url_for("modeler_pages.trial", process_key=process_key, prueba=token))
    return render_template("modeler/trial_task.html", process_key=process_key, token=token, task=task,
                           schema=schema, fields=schema_form.fields(schema, data, errors), errors=errors), status
