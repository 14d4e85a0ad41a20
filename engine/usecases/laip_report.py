"""The annual access-to-information report (/informes/laip): what the office owes the Human Rights Ombudsman under
LAIP art. 48 (Decreto 57-2008), in its categories, by month of receipt and the year's totals.

Per request (a `laip_respuesta` legal deadline, engine/timekeeping/legal_deadlines.py), counted in the month its case
was filed (office time):
- received; answered in time (`met`) or late (`late`); overdue without an answer (still open past its due moment);
  pending (still open, within its time);
- extended (art. 43: the row was extended);
- the resolution's outcome (forms/laip_resolucion.schema.json `laip_sentido`, kept in case_facts when the resolving
  task completed, engine/storage/visits.py): information delivered in full or in part, non-existent, denied as
  reserved or as confidential;
- appealed (recurso de revisión): the case's `laip_revision` deadline ended with the citizen using it (`used`: the
  appeal was filed), and how the review ended (`laip_revision_decision`: confirmed, revoked, modified).
Read from legal_deadlines, cases and case_facts; never a workflow.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import and_, select

from engine.accounts.permissions import Principal, use_case
from engine.errors import InvalidInput
from engine.messages import msg
from engine.reports.tables import INT, Column, Table
from engine.storage import models
from engine.timekeeping.calendar import office_midnight
from engine.usecases.reports_sql import month_of

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

FIRST_YEAR, LAST_YEAR = 2000, 2100
RESPONSE, REVIEW = "laip_respuesta", "laip_revision"
OUTCOMES = ("entrega_total", "entrega_parcial", "inexistente", "reservada", "confidencial")
DECISIONS = ("confirma", "revoca", "modifica")
COUNTS = ("received", "in_time", "late", "overdue", "pending", "extended", *OUTCOMES, "denied", "appealed",
          *(f"review_{d}" for d in DECISIONS))
_d, _c, _f = models.legal_deadlines, models.cases, models.case_facts


def check_year(year) -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput("year out of range", errors=[{"field": "anio",
                                                         "message": f"a year from {FIRST_YEAR} to {LAST_YEAR}"}])
    return year


@use_case("report.read")
def laip_annual(svc: Services, principal: Principal, year: int) -> dict:
    """The year's requests by month of receipt in the ombudsman's categories, and the year's totals."""
    check_year(year)
    lo, hi = office_midnight(date(year, 1, 1)), office_midnight(date(year + 1, 1, 1))
    now = svc.clock()
    with svc.uow(write=False) as uow:
        conn = uow.conn
        month = month_of(conn, _c.c.created_at).label("month")
        sentido = _f.alias("sentido")
        decision = _f.alias("decision")
        review = _d.alias("review")
        rows = conn.execute(
            select(_d.c.case_id, month, _d.c.state, _d.c.due_at, _d.c.extended_at, sentido.c.value.label("outcome"),
                   review.c.state.label("review_state"), decision.c.value.label("decision"))
            .join(_c, _c.c.id == _d.c.case_id)
            .outerjoin(sentido, and_(sentido.c.case_id == _d.c.case_id, sentido.c.key == "laip_sentido"))
            .outerjoin(decision, and_(decision.c.case_id == _d.c.case_id,
                                      decision.c.key == "laip_revision_decision"))
            .outerjoin(review, and_(review.c.case_id == _d.c.case_id, review.c.key == REVIEW,
                                    review.c.state == "used"))
            .where(_d.c.key == RESPONSE, _c.c.created_at >= lo, _c.c.created_at < hi)
            .order_by(_d.c.case_id, _d.c.id)).all()
    months = {f"{year:04d}-{m:02d}": dict.fromkeys(COUNTS, 0) for m in range(1, 13)}
    seen = set()
    for row in rows:
        if row.case_id in seen:  # one request per case (a second row of it, if any, is not another request)
            continue
        seen.add(row.case_id)
        counts = months.get(row.month)
        if counts is None:
            continue
        counts["received"] += 1
        if row.state == "met":
            counts["in_time"] += 1
        elif row.state == "late":
            counts["late"] += 1
        elif row.state == "open":
            counts["overdue" if row.due_at < now else "pending"] += 1
        if row.extended_at is not None:
            counts["extended"] += 1
        if row.outcome in OUTCOMES:
            counts[row.outcome] += 1
            counts["denied"] += row.outcome in ("reservada", "confidencial")
        if row.review_state == "used":
            counts["appealed"] += 1
            if row.decision in DECISIONS:
                counts[f"review_{row.decision}"] += 1
    totals = {key: sum(m[key] for m in months.values()) for key in COUNTS}
    return {"year": year, "months": [{"month": k, **v} for k, v in months.items()], "totals": totals}


def laip_table(result: dict) -> Table:
    """The report as one table: a row per month and the year's total."""
    columns = [Column(msg("Mes"), "month"), Column(msg("Recibidas"), "received", INT),
               Column(msg("Respondidas en plazo"), "in_time", INT), Column(msg("Respondidas tarde"), "late", INT),
               Column(msg("Vencidas sin respuesta"), "overdue", INT), Column(msg("En trámite"), "pending", INT),
               Column(msg("Prorrogadas (art. 43)"), "extended", INT),
               Column(msg("Entrega total"), "entrega_total", INT), Column(msg("Entrega parcial"), "entrega_parcial", INT),
               Column(msg("Información inexistente"), "inexistente", INT),
               Column(msg("Negadas: reservada"), "reservada", INT),
               Column(msg("Negadas: confidencial"), "confidencial", INT),
               Column(msg("Negadas (total)"), "denied", INT),
               Column(msg("Con recurso de revisión"), "appealed", INT),
               Column(msg("Revisión: confirma"), "review_confirma", INT),
               Column(msg("Revisión: revoca"), "review_revoca", INT),
               Column(msg("Revisión: modifica"), "review_modifica", INT)]
    rows = [*result["months"], {**result["totals"], "month": msg("Total %(year)s", year=result["year"])}]
    return Table(msg("Solicitudes de acceso a la información pública %(year)s", year=result["year"]), columns, rows,
                 msg("Cada solicitud se cuenta en el mes en que se presentó. Decreto 57-2008: respuesta en 10 días "
                     "hábiles (art. 42), prorrogables una vez por 10 más (art. 43); recurso de revisión dentro de 15 "
                     "días hábiles. Informe anual al Procurador de los Derechos Humanos (art. 48)."))
