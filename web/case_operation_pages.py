"""The case page's operations for supervisors and administrators: reassign or release a task, suspend, resume,
cancel (after a confirmation), retry an errored case, and move the case to another step after a preview.

Every form carries the case's `version` as the page showed it: the use case refuses a stale one (409, in
Spanish), so nobody overwrites what he did not see. Who may do what is the use cases' to decide
(engine/usecases/case_operations.py, cases.py, case_moves.py); the panel is shown to those who may.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.accounts import permissions
from engine.errors import Conflict, InvalidInput, TaskNotReady
from engine.usecases import case_moves, case_operations, cases
from web.i18n import localize
from web.pages import bp, login_required, services
from web.submissions import single_submission
from web.task_messages import conflict_message


def panel(case_id: int) -> dict | None:
    """What the case page's «Operaciones» panel shows (None: the user may do none of them)."""
    return case_operations.operations_panel(services(), g.user, case_id)


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


def _refused(case_id: int, exc: Exception, status: int):
    """The operation was refused: say why in Spanish, with the way back to the case; nothing changed."""
    if isinstance(exc, Conflict):
        message = _operation_conflict(exc)
    else:
        message = _("No se hizo la operación: %(detail)s", detail=localize(exc.message))
    return render_template("pages/case_operation.html", mode="refused", case_id=case_id, message=message), status


def _operation_conflict(exc: Conflict) -> str:
    details = exc.details
    if "expected_version" in details or "changed by someone else" in exc.message:
        return _("Otra persona modificó este expediente después de que usted abrió la página; vuelva a cargarla "
                 "y revise el expediente antes de repetir la operación.")
    if isinstance(exc, TaskNotReady) or "not claimed" in exc.message:
        return conflict_message(exc)
    if details.get("state"):
        return _("El expediente está en estado «%(state)s»; esta operación no se puede hacer ahora.",
                 state=_STATE_NAMES.get(details["state"], details["state"]))
    return localize(exc.message)


_STATE_NAMES = {"running": "en trámite", "completed": "concluido", "error": "con error", "suspended": "suspendido",
                "cancelled": "anulado"}


def _back(case_id: int, message: str):
    flash(message, "info")
    return redirect(url_for("pages.case", case_id=case_id) + "#operations-title")


@bp.post("/expedientes/<int:case_id>/operaciones/reasignar")
@login_required
@single_submission()
def reassign_task(case_id: int):
    try:
        done = case_operations.reassign_case_task(services(), g.user, case_id, request.form.get("tarea", ""),
                                                  request.form.get("usuario", ""), _version())
    except InvalidInput as exc:
        return _refused(case_id, exc, 400)
    except Conflict as exc:
        return _refused(case_id, exc, 409)
    return _back(case_id, _("La tarea «%(title)s» quedó a cargo de %(user)s.", title=done["title"],
                            user=done["assignee"]))


@bp.post("/expedientes/<int:case_id>/operaciones/liberar")
@login_required
@single_submission()
def release_task(case_id: int):
    try:
        done = case_operations.release_case_task(services(), g.user, case_id, request.form.get("tarea", ""),
                                                 _version())
    except InvalidInput as exc:
        return _refused(case_id, exc, 400)
    except Conflict as exc:
        return _refused(case_id, exc, 409)
    return _back(case_id, _("La tarea «%(title)s» volvió a la cola de su grupo.", title=done["title"]))


_STATE_ACTIONS = {
    "suspender": ("suspend", lambda: _("Expediente suspendido.")),
    "reanudar": ("resume", lambda: _("Expediente reanudado.")),
}


@bp.post("/expedientes/<int:case_id>/operaciones/<any(suspender, reanudar):accion>")
@login_required
@single_submission()
def change_state(case_id: int, accion: str):
    action, done = _STATE_ACTIONS[accion]
    permissions.require(g.user, "case.manage")  # a role that may not gets 403 whatever it sent, not a 400
    try:
        _reason_given()
        cases.change_case_state(services(), g.user, case_id, action, request.form.get("motivo", "").strip(),
                                expected_version=_version())
    except InvalidInput as exc:
        return _refused(case_id, exc, 400)
    except Conflict as exc:
        return _refused(case_id, exc, 409)
    return _back(case_id, done())


def _reason_given() -> None:
    if not request.form.get("motivo", "").strip():
        raise InvalidInput(_("indique el motivo"), errors=[{"field": "motivo", "message": "required"}])


@bp.post("/expedientes/<int:case_id>/operaciones/anular")
@login_required
@single_submission(unless=lambda form: form.get("confirmar") != "si")
def cancel_case(case_id: int):
    """Cancel the case: the panel's form leads to a confirmation page (the reason shown again), which cancels."""
    reason = request.form.get("motivo", "").strip()
    permissions.require(g.user, "case.manage")  # a role that may not gets 403 whatever it sent, not a 400
    try:
        _reason_given()
        if request.form.get("confirmar") != "si":
            case = cases.get_case(services(), g.user, case_id)
            return render_template("pages/case_operation.html", mode="cancel", case_id=case_id, case=case,
                                   reason=reason, version=_version())
        cases.change_case_state(services(), g.user, case_id, "cancel", reason, expected_version=_version())
    except InvalidInput as exc:
        return _refused(case_id, exc, 400)
    except Conflict as exc:
        return _refused(case_id, exc, 409)
    return _back(case_id, _("Expediente anulado."))


@bp.post("/expedientes/<int:case_id>/operaciones/reintentar")
@login_required
@single_submission()
def retry_case(case_id: int):
    try:
        result = cases.retry_case(services(), g.user, case_id, None, expected_version=_version())
    except InvalidInput as exc:
        return _refused(case_id, exc, 400)
    except Conflict as exc:
        return _refused(case_id, exc, 409)
    if result["state"] == "error":
        flash(_("El reintento volvió a fallar en «%(element)s»: %(message)s", element=result["error_element"] or "",
                message=localize(result["error_message"] or "")), "error")
        return redirect(url_for("pages.case", case_id=case_id) + "#operations-title")
    return _back(case_id, _("El expediente se reintentó y siguió su curso."))


@bp.get("/expedientes/<int:case_id>/mover")
@login_required
def move_preview(case_id: int):
    """«Vista previa» of moving the case to the chosen step: which tasks and waits close and which open."""
    target = request.args.get("paso", "")
    preview = case_moves.preview_move(services(), g.user, case_id, target)
    targets = {t["element_id"]: t["name"] for t in case_moves.move_targets(services(), g.user, case_id)}
    status = 200 if not preview["problems"] else 400
    return render_template("pages/case_operation.html", mode="move", case_id=case_id, preview=preview,
                           target_name=targets.get(target, target),
                           problems=[localize(p) for p in preview["problems"]]), status


@bp.post("/expedientes/<int:case_id>/mover")
@login_required
@single_submission()
def move_case(case_id: int):
    target = request.form.get("paso", "")
    try:
        moved = case_moves.move_case(services(), g.user, case_id, target, request.form.get("motivo", ""),
                                     _version())
    except InvalidInput as exc:
        return _refused(case_id, exc, 400)
    except Conflict as exc:
        return _refused(case_id, exc, 409)
    names = [o["name"] for o in moved["open"] if o["what"] == "task"] or [target]
    return _back(case_id, _("El expediente se movió a «%(step)s».", step=", ".join(names)))
