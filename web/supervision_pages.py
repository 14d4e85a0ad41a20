"""The supervisor's view of the work (/supervision): open tasks per group and per clerk with the overdue and due-soon
counts; a group's or a clerk's open tasks, several reassigned or released at once, with what happened to each
(engine/usecases/supervision.py decides who may see and do what)."""
from __future__ import annotations

from datetime import timedelta

from flask import g, render_template, request
from flask_babel import gettext as _

from engine.errors import Conflict, InvalidInput, TaskNotFound, TaskNotReady
from engine.usecases import supervision
from web.i18n import localize
from web.pages import bp, login_required, services
from web.task_messages import called


def _days() -> tuple[int, str | None]:
    """The `dias` of the query (working days that count as "due soon"), or the default and why it was not taken."""
    raw = request.values.get("dias", "").strip()
    if not raw:
        return supervision.DUE_SOON_WORKING_DAYS, None
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if not 0 <= days <= supervision.MAX_DUE_SOON_WORKING_DAYS:
        return supervision.DUE_SOON_WORKING_DAYS, _(
            "«Por vencer» cuenta de 0 a %(max)s días hábiles; se muestran %(days)s.",
            max=supervision.MAX_DUE_SOON_WORKING_DAYS, days=supervision.DUE_SOON_WORKING_DAYS)
    return days, None


@bp.get("/supervision")
@login_required
def supervision_overview():
    days, problem = _days()
    seen = supervision.workload(services(), g.user, due_soon_days=days)
    # The bound is the midnight that ends the last day counted: the page names that day.
    last_day = seen["due_soon_until"] - timedelta(seconds=1)
    return render_template("pages/supervision.html", seen=seen, problem=problem, last_day=last_day), \
        400 if problem else 200


def _listed(page_error: str | None = None, results: list | None = None, status: int = 200):
    days, problem = _days()
    group = request.values.get("grupo") or None
    clerk = request.values.get("oficial") or None
    page = request.values.get("pagina", 1, type=int) or 1
    listed = supervision.open_tasks(services(), g.user, group=group, assignee=clerk, page=page, due_soon_days=days)
    return render_template("pages/supervision_tasks.html", listed=listed, error=page_error or problem,
                           results=results, names=listed["names"],
                           chosen=request.form.get("asignar_a", "")), 400 if problem and status == 200 else status


@bp.get("/supervision/tareas")
@login_required
def supervision_tasks():
    return _listed()


@bp.post("/supervision/tareas")
@login_required
def supervision_change():
    """Reassign («reasignar») or release («liberar») the tasks chosen, each on its own; the list, read again, shows
    what happened to each."""
    chosen = request.form.getlist("tarea")
    holders = {task_id: request.form.get(f"titular-{task_id}", "") for task_id in chosen
               if f"titular-{task_id}" in request.form}
    action = request.form.get("accion")
    try:
        if action == "reasignar":
            results = supervision.reassign_tasks(services(), g.user, chosen, request.form.get("asignar_a", ""),
                                                 holders)
        elif action == "liberar":
            results = supervision.release_tasks(services(), g.user, chosen, holders)
        else:
            raise InvalidInput("unknown action", errors=[{"field": "accion", "message": "reasignar or liberar"}])
    except InvalidInput as exc:
        return _listed(page_error=_bad_input(exc), status=400)
    to = request.form.get("asignar_a", "")
    return _listed(results=[dict(r, text=_outcome(r, action, to)) for r in results])


def _bad_input(exc: InvalidInput) -> str:
    fields = {e.get("field") for e in exc.details.get("errors", [])}
    if "task_ids" in fields:
        return _("Marque al menos una tarea de la lista.")
    if "assignee" in fields:
        return _("Elija a quién reasignar las tareas marcadas.")
    if "holders" in fields:
        return _("La lista cambió; vuelva a cargarla y marque las tareas de nuevo.")
    return _("Los datos enviados no son válidos: %(detail)s", detail=localize(exc.message))


def _outcome(result: dict, action: str, to: str) -> str:
    """What happened to one task of the change, in words."""
    error = result["error"]
    if result["outcome"] == supervision.DONE:
        return _("Reasignada a %(who)s.", who=to) if action == "reasignar" else _("Devuelta a la cola del grupo.")
    if result["outcome"] == supervision.CHANGED:
        details = error.details
        if isinstance(error, TaskNotReady) and details.get("completed_by"):
            who = called(details["completed_by"], {details["completed_by"]: details.get("completed_by_name") or ""})
            return _("Cambió mientras tanto: %(who)s ya la completó.", who=who)
        if isinstance(error, TaskNotReady):
            return _("Cambió mientras tanto: ya no está abierta.")
        if isinstance(error, Conflict) and details.get("holder"):
            who = called(details["holder"], {details["holder"]: details.get("holder_name") or ""})
            return _("Cambió mientras tanto: ahora la tiene %(who)s.", who=who)
        return _("Cambió mientras tanto: nadie la tiene ahora.")
    if isinstance(error, TaskNotFound):
        return _("Rechazada: no existe o no es de los grupos que usted supervisa.")
    if action == "liberar" and "not claimed" in error.message:
        return _("Rechazada: nadie la tenía tomada.")
    return _("Rechazada: %(why)s", why=localize(error.message))
