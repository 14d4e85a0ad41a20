"""The supervisors' modeler pages: list procedures and drafts, edit one in bpmn-js, compare versions.

The pages only render the editor; saving, validating and publishing go through the JSON API (/api/drafts),
with the session cookie and its CSRF token. Every permission decision goes through engine.accounts.permissions.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from engine.usecases import drafts
from engine.accounts import permissions
from engine.usecases import processes
from forms.registry import FormRegistry
from web.session import session_principal

ACTION = "process.draft"  # supervisors and administrators
bp = Blueprint("modeler_pages", __name__, template_folder="modeler_templates", url_prefix="/modelador")


def _services():
    return current_app.extensions["expediente"]


def managers_only(view):
    """Anonymous visitors go to the login page (if the pages are installed); other roles get 403."""
    @wraps(view)
    def inner(*args, **kwargs):
        g.user = session_principal()
        if g.user is None:
            if "pages.login" in current_app.view_functions:
                return redirect(url_for("pages.login", next=request.full_path))
            abort(401)
        if not permissions.allowed(g.user, ACTION):
            abort(403)
        return view(*args, **kwargs)
    return inner


@bp.get("")
@managers_only
def index():
    svc = _services()
    return render_template("modeler/index.html", processes=processes.list_processes(svc),
                           drafts=drafts.list_drafts(svc), csrf=session.get("csrf", ""))


@bp.get("/<name:process_key>")
@managers_only
def editor(process_key: str):
    drafts.validate_key(process_key)
    svc = _services()
    published = {p["process_key"]: p for p in processes.list_processes(svc)}
    has_draft = drafts.has_draft(svc, process_key)
    current = published.get(process_key)
    if current is None and not has_draft:
        abort(404)
    return render_template("modeler/editor.html", process_key=process_key, csrf=session.get("csrf", ""),
                           process_name=current["name"] if current else "",
                           latest_version=current["latest_version"] if current else None,
                           has_draft=has_draft, forms=FormRegistry().keys(),
                           processes=sorted(published),
                           may_publish=permissions.allowed(g.user, "process.deploy"))


def register(app: Flask) -> None:
    """Install the modeler pages (api.app calls this once the blueprint is wanted)."""
    app.register_blueprint(bp)
