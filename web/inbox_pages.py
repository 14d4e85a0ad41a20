"""The inbox ("Mis tareas" / "Cola de mi grupo") with claim and release from the list."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.usecases import inbox as inbox_query
from engine.usecases import tasks
from engine.errors import Conflict, InvalidInput, TaskNotReady
from web.pages import bp, login_required, safe_next, services
from web.task_messages import conflict_message


def _int(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


@bp.get("/bandeja")
@login_required
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
    try:
        result = inbox_query.inbox(services(), g.user, view=view, sort=sort, page=_int("pagina", 1),
                                   after=request.args.get("despues") or None, **filters)
    except InvalidInput:  # a cursor mangled by hand: its page by number
        result = inbox_query.inbox(services(), g.user, view=view, sort=sort, page=_int("pagina", 1), **filters)
    # Past COUNT_CAP the number of pages is not known: the pager offers the next one while there is one.
    pages = None if result["total_more"] else max(1, -(-result["total"] // result["per_page"]))
    return render_template("pages/inbox.html", view=view, sort=sort, result=result, pages=pages,
                           filters=filters, names=result["names"], args=request.args.to_dict())


@bp.post("/tareas/<uuid:task_id>/tomar")
@login_required
def claim(task_id):
    try:
        task = tasks.claim_task(services(), g.user, str(task_id))
        flash(_("Tomó la tarea «%(title)s» del expediente %(number)s.", title=task["title"],
                number=task["case_number"]), "info")
    except (TaskNotReady, Conflict) as exc:
        flash(conflict_message(exc), "error")
        return redirect(url_for("pages.inbox", vista="queue"))
    return redirect(safe_next(request.form.get("next")) if request.form.get("next")
                    else url_for("pages.task", task_id=task_id))


@bp.post("/tareas/<uuid:task_id>/liberar")
@login_required
def release(task_id):
    try:
        task = tasks.release_task(services(), g.user, str(task_id))
        flash(_("Devolvió la tarea «%(title)s» a la cola de su grupo.", title=task["title"]), "info")
    except (TaskNotReady, Conflict) as exc:
        flash(conflict_message(exc), "error")
    return redirect(safe_next(request.form.get("next")))
