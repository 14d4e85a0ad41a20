"""The auditor's pages: the search across every case's history (his landing page), a case's full record with its
verifiable ZIP, the event search exported as CSV or JSON (streamed, with X-Total-Count for the progress bar of
web/static/js/audit_export.js), the integrity page (status, public key, signing a checkpoint) and the access log.

Each view is one call to a use case (engine/usecases/audit*.py), which checks the role and logs the look."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext

from engine.errors import InvalidInput
from engine.usecases import audit, audit_desk
from engine.usecases.audit_record import case_record
from web import audit_streams
from web.pages import bp, error_page, login_required, services

# The search form's fields (query string, in Spanish) and the use case's filters they fill.
SEARCH_FIELDS = {"actor": "actor", "desde": "date_from", "hasta": "date_to", "procedimiento": "process_key",
                 "elemento": "element_id", "tipo": "kind", "expediente": "case_number", "municipio": "municipality"}
FIELD_LABELS = {
    "actor": lazy_gettext("Actor"), "date_from": lazy_gettext("Desde"), "date_to": lazy_gettext("Hasta"),
    "process_key": lazy_gettext("Procedimiento"), "element_id": lazy_gettext("Elemento"),
    "kind": lazy_gettext("Tipo de evento"), "case_number": lazy_gettext("Número de expediente"),
    "municipality": lazy_gettext("Municipio"), "limit": lazy_gettext("Página"), "before_seq": lazy_gettext("Página"),
}
EVENT_LABELS = {
    "case_started": lazy_gettext("Expediente iniciado"), "task_claimed": lazy_gettext("Tarea tomada"),
    "task_released": lazy_gettext("Tarea liberada"), "task_assigned": lazy_gettext("Tarea asignada"),
    "task_completed": lazy_gettext("Tarea completada"), "timer_fired": lazy_gettext("Plazo cumplido"),
    "escalated": lazy_gettext("Escalada"), "document_issued": lazy_gettext("Documento emitido"),
    "attachment_added": lazy_gettext("Adjunto agregado"), "error": lazy_gettext("Error en el expediente"),
    "retried": lazy_gettext("Reintento"), "case_suspended": lazy_gettext("Expediente suspendido"),
    "case_resumed": lazy_gettext("Expediente reanudado"), "case_cancelled": lazy_gettext("Expediente anulado"),
    "case_completed": lazy_gettext("Expediente concluido"),
    "case_moved": lazy_gettext("Expediente movido a otro paso"),
    "case_migrated": lazy_gettext("Expediente migrado a otra versión del procedimiento"),
    "case_migration_undone": lazy_gettext("Migración del expediente deshecha"),
    "message_received": lazy_gettext("Mensaje recibido"),
    "message_sent": lazy_gettext("Mensaje enviado"),
    "message_retried": lazy_gettext("Mensaje reintentado"),
    "message_discarded": lazy_gettext("Mensaje descartado"),
    "institution_requested": lazy_gettext("Solicitud enviada a una institución"),
    "institution_reminder": lazy_gettext("Recordatorio a una institución"),
    "institution_escalated": lazy_gettext("Solicitud a una institución vencida"),
    "institution_request_expired": lazy_gettext("Enlace de respuesta vencido"),
    "institution_answered": lazy_gettext("Respuesta de una institución recibida"),
    "deadline_opened": lazy_gettext("Plazo legal iniciado"),
    "deadline_extended": lazy_gettext("Plazo legal prorrogado"),
    "deadline_extension_notified": lazy_gettext("Prórroga notificada al interesado"),
    "deadline_closed": lazy_gettext("Plazo legal concluido"),
    "deadline_moved": lazy_gettext("Plazo legal recalculado por un día de cierre"),
    "timers_moved": lazy_gettext("Temporizadores recalculados por un día de cierre"),
    "deadline_alerted": lazy_gettext("Alerta de plazo legal enviada"),
    "deadline_escalated": lazy_gettext("Plazo legal vencido: aviso a supervisión"),
}
PAGE_ROWS = 50
# The CSV's column names (stable, for spreadsheets and scripts), one per audit_streams.EVENT_FIELDS column.
CSV_HEADER = ("secuencia", "secuencia_expediente", "expediente_id", "expediente", "procedimiento", "municipio",
              "fecha_utc", "tipo", "elemento", "tarea", "actor", "datos", "cambios", "hash_hoja")


@bp.app_context_processor
def event_labels() -> dict:
    """The event kinds' labels for every page that shows a history (the case page's among them)."""
    return {"event_labels": EVENT_LABELS}


def _labels() -> dict[str, str]:
    """The event kinds' names in the request's language, translated once (not once per row of a long table)."""
    return {kind: str(label) for kind, label in EVENT_LABELS.items()}


def _filters() -> dict:
    return {name: request.args[arg] for arg, name in SEARCH_FIELDS.items() if request.args.get(arg)}


def _invalid_message(exc: InvalidInput) -> str:
    field = (exc.errors or [{}])[0].get("field")
    return _("El campo «%(field)s» no es válido.", field=FIELD_LABELS.get(field, field))


@bp.get("/auditoria")
@login_required
def audit_search():
    """The search form, one page of the events found (newest first) and the export links of the selection."""
    svc = services()
    form = audit.search_form(svc, g.user)
    args = {arg: request.args[arg] for arg in SEARCH_FIELDS if request.args.get(arg)}
    before = request.args.get("antes", type=int)
    result, error = None, None
    try:
        result = audit.search_events(svc, g.user, _filters(), limit=PAGE_ROWS, before_seq=before)
    except InvalidInput as exc:
        error = _invalid_message(exc)
    return render_template("pages/audit_search.html", form=form, integrity=form["integrity"], result=result,
                           error=error, args=args, before=before, labels=_labels()), 400 if error else 200


@bp.get("/auditoria/expedientes/<int:case_id>")
@login_required
def audit_case(case_id: int):
    record = case_record(services(), g.user, case_id)
    return render_template("pages/audit_case.html", record=record, case=record["case"],
                           integrity=record["integrity"], labels=_labels())


@bp.get("/auditoria/expedientes/<int:case_id>/exportar.zip")
@login_required
def audit_case_zip(case_id: int):
    """The case's verifiable export (engine.audit.export), streamed to the browser while it is written."""
    return audit_streams.zip_download(services(), g.user, current_app.extensions["expediente.attachments"], case_id)


def _download(export_format: str):
    try:
        return audit_streams.search_download(
            services(), g.user, _filters(), export_format, csv_header=CSV_HEADER, echo_filters=True,
            filename=f"eventos-{services().clock().strftime('%Y%m%d-%H%M%S')}")
    except InvalidInput as exc:
        return error_page(400, _invalid_message(exc))


@bp.get("/auditoria/eventos.csv")
@login_required
def audit_events_csv():
    return _download("csv")


@bp.get("/auditoria/eventos.json")
@login_required
def audit_events_json():
    return _download("json")


@bp.get("/auditoria/integridad")
@login_required
def audit_integrity_page():
    overview = audit_desk.integrity_overview(services(), g.user)
    return render_template("pages/audit_integrity.html", overview=overview, integrity=overview)


@bp.post("/auditoria/integridad/punto-de-control")
@login_required
def audit_checkpoint():
    row, created = audit_desk.sign_checkpoint(services(), g.user)
    flash(_("Se firmó un punto de control de %(n)s eventos.", n=row["tree_size"]) if created else
          _("Ningún evento nuevo desde el último punto de control (%(n)s eventos); se conserva ese.",
            n=row["tree_size"]), "info")
    return redirect(url_for("pages.audit_integrity_page"))


@bp.get("/auditoria/accesos")
@login_required
def audit_access_log():
    svc = services()
    status = audit_desk.desk_status(svc, g.user)
    before = request.args.get("antes", type=int)
    page = audit_desk.access_log(svc, g.user, actor=request.args.get("actor") or None, before=before,
                                 limit=PAGE_ROWS)
    return render_template("pages/audit_access.html", page=page, integrity=status, before=before,
                           actor=request.args.get("actor", ""))
