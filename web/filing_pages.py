"""Filing online (`/tramites`): no login; each view is one call to engine.usecases.online_filing.

`/tramites` lists what may be filed online; `/tramites/<key>` draws the procedure's intake form as the desk's
intake page does (web.schema_form, macros/form.html) with file inputs; sending it queues a confirmation e-mail and
shows «Revise su correo». The e-mail's link `/tramites/confirmar/<token>` shows a button (GET changes nothing: mail
scanners follow links); its POST files the case and shows its number, tracking code and receipt.
"""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _

from engine.errors import FormInvalid, InvalidInput, NotFound, RateLimited
from engine.usecases import online_filing
from engine.usecases.attachments import AttachmentRefused, AttachmentTooLarge
from engine.values import ValueRejected
from web import schema_form
from web.i18n import localize
from web.pages import bp, services

FILES_INPUT = online_filing.FILES_FIELD


@bp.get("/tramites")
def filing_list():
    return render_template("pages/tramites.html", procedures=online_filing.online_procedures(services()))


@bp.route("/tramites/<process_key>", methods=["GET", "POST"])
def filing_page(process_key: str):
    svc = services()
    form = online_filing.filing_form(svc, process_key)
    data, errors, status = {}, {}, 200
    if request.method == "POST":
        data = schema_form.parse(form["schema"], request.form)
        files = [(f.filename, f.stream) for f in request.files.getlist(FILES_INPUT)]
        store = current_app.extensions["expediente.attachments"]
        try:
            sent = online_filing.submit_filing(svc, store, process_key, data, files, request.remote_addr or "")
        except (FormInvalid, ValueRejected) as exc:
            errors = {name: localize(text) for name, text in
                      schema_form.errors_by_field(exc.details.get("errors") or []).items()}
            status = 422
        except (AttachmentTooLarge, AttachmentRefused) as exc:
            errors, status = {FILES_INPUT: localize(exc.message)}, 413 if isinstance(exc, AttachmentTooLarge) else 422
        except RateLimited:
            return _notice(429, _("Demasiadas solicitudes"), _(
                "Se recibieron demasiadas solicitudes desde esta conexión o para este correo electrónico. "
                "Intente de nuevo más tarde."))
        else:
            return render_template("pages/tramite_enviado.html", name=form["name"], email=sent["email"],
                                   expires_at=sent["expires_at"])
    fields = schema_form.fields(form["schema"], data, errors)
    return render_template("pages/tramite.html", process_key=process_key, name=form["name"], schema=form["schema"],
                           fields=fields, errors=errors, files_error=errors.get(FILES_INPUT),
                           max_files=online_filing.MAX_FILES,
                           max_mib=current_app.extensions["expediente.attachments"].max_bytes // (1024 * 1024)), status


def _notice(status: int, title: str, message: str):
    """A citizen's page saying what happened and how to go on (back to the list of procedures)."""
    return render_template("pages/tramite_aviso.html", title=title, message=message), status


def _link_problem(exc):
    """An unknown link (404) or one that expired (410): a page saying so and how to file again."""
    if isinstance(exc, online_filing.FilingExpired):
        return _notice(410, _("El enlace venció"), _(
            "El enlace de confirmación venció sin usarse, y la solicitud no se presentó. Puede llenarla de nuevo."))
    return _notice(404, _("Enlace no válido"), _(
        "Este enlace de confirmación no corresponde a ninguna solicitud. Revise que lo copió completo del correo."))


@bp.get("/tramites/confirmar/<token>")
def filing_confirm_form(token: str):
    try:
        status = online_filing.filing_status(services(), token)
    except (online_filing.FilingExpired, NotFound) as exc:
        return _link_problem(exc)
    if status["state"] == "confirmed":
        return render_template("pages/tramite_confirmado.html", filed=status)
    return render_template("pages/tramite_confirmar.html", token=token, name=status["name"])


@bp.post("/tramites/confirmar/<token>")
def filing_confirm(token: str):
    try:
        filed = online_filing.confirm_filing(services(), token)
    except (online_filing.FilingExpired, NotFound) as exc:
        return _link_problem(exc)
    except InvalidInput:  # the procedure's form changed since it was sent, and the data no longer fits it
        return _notice(409, _("La solicitud debe llenarse de nuevo"), _(
            "El formulario de este trámite cambió después de que usted envió su solicitud; llénela de nuevo."))
    return render_template("pages/tramite_confirmado.html", filed=filed)
