"""The inbox ("Mis tareas" / "Cola de mi grupo") with claim and release from the list."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.usecases import inbox as inbox_query
from engine.usecases import processes
from engine.usecases import tasks
from engine.errors import Conflict, TaskNotReady
from web.pages import bp, login_required, safe_next, services
from web.task_messages import conflict_message


def _int(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


def process_names() -> dict[str, str]:
    """Deployed procedures' names by key (the latest version's)."""
    return {p["process_key"]: p["name"] or p["process_key"] for p in processes.list_processes(services())}


@bp.get("/bandeja")
@login_required("task.read")
def inbox():
    view = request.args.get("vista", "mine")
    view = view if view in inbox_query.VIEWS else "mine"
    sort = request.args.get("orden", "due_at")
    if sort.lstrip("-") not in inbox_query.SORTS:
        sort = "due_at"
    filters = {"process_key": request.args.get("procedimiento") or None,
               "element_id": request.args.get("tarea") or None,
               "municipality": request.args.get("municipio") or None,
               "q": request.args.get("q") or None}
    result = inbox_query.inbox(services(), g.user, view=view, sort=sort, page=_int("pagina", 1), **filters)
    pages = max(1, -(-result["total"] // result["per_page"]))
    return render_template("pages/inbox.html", view=view, sort=sort, result=result, pages=pages,
                           filters=filters, names=process_names(), args=request.args.to_dict())


@bp.post("/tareas/<task_id>/tomar")
@login_required("task.work")
def claim(task_id: str):
    task = tasks.visible_task(services(), g.user, task_id)
    try:
        tasks.claim_task(services(), task_id, g.user.username)
        flash(_("Tomó la tarea «%(title)s» del expediente %(number)s.", title=task["title"],
                number=task["case_number"]), "info")
    except (TaskNotReady, Conflict) as exc:
        flash(conflict_message(exc), "error")
        return redirect(url_for("pages.inbox", vista="queue"))
    return redirect(safe_next(request.form.get("next")) if request.form.get("next")
                    else url_for("pages.task", task_id=task_id))


@bp.post("/tareas/<task_id>/liberar")
@login_required("task.work")
def release(task_id: str):
    task = tasks.visible_task(services(), g.user, task_id)
    try:
        tasks.release_task(services(), task_id, g.user.username)
        flash(_("Devolvió la tarea «%(title)s» a la cola de su grupo.", title=task["title"]), "info")
    except (TaskNotReady, Conflict) as exc:
        flash(conflict_message(exc), "error")
    return redirect(safe_next(request.form.get("next")))
