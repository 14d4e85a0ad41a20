"""The supervisors' modeler pages: list procedures and drafts, edit one in bpmn-js, compare versions.

The pages only render the editor; saving, validating and publishing go through the JSON API (/api/drafts),
with the session cookie and its CSRF token. Each page is one call to a use case of engine.usecases.drafts, which
decides who may model.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from engine.errors import Forbidden, NotFound
from engine.language import operators as service_operators
from engine.usecases import drafts
from web.i18n import localize
from web.pages import error_page
from web.session import services, session_principal

bp = Blueprint("modeler_pages", __name__, template_folder="modeler_templates", url_prefix="/modelador")


def signed_in(view):
    """Send anonymous visitors to the login page (if the pages are installed)."""
    @wraps(view)
    def inner(*args, **kwargs):
        g.user = session_principal()
        if g.user is None:
            if "pages.login" in current_app.view_functions:
                return redirect(url_for("pages.login", next=request.full_path))
            abort(401)
        return view(*args, **kwargs)
    return inner


@bp.get("")
@signed_in
def index():
    return render_template("modeler/index.html", **drafts.modeler_index(services(), g.user),
                           csrf=session.get("csrf", ""))


@bp.get("/<name:process_key>")
@signed_in
def editor(process_key: str):
    shown = drafts.modeler_editor(services(), g.user, process_key)
    shown["documents"] = [{**d, "title": localize(d["title"])} for d in shown["documents"]]  # the page's language
    shown["operators"] = service_operators.as_data(localize)  # what a service task may call, for the panel
    return render_template("modeler/editor.html", **shown, csrf=session.get("csrf", ""))


@bp.errorhandler(Forbidden)
def forbidden(exc):
    return error_page(403)


@bp.errorhandler(NotFound)
def not_found(exc):
    return error_page(404)


def register(app: Flask) -> None:
    """Install the modeler pages (api.app calls this once the blueprint is wanted)."""
    from web import decision_pages  # noqa: F401 - the decision-table editor's routes, on this blueprint
    from web import trial_pages  # noqa: F401 - the trial page's route, on this blueprint
    app.register_blueprint(bp)
