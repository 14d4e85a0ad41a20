"""The supervisors' messages page (/mensajes): messages by state, those waiting for attention first (undeliverable,
then pending), each retried or discarded (with the reason) from the list; and the case page's block of linked
cases and the case's messages (`case_block`, called by web/case_pages.py)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext

from engine.errors import Conflict, InvalidInput
from engine.usecases import case_messages, institution_records, messaging
from web.i18n import localize
from web.pages import bp, login_required, safe_next, services

PAGE_ROWS = 50
# The page's tabs: the query's `estado` -> the states it lists, in order. "atender" (the default) lists what a
# supervisor has to act on: the undeliverable ones first, then those pending.
VIEWS = {
    "atender": ("undeliverable", "pending"),
    "sin_entregar": ("undeliverable",),
    "pendientes": ("pending",),
    "en_cola": ("queued",),
    "entregados": ("delivered",),
    "descartados": ("discarded",),
    "todos": (None,),
}
VIEW_LABELS = {
    "atender": lazy_gettext("Por atender"), "sin_entregar": lazy_gettext("Sin entregar"),
    "pendientes": lazy_gettext("Pendientes"), "en_cola": lazy_gettext("En cola"),
    "entregados": lazy_gettext("Entregados"), "descartados": lazy_gettext("Descartados"),
    "todos": lazy_gettext("Todos"),
}
STATE_LABELS = {
    "queued": lazy_gettext("En cola"), "pending": lazy_gettext("Pendiente"), "delivered": lazy_gettext("Entregado"),
    "undeliverable": lazy_gettext("Sin entregar"), "discarded": lazy_gettext("Descartado"),
}
SOURCE_LABELS = {"api": lazy_gettext("API"), "case": lazy_gettext("Expediente"),
                 "institution": lazy_gettext("Institución")}
ACTIONABLE = frozenset({"undeliverable", "pending"})


def _positive(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value and value > 0 else None


@bp.get("/mensajes")
@login_required
def messages_list():
    view = request.args.get("estado", "atender")
    view = view if view in VIEWS else "atender"
    filters = {"name": request.args.get("nombre") or None, "case_id": _positive("caso")}
    before = _positive("antes")
    svc, sections = services(), []
    for state in VIEWS[view]:
        page = messaging.list_messages(svc, g.user, state=state, limit=PAGE_ROWS,
                                       before=before if len(VIEWS[view]) == 1 else None, **filters)
        sections.append({"state": state, "items": page["items"], "next": page["next"]})
    args = {k: v for k, v in {"estado": view, "nombre": filters["name"], "caso": filters["case_id"]}.items() if v}
    return render_template("pages/messages_list.html", view=view, views=VIEW_LABELS, sections=sections,
                           filters=filters, args=args, states=STATE_LABELS, sources=SOURCE_LABELS,
                           actionable=ACTIONABLE)


@bp.post("/mensajes/<int:message_id>/reintentar")
@login_required
def message_retry(message_id: int):
    try:
        done = messaging.retry_message(services(), g.user, message_id)
    except Conflict as exc:
        flash(localize(exc.message), "error")
    else:
        flash(_("Mensaje %(id)s reintentado: %(state)s.", id=message_id,
                state=STATE_LABELS.get(done["state"], done["state"])), "info")
    return redirect(safe_next(request.form.get("next") or url_for("pages.messages_list")))


@bp.post("/mensajes/<int:message_id>/descartar")
@login_required
def message_discard(message_id: int):
    try:
        messaging.discard_message(services(), g.user, message_id, request.form.get("motivo", "").strip())
    except (Conflict, InvalidInput) as exc:
        flash(_("No se descartó el mensaje %(id)s: %(why)s", id=message_id, why=localize(exc.message)), "error")
    else:
        flash(_("Mensaje %(id)s descartado.", id=message_id), "info")
    return redirect(safe_next(request.form.get("next") or url_for("pages.messages_list")))


def case_block(case_id: int) -> dict:
    """The case page's linked cases and messages (engine/usecases/case_messages.py), with their labels."""
    block = case_messages.case_messages(services(), g.user, case_id)
    requests = institution_records.requests_of_case(services(), g.user, case_id)
    return {**block, "requests": requests, "states": STATE_LABELS, "sources": SOURCE_LABELS,
            "request_states": REQUEST_STATE_LABELS}


# What a request to an institution (engine/usecases/institutions.py) is waiting for, in words.
REQUEST_STATE_LABELS = {"open": lazy_gettext("esperando respuesta"), "answered": lazy_gettext("respondida"),
                        "expired": lazy_gettext("enlace vencido sin respuesta"), "cancelled": lazy_gettext("cancelada")}
