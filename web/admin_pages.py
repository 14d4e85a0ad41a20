"""The administrator's pages: the home (/admin) and the accounts (/admin/usuarios): list, create (the password is
shown once), edit, deactivate and reactivate, reset the password, unlock. Groups, lanes, closure days and the
administration log are in web/admin_org_pages.py. Supervisors and auditors read the accounts (user.read) without
the forms; every decision is the use case's (engine/accounts/admin.py)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext

from engine.accounts import admin
from engine.accounts import users
from engine.accounts.users import ROLES
from engine.errors import Conflict, ExpedienteError, InvalidInput, NotFound
from engine.usecases.admin_home import admin_overview
from web.i18n import localize
from web.pages import bp, login_required, services

ROLE_LABELS = {"clerk": lazy_gettext("Oficial"), "supervisor": lazy_gettext("Supervisor"),
               "auditor": lazy_gettext("Auditor"), "admin": lazy_gettext("Administrador")}
FIELD_LABELS = {"username": lazy_gettext("Usuario"), "role": lazy_gettext("Rol"),
                "display_name": lazy_gettext("Nombre"), "email": lazy_gettext("Correo electrónico"),
                "password": lazy_gettext("Contraseña"), "groups": lazy_gettext("Grupos"),
                "name": lazy_gettext("Nombre del grupo"), "description": lazy_gettext("Descripción o motivo"),
                "lane": lazy_gettext("Carril"), "group": lazy_gettext("Grupo"),
                "process_key": lazy_gettext("Procedimiento"), "day": lazy_gettext("Día")}


def refusal(exc: ExpedienteError) -> str:
    """A refused change in Spanish: the fields to review, or the use case's own message."""
    if isinstance(exc, InvalidInput) and exc.errors:
        parts = []
        for error in exc.errors:
            label = str(FIELD_LABELS.get(error.get("field"), error.get("field") or ""))
            why = error.get("message")
            parts.append(f"{label} ({localize(why)})" if isinstance(why, str) and hasattr(why, "msgid") else label)
        return _("Revise: %(fields)s.", fields="; ".join(parts))
    if hasattr(exc.message, "msgid"):
        return localize(exc.message)
    if isinstance(exc, NotFound):
        return _("No existe lo que quiso cambiar; vuelva a cargar la página.")
    if isinstance(exc, Conflict):
        return _("Otra persona hizo un cambio al mismo tiempo; vuelva a cargar la página.")
    return _("Los datos enviados no son válidos.")


def _groups_of_form() -> list[str]:
    return request.form.getlist("grupos")


@bp.get("/admin")
@login_required
def admin_home():
    return render_template("pages/admin_home.html", counts=admin_overview(services(), g.user))


@bp.get("/usuarios")
@login_required
def users_redirect():
    return redirect(url_for("pages.admin_users"))


@bp.get("/admin/usuarios")
@login_required
def admin_users():
    return _users_page()


def _users_page(form: dict | None = None, error: str | None = None, status: int = 200):
    svc = services()
    accounts = users.list_users(svc, g.user)
    return render_template("pages/admin_users.html", accounts=accounts, groups=users.list_groups(svc, g.user),
                           roles=ROLES, role_labels=ROLE_LABELS, now=svc.clock(), form=form or {}, error=error,
                           admins=sum(1 for a in accounts if a["role"] == "admin" and a["active"])), status


@bp.post("/admin/usuarios")
@login_required
def admin_user_create():
    form = {"username": request.form.get("usuario", "").strip(), "role": request.form.get("rol", ""),
            "display_name": request.form.get("nombre", "").strip(), "email": request.form.get("correo", "").strip(),
            "groups": _groups_of_form()}
    try:
        created = admin.create_account(services(), g.user, form["username"], form["role"],
                                       display_name=form["display_name"] or None, email=form["email"] or None,
                                       groups=form["groups"], password=request.form.get("contrasena") or None)
    except (InvalidInput, Conflict) as exc:
        return _users_page(form, refusal(exc), 409 if isinstance(exc, Conflict) else 400)
    return render_template("pages/admin_password.html", account=created, created=True)


@bp.get("/admin/usuarios/<username>")
@login_required
def admin_user(username: str):
    svc = services()
    account = users.get_user(svc, g.user, username)
    return render_template("pages/admin_user.html", account=account, version=admin.fingerprint(account),
                           groups=users.list_groups(svc, g.user), roles=ROLES, role_labels=ROLE_LABELS,
                           now=svc.clock())


@bp.post("/admin/usuarios/<username>")
@login_required
def admin_user_save(username: str):
    try:
        admin.edit_account(services(), g.user, username, expected=request.form.get("version", ""),
                           role=request.form.get("rol", ""), display_name=request.form.get("nombre", ""),
                           email=request.form.get("correo", ""), groups=_groups_of_form())
    except (InvalidInput, Conflict) as exc:
        flash(refusal(exc), "error")
    else:
        flash(_("Se guardaron los cambios de la cuenta %(username)s.", username=username), "info")
    return redirect(url_for("pages.admin_user", username=username))


@bp.post("/admin/usuarios/<username>/estado")
@login_required
def admin_user_active(username: str):
    active = request.form.get("activo") == "1"
    try:
        admin.set_active(services(), g.user, username, active)
    except (InvalidInput, Conflict) as exc:
        flash(refusal(exc), "error")
    else:
        flash(_("La cuenta %(username)s fue reactivada.", username=username) if active else
              _("La cuenta %(username)s fue desactivada: ya no puede entrar y sus sesiones terminaron.",
                username=username), "info")
    return redirect(url_for("pages.admin_user", username=username))


@bp.post("/admin/usuarios/<username>/contrasena")
@login_required
def admin_user_password(username: str):
    try:
        changed = admin.reset_password(services(), g.user, username, request.form.get("contrasena") or None)
    except (InvalidInput, Conflict) as exc:
        flash(refusal(exc), "error")
        return redirect(url_for("pages.admin_user", username=username))
    return render_template("pages/admin_password.html", account=changed, created=False)


@bp.post("/admin/usuarios/<username>/desbloquear")
@login_required
def admin_user_unlock(username: str):
    admin.unlock_account(services(), g.user, username)
    flash(_("Se borraron los intentos fallidos de %(username)s: ya puede entrar.", username=username), "info")
    return redirect(url_for("pages.admin_user", username=username))

