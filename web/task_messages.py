"""Spanish messages for a task someone else took or finished first (never an error page)."""
from __future__ import annotations

from flask_babel import gettext as _

from engine.errors import Conflict, TaskNotReady


def called(username: str, names: dict[str, str]) -> str:
    """A colleague by the display names a use case read (username: display name): "Irma Tum (irma)"."""
    name = names.get(username)
    if not name or name == username:
        return username
    return f"{name} ({username})"


def _named(details: dict, key: str) -> str:
    """The colleague a conflict names under `key`, with the display name the use case read (`key`_name)."""
    return called(details[key], {details[key]: details.get(f"{key}_name") or ""})


def conflict_message(exc: Conflict) -> str:
    details = exc.details
    if isinstance(exc, TaskNotReady) and details.get("completed_by"):
        return _("Esta tarea ya fue completada por %(who)s.", who=_named(details, "completed_by"))
    if isinstance(exc, TaskNotReady) and details.get("assignee"):
        return _("Esta tarea ya la tomó %(who)s; no puede trabajarla usted.", who=_named(details, "assignee"))
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
