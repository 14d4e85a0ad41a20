"""The clerk's pages: one `pages` blueprint, its session, CSRF and error pages; views live in split modules.

Pages share the API's browser session (web.session), so the API answers from a page too.
Every permission decision goes through engine.accounts.permissions.
"""
from __future__ import annotations

from datetime import datetime
from functools import wraps
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from engine.timekeeping.calendar import OFFICE_TZ
from engine.accounts import auth
from engine.accounts import permissions
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from web import i18n
from web.session import (API_PREFIX, csrf_matches, csrf_token, end_session, services, session_principal,
                         start_session)
from web.task_messages import conflict_message

bp = Blueprint("pages", __name__, template_folder="templates", url_prefix="")


@bp.before_request
def load_user_and_check_csrf():
    g.user = session_principal()
    if request.method == "POST":
        if not csrf_matches(request.form.get("csrf_token")):
            return render_template("pages/error.html", code=403, message=_(
                "El formulario venció o no proviene de esta aplicación. Vuelva a la página e inténtelo de nuevo.")), 403
    return None


def login_required(view):
    """Send anonymous visitors to the login page; what a signed-in user may do is the use case's to decide."""
    @wraps(view)
    def inner(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("pages.login", next=request.full_path))
        return view(*args, **kwargs)
    return inner


def safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not send the clerk elsewhere (else his own landing page)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("pages.home")


@bp.route("/entrar", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("pages/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    try:
        user, tag = auth.login(services(), username, request.form.get("password", ""),
                               current_app.extensions["expediente.login_policy"])
    except auth.AccountLocked as exc:
        seconds = exc.details.get("retry_after_seconds", 0)
        error = _("La cuenta está bloqueada por demasiados intentos fallidos; intente de nuevo en %(n)s segundos.",
                  n=seconds)
        return render_template("pages/login.html", error=error, username=username,
                               next=request.form.get("next", "")), 429
    except auth.LoginFailed:
        return render_template("pages/login.html", error=_("Usuario o contraseña incorrectos."), username=username,
                               next=request.form.get("next", "")), 401
    lang = session.get("lang")
    start_session(user, tag)
    if lang:
        session["lang"] = lang
    return redirect(_after_login(user, request.form.get("next")))


def _after_login(user, target: str | None) -> str:
    """The page asked for (same site), else the role's own; an auditor or administrator sent to log in from the
    inbox, which never holds a task of theirs, goes to his own page instead."""
    if target and user.role in (permissions.AUDITOR, permissions.ADMIN) \
            and urlsplit(target).path == url_for("pages.inbox"):
        target = None
    return safe_next(target or landing_page(user))


@bp.post("/salir")
def logout():
    """Log out here and in every other browser of the same account."""
    lang = session.get("lang")
    end_session(g.user)
    if lang:
        session["lang"] = lang
    flash(_("Cerró su sesión."), "info")
    return redirect(url_for("pages.login"))


@bp.get("/idioma/<lang>")
def set_language(lang: str):
    if lang not in i18n.LOCALES:
        abort(404)
    session["lang"] = lang
    return redirect(safe_next(request.args.get("next")))


# Where each role lands at "/" and after logging in: the page of its own work. A clerk's is the inbox; an auditor
# never holds a task, an administrator's work is the office's set-up, a supervisor's is his groups' work. A page
# not registered in this application falls back to the inbox.
LANDING = {permissions.SUPERVISOR: "pages.supervision_overview", permissions.AUDITOR: "pages.audit_search",
           permissions.ADMIN: "pages.admin_home"}


@bp.get("/")
def home():
    """The signed-in user's own page (LANDING); a visitor's is the login page."""
    if g.user is None:
        return redirect(url_for("pages.login"))
    return redirect(landing_page(g.user))


def landing_page(user) -> str:
    """The path of the user's own page (LANDING by role), the inbox where that page is not registered."""
    endpoint = LANDING.get(user.role, "pages.inbox")
    return url_for(endpoint if endpoint in current_app.view_functions else "pages.inbox")


def local_time(value: datetime | str | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC moment (or its ISO 8601 text, as JSON keeps it: a migration's dry run) in office time
    (America/Guatemala)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(OFFICE_TZ).strftime(fmt)


def error_page(code: int, message: str | None = None):
    messages = {403: _("No tiene permiso para ver esta página o hacer esta acción."),
                404: _("La página o el registro que busca no existe, o no tiene acceso a él."),
                405: _("Esa acción no se puede hacer así."),
                413: _("El archivo enviado es demasiado grande.")}
    text = message or messages.get(code, _("Ocurrió un error; el equipo técnico fue notificado."))
    return render_template("pages/error.html", code=code, message=text), code


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
@bp.app_errorhandler(403)
@bp.app_errorhandler(413)
def http_error_page(exc):
    """HTML for pages; the API keeps its problem+json (delegated to its own handler)."""
    if request.path.startswith(API_PREFIX):
        return current_app.extensions["expediente.api_http_error"](exc)
    if not hasattr(g, "user"):
        g.user = session_principal()
    return error_page(exc.code)


@bp.errorhandler(NotFound)
def not_found(exc):
    """A case, task or procedure that does not exist or is out of the user's reach: the page abort(404) gives."""
    return error_page(404)


@bp.errorhandler(InvalidInput)
def invalid_input(exc):
    return error_page(400, _("Los datos enviados no son válidos: %(detail)s", detail=i18n.localize(exc.message)))


@bp.errorhandler(Conflict)
def conflict(exc):
    return error_page(409, conflict_message(exc))


@bp.errorhandler(Forbidden)
def forbidden(exc):
    """A use case refused the user's role: the page abort(403) gives."""
    return error_page(403)


@bp.app_context_processor
def template_globals():
    return {"user": g.get("user"), "csrf_token": csrf_token, "local_time": local_time, "may": may}


def office_today(kind: str = "date") -> str:
    """Today in the office (by the services' clock) as a date input's max, or a datetime-local's (end of day)."""
    today = services().clock().astimezone(OFFICE_TZ).date().isoformat()
    return today + "T23:59" if kind == "datetime-local" else today


def may(action: str) -> bool:
    """For templates: whether the signed-in user may do `action` (links are shown only to those who may)."""
    user = g.get("user")
    return user is not None and permissions.allowed(user, action)


def init_app(app: Flask) -> None:
    """Register the pages and the message catalogue on the application."""
    from web import (audit_pages, case_pages, filing_pages, inbox_pages, message_pages, task_pages,  # noqa: F401
                     tracking_pages, verify_pages)
    from web import reply_pages  # noqa: F401  (institutions answer by link, without login)
    from web import admin_org_pages, admin_pages  # noqa: F401  (the administrator's pages)
    from web import supervision_pages  # noqa: F401  (the supervisor's view of the work)
    from web import migration_pages  # noqa: F401  (running cases moved to another version)
    from web import report_pages  # noqa: F401  (the general reports and their downloads)
    from web import form_editor_pages  # noqa: F401  (the form editor of a procedure's draft)
    from web import heatmap_pages  # noqa: F401  (reports: the diagram as a heat map)
    from web import annual_report_pages  # noqa: F401  (reports: LAIP annual report, monthly summary)
    i18n.init_app(app)
    # Our 404/405 handlers answer by status code, so they win over the API's HTTPException handler
    # everywhere; under /api/ they hand the error back to it (call after api.errors.register_error_handlers).
    app.extensions["expediente.api_http_error"] = app.error_handler_spec[None][None][HTTPException]
    app.register_blueprint(bp)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["office_today"] = office_today  # a global: the form macros are imported without context
