"""Spanish messages for a task someone else took or finished first (never an error page)."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from engine.accounts import auth
from engine.errors import Conflict, TaskNotReady


def person(username: str | None) -> str:
    """A colleague as clerks know him: display name and username."""
    if not username:
        return _("otra persona")
    found = auth.principal_by_username(current_app.extensions["expediente"], username)
    return called(username, {username: found.display_name} if found else {})


def called(username: str, names: dict[str, str]) -> str:
    """A colleague by the display names a use case read (username: display name): "Irma Tum (irma)"."""
    name = names.get(username)
    if not name or name == username:
        return username
    return f"{name} ({username})"


def conflict_message(exc: Conflict) -> str:
    details = exc.details
    if isinstance(exc, TaskNotReady) and details.get("completed_by"):
        return _("Esta tarea ya fue completada por %(who)s.", who=person(details["completed_by"]))
    if isinstance(exc, TaskNotReady) and details.get("assignee"):
        return _("Esta tarea ya la tomó %(who)s; no puede trabajarla usted.", who=person(details["assignee"]))
    if isinstance(exc, TaskNotReady):
        return _("Esta tarea ya no está disponible.")
    if "not claimed" in exc.message:
        return _("La tarea no estaba tomada por nadie.")
    if "completed by someone else" in exc.message:
        return _("Otra persona completó esta tarea al mismo tiempo que usted.")
    if details.get("state"):
        return _("El expediente está en estado «%(state)s»; sus tareas no se pueden completar ahora.",
                 state=details["state"])
    return _("Otra persona modificó este expediente al mismo tiempo; vuelva a cargar la página.")
