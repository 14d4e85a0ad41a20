"""What a step's outcome adds to a case's history, in the step's transaction: its error, or the case's completion
with the citizen's closure notice and the end of its open legal deadlines. Every way a case completes (filing, a
task, a timer, a retry, a message, a move, a migration) passes here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from engine.mail.notifications import enqueue_closure
from engine.storage import legal_rows, models
from engine.storage.persistence import event_row
from engine.usecases.intake import process_name

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_c = models.cases


def outcome_events(svc: Services, conn, case_id: int, now, state: str, failure, *,
                   has_citizen_email: bool = True, open_deadlines: bool = True) -> list[dict]:
    """The history rows a step's outcome adds: its error, or the case's completion. Every way a case completes
    (filing, a task, a timer, a retry) passes here in that step's transaction, so the citizen's closure notice
    is queued here, once (with the case's citizen_email; engine/mail/templates/cierre.txt). A caller that has
    read the case's row and found no citizen address says so (`has_citizen_email=False`): nothing to read; one that
    knows the case has no open legal deadline, neither before its step nor opened by it (`open_deadlines=False`),
    has none closed."""
    if failure is not None:
        return [event_row(case_id, now, "error", element_id=failure.element_id,
                          data={"message": failure.message})]
    if state == "completed":
        if has_citizen_email:
            _queue_closure(svc, conn, case_id, now)
        if open_deadlines:
            legal_rows.close_all(conn, case_id, now)
        return [event_row(case_id, now, "case_completed")]
    return []


_CLOSURE_CASE = select(_c.c.citizen_email, _c.c.applicant_name, _c.c.number, _c.c.tracking_code,
                       _c.c.process_key).where(_c.c.id == bindparam("b_id"))


def _queue_closure(svc: Services, conn, case_id: int, now) -> None:
    case = conn.execute(_CLOSURE_CASE, {"b_id": case_id}).one()
    if case.citizen_email:
        enqueue_closure(conn, to=case.citizen_email, applicant_name=case.applicant_name, case_id=case_id,
                        number=case.number, tracking_code=case.tracking_code,
                        process_name=process_name(conn, case.process_key), base_url=svc.settings.public_base_url,
                        now=now)
