"""The administrator's pages for the office's organisation: groups and their members (/admin/grupos), the lane →
group table (/admin/carriles), closure days (/admin/cierres) and the administration log (/admin/registro)."""
from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext

from engine.accounts import admin, auth, users
from engine.errors import Conflict, InvalidInput, NotFound
from engine.usecases import admin_log, closures, lanes
from web.admin_pages import refusal
from web.pages import bp, login_required, services

ACTION_LABELS = {
    "user.create": lazy_gettext("Cuenta creada"), "user.update": lazy_gettext("Cuenta modificada"),
    "user.deactivate": lazy_gettext("Cuenta desactivada"), "user.reactivate": lazy_gettext("Cuenta reactivada"),
    "user.reset_password": lazy_gettext("Contraseña restablecida"), "user.unlock": lazy_gettext("Cuenta desbloqueada"),
    "group.create": lazy_gettext("Grupo creado"), "group.add_member": lazy_gettext("Miembro agregado"),
    "group.remove_member": lazy_gettext("Miembro quitado"), "lane.set": lazy_gettext("Carril asignado"),
    "closure.add": lazy_gettext("Día de cierre agregado"), "closure.remove": lazy_gettext("Día de cierre quitado"),
}
LOG_PAGE_ROWS = 50


@bp.get("/admin/grupos")
@login_required
def admin_groups():
    svc = services()
    return render_template("pages/admin_groups.html", groups=admin.groups_and_members(svc, g.user),
                           usernames=[u["username"] for u in users.list_users(svc, g.user)])


@bp.post("/admin/grupos")
@login_required
def admin_group_create():
    name = request.form.get("nombre", "").strip()
    try:
        auth.create_group(services(), g.user, name, request.form.get("descripcion", ""))
    except InvalidInput as exc:
        flash(refusal(exc), "error")
    except Conflict:
        flash(_("Ya existe el grupo %(group)s.", group=name), "error")
    else:
        flash(_("Se creó el grupo %(group)s.", group=name), "info")
    return redirect(url_for("pages.admin_groups"))


@bp.post("/admin/grupos/<group>/miembros")
@login_required
def admin_group_add_member(group: str):
    username = request.form.get("usuario", "").strip()
    try:
        admin.add_member(services(), g.user, group, username)
    except (Conflict, NotFound) as exc:
        flash(refusal(exc), "error")
    else:
        flash(_("%(username)s ahora es miembro de %(group)s.", username=username, group=group), "info")
    return redirect(url_for("pages.admin_groups"))


@bp.post("/admin/grupos/<group>/miembros/<username>/quitar")
@login_required
def admin_group_remove_member(group: str, username: str):
    try:
        admin.remove_member(services(), g.user, group, username)
    except NotFound as exc:
        flash(refusal(exc), "error")
    else:
        flash(_("%(username)s ya no es miembro de %(group)s.", username=username, group=group), "info")
    return redirect(url_for("pages.admin_groups"))


@bp.get("/admin/carriles")
@login_required
def admin_lanes():
    svc = services()
    return render_template("pages/admin_lanes.html", lanes=lanes.list_lanes(svc, g.user),
                           groups=users.list_groups(svc, g.user))


@bp.post("/admin/carriles")
@login_required
def admin_lane_set():
    lane, group = request.form.get("carril", ""), request.form.get("grupo", "")
    process_key = request.form.get("procedimiento", "").strip() or "*"
    try:
        done = lanes.set_lane(services(), g.user, lane, group, process_key)
    except InvalidInput as exc:
        flash(refusal(exc), "error")
    else:
        flash(_("El carril «%(lane)s» (%(process)s) lo trabaja ahora el grupo %(group)s.", lane=done["lane"],
                process=_("todos los procedimientos") if done["process_key"] == "*" else done["process_key"],
                group=done["group"]), "info")
    return redirect(url_for("pages.admin_lanes"))


def _year(svc) -> int:
    value = request.args.get("anio", type=int)
    return value if value and 2000 <= value <= 2100 else svc.clock().year


@bp.get("/admin/cierres")
@login_required
def admin_closures():
    svc = services()
    year = _year(svc)
    return render_template("pages/admin_closures.html", year=year, closures=closures.list_closures(svc, g.user, year))


@bp.post("/admin/cierres")
@login_required
def admin_closure_add():
    raw = request.form.get("dia", "").strip()
    try:  # the use case parses the day, after it checked the caller's role
        added = closures.add_closure(services(), g.user, raw, request.form.get("motivo", ""))
    except InvalidInput as exc:
        flash(_("Escriba el día como aaaa-mm-dd.") if any(e.get("field") == "day" for e in exc.errors)
              else _("Escriba el motivo del cierre (hasta 200 caracteres)."), "error")
        return redirect(url_for("pages.admin_closures"))
    except Conflict:
        day = date.fromisoformat(raw)
        flash(_("El %(day)s ya es día de cierre.", day=day.strftime("%d/%m/%Y")), "error")
        return redirect(url_for("pages.admin_closures", anio=day.year))
    day = added["day"]
    flash(_("El %(day)s es día de cierre: los plazos que se calculen lo saltan.", day=day.strftime("%d/%m/%Y")),
          "info")
    _flash_moved(added.get("moved"))
    return redirect(url_for("pages.admin_closures", anio=day.year))


def _flash_moved(moved) -> None:
    """What the closure moved, as add_closure / remove_closure report it ({"deadlines", "timers", "cases",
    "skipped"}, or a bare count)."""
    if isinstance(moved, int):
        flash(_("Se recalcularon %(n)s plazos.", n=moved), "info")
    elif isinstance(moved, dict):
        flash(_("Se recalcularon %(deadlines)s plazos y %(timers)s temporizadores de %(cases)s expedientes.",
                deadlines=moved.get("deadlines", 0), timers=moved.get("timers", 0),
                cases=len(moved.get("cases") or ())), "info")
        if moved.get("skipped"):
            flash(_("No se movieron los plazos de los expedientes con error: %(numbers)s.",
                    numbers=", ".join(map(str, moved["skipped"]))), "error")


@bp.post("/admin/cierres/<day>/quitar")
@login_required
def admin_closure_remove(day: str):
    try:  # the use case parses the day, after it checked the caller's role
        removed = closures.remove_closure(services(), g.user, day)
    except InvalidInput:
        flash(_("Escriba el día como aaaa-mm-dd."), "error")
        return redirect(url_for("pages.admin_closures"))
    except NotFound:
        when = date.fromisoformat(day)
        flash(_("El %(day)s no era día de cierre.", day=when.strftime("%d/%m/%Y")), "error")
        return redirect(url_for("pages.admin_closures", anio=when.year))
    when = date.fromisoformat(day)
    flash(_("El %(day)s ya no es día de cierre.", day=when.strftime("%d/%m/%Y")), "info")
    _flash_moved(removed.get("moved") if isinstance(removed, dict) else None)
    return redirect(url_for("pages.admin_closures", anio=when.year))


@bp.get("/admin/registro")
@login_required
def admin_log_page():
    action, actor = request.args.get("accion") or None, request.args.get("usuario") or None
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    svc = services()
    found = admin_log.list_admin_log(svc, g.user, action=action, actor=actor, page=page, per_page=LOG_PAGE_ROWS)
    return render_template("pages/admin_log.html", found=found, action=action or "", actor=actor or "",
                           actions=admin_log.admin_log_actions(svc, g.user), labels=ACTION_LABELS)
