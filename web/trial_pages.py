"""The trial page of the modeler (/modelador/<key>/prueba): run the draft with test data in a throwaway database
(engine/usecases/trial.py), step by step, and see its path on the diagram.

The page only renders; starting, stepping and ending the trial go through the JSON API (/api/trials) with the
session cookie and its CSRF token. The page is one call to a use case of engine.usecases.drafts, which decides who
may model. Routes of modeler_pages' blueprint.
"""
from __future__ import annotations

from flask import g, render_template, session

from engine.usecases import drafts
from web.modeler_pages import bp, signed_in
from web.session import services


@bp.get("/<name:process_key>/prueba")
@signed_in
def trial(process_key: str):
    shown = drafts.modeler_editor(services(), g.user, process_key)
    return render_template("modeler/trial.html", process_key=process_key, process_name=shown["process_name"],
                           has_draft=shown["has_draft"], csrf=session.get("csrf", ""))
