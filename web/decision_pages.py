"""The decision-table editor of the modeler (/modelador/<key>/decisiones): the draft's DMN tables in dmn-js.

The pages only render the editor; opening, saving, trying and publishing go through the JSON API
(/api/drafts/<key>/decisions, /api/drafts/<key>/publish) with the session cookie and its CSRF token. Each page is one
call to a use case of engine.usecases.decisions, which decides who may model. Routes of modeler_pages' blueprint.
"""
from __future__ import annotations

from flask import g, render_template, session

from engine.accounts.permissions import allowed
from engine.errors import InvalidInput
from engine.usecases import decisions, drafts
from web.dmn_texts import dmn_texts
from web.i18n import localize
from web.modeler_pages import bp, signed_in
from web.pages import error_page
from web.session import services


@bp.get("/<name:process_key>/decisiones")
@signed_in
def decision_tables(process_key: str):
    try:
        tables = decisions.list_decisions(services(), g.user, process_key)
    except InvalidInput:
        return error_page(404)
    except drafts.DraftNotFound:
        tables = None  # the page says to open the draft first
    return render_template("modeler/decisions.html", process_key=process_key, tables=tables)


@bp.get("/<name:process_key>/decisiones/<name:file_name>")
@signed_in
def decision_editor(process_key: str, file_name: str):
    try:
        table = decisions.get_decision(services(), g.user, process_key, file_name)
    except InvalidInput:  # no such file can exist
        return error_page(404)
    shown = {k: table[k] for k in ("xml", "revision", "edited", "updated_by", "inputs", "outputs", "decision_name")}
    shown["problems"] = [{**p, "message": localize(p["message"])} for p in table["problems"]]  # the page's language
    return render_template("modeler/decision_editor.html", table=shown, process_key=process_key,
                           file_name=file_name, csrf=session.get("csrf", ""),
                           may_publish=allowed(g.user, "process.deploy"), dmn_texts=dmn_texts())
