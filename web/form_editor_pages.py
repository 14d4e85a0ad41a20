"""The form editor (/modelador/<key>/formularios): the forms a procedure's draft names, and one form's fields edited
with a live preview drawn by the same fragment as the task page (pages/_form_fields.html), so it cannot drift.

The pages only render the editor; saving, previewing and publishing go through the JSON API (/api/drafts/<key>/forms,
web/static/js/form-editor.js) with the session cookie and its CSRF token. Each page is one call to a use case of
engine.usecases.draft_forms (or drafts, to open a draft), which decides who may edit.
"""
from __future__ import annotations

from flask import g, redirect, render_template, session, url_for

from engine.accounts.permissions import allowed
from engine.errors import Conflict
from engine.usecases import draft_forms, drafts
from web import schema_form
from web.pages import bp, login_required, services


def preview_html(schema: dict) -> str:
    """The schema's fields, empty, exactly as the task page and the intake page draw them."""
    return render_template("pages/_form_fields.html", schema=schema, fields=schema_form.fields(schema), errors={})


@bp.get("/modelador/<name:process_key>/formularios")
@login_required
def draft_forms_page(process_key: str):
    try:
        listed = draft_forms.draft_form_list(services(), g.user, process_key)
    except drafts.DraftNotFound:
        listed = None
    return render_template("pages/form_editor_list.html", process_key=process_key, listed=listed,
                           may_publish=allowed(g.user, "process.deploy"), csrf=session.get("csrf", ""))


@bp.post("/modelador/<name:process_key>/formularios")
@login_required
def open_draft_for_forms(process_key: str):
    """Open a draft of the procedure (a copy of its latest version) to edit its forms; one already open is kept."""
    try:
        drafts.create_draft(services(), g.user, process_key)
    except Conflict:  # somebody opened it meanwhile: edit that one
        pass
    return redirect(url_for("pages.draft_forms_page", process_key=process_key))


@bp.get("/modelador/<name:process_key>/formularios/<name:form_key>")
@login_required
def form_editor_page(process_key: str, form_key: str):
    shown = draft_forms.get_draft_form(services(), g.user, process_key, form_key)
    return render_template("pages/form_editor.html", shown=shown, preview=preview_html(shown["schema"]),
                           csrf=session.get("csrf", ""))
