"""Migrating running cases to another version of their procedure ("Migrar casos"), for supervisors: the procedure's
versions and migrations, the mapping table with the filters, "Simular" (the dry run per case, kept as a plan), then
"Aplicar" in batches with a progress bar (web/static/js/migration.js posts the batches to /api/migrations/<id>/apply;
without JavaScript each press applies one batch) and "Deshacer". engine/usecases/case_migration*.py decides who may.
"""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, InvalidInput
from engine.usecases import case_migration, case_migration_apply
from web.i18n import localize
from web.pages import bp, login_required, services

STATE_NAMES = {"running": "En trámite", "suspended": "Suspendido"}


def _int(name: str) -> int | None:
    raw = (request.values.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


@bp.get("/migraciones/<name:process_key>")
@login_required
def migrations_of(process_key: str):
    shown = case_migration.migration_start(services(), g.user, process_key)
    return render_template("pages/migration_start.html", **shown)


def _new_page(process_key: str, error: str | None = None, status: int = 200):
    start = case_migration.migration_start(services(), g.user, process_key)
    old, new = _int("desde"), _int("hacia")
    choices = None
    if old and new and not error:
        try:
            choices = case_migration.migration_choices(services(), g.user, old, new)
        except InvalidInput as exc:
            error, status = localize(exc.message), 400
    return render_template("pages/migration_new.html", start=start, choices=choices, old=old, new=new, error=error,
                           form=request.form), status


@bp.get("/migraciones/<name:process_key>/nueva")
@login_required
def migration_new(process_key: str):
    return _new_page(process_key)


def _filters() -> dict:
    form = request.form
    filters = {"states": form.getlist("estado") or ["running", "suspended"]}
    for key, field in (("element", "paso"), ("municipality", "municipio"), ("created_after", "presentado_desde"),
                       ("created_before", "presentado_hasta")):
        if (form.get(field) or "").strip():
            filters[key] = form[field].strip()
    raw = [part.strip() for part in (form.get("expedientes") or "").replace(";", ",").split(",") if part.strip()]
    if raw:
        if not all(part.isdigit() for part in raw):
            raise InvalidInput(_("Los expedientes se indican por su número interno, separados por comas."),
                               errors=[{"field": "filters.case_ids", "message": "numbers separated by commas"}])
        filters["case_ids"] = [int(part) for part in raw]
    return filters


@bp.post("/migraciones/<name:process_key>/nueva")
@login_required
def migration_simulate(process_key: str):
    """"Simular": the plan with its dry run per case; the migration's page shows it."""
    old, new = _int("desde"), _int("hacia")
    mapping = {key[len("paso-"):]: value for key, value in request.form.items() if key.startswith("paso-") and value}
    try:
        planned = case_migration.plan_migration(services(), g.user, old, new, mapping, _filters())
    except InvalidInput as exc:
        field = next((e.get("field") for e in exc.details.get("errors", [])), None)
        return _new_page(process_key, error=_("No se pudo simular (%(field)s): %(why)s", field=field or "—",
                                              why=localize(exc.message)), status=400)
    return redirect(url_for("pages.migration_page", migration_id=planned["id"]))


@bp.get("/migracion/<id:migration_id>")
@login_required
def migration_page(migration_id: int):
    state = request.args.get("ver") or None
    if state not in (None, "planned", "migrated", "refused", "skipped", "undone", "kept"):
        state = None
    shown = case_migration.read_migration(services(), g.user, migration_id, item_state=state, limit=500)
    return render_template("pages/migration.html", m=shown, chosen=state, state_names=STATE_NAMES,
                           results=None)


@bp.post("/migracion/<id:migration_id>/aplicar")
@login_required
def migration_apply(migration_id: int):
    """One batch (the page's script posts the batches to the API itself and reloads at the end)."""
    try:
        case_migration_apply.apply_batch(services(), g.user, migration_id)
    except Conflict as exc:
        return _page_error(migration_id, localize(exc.message), 409)
    return redirect(url_for("pages.migration_page", migration_id=migration_id))


@bp.post("/migracion/<id:migration_id>/deshacer")
@login_required
def migration_undo(migration_id: int):
    """Undo every migrated case still at the version the migration wrote, batch after batch."""
    done = case_migration_apply.undo_batch(services(), g.user, migration_id, case_migration_apply.MAX_BATCH)
    while done["left"] and done["results"]:
        done = case_migration_apply.undo_batch(services(), g.user, migration_id, case_migration_apply.MAX_BATCH)
    return redirect(url_for("pages.migration_page", migration_id=migration_id))


def _page_error(migration_id: int, message: str, status: int):
    shown = case_migration.read_migration(services(), g.user, migration_id, limit=500)
    return render_template("pages/migration.html", m=shown, chosen=None, state_names=STATE_NAMES, results=None,
                           error=message), status
