"""What the case page shows of messaging: the cases linked to this one (that it started or continued, or that
started or continued it) and the messages it received and sent.

Apart from engine/usecases/messaging.py (which delivers messages and serves supervisors) because whoever may see a
case reads this, supervisor or not: its check is the case's reach, not message.manage. A linked case out of the
reader's reach is left out, and its number is not shown beside a message, as if it did not exist
(permissions.case_filter)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.accounts.permissions import Principal, case_filter, check_case_visible, use_case
from engine.storage import models
from engine.usecases import messaging
from engine.usecases.intake import process_names

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

# The newest messages of a case the page lists; the supervisors' list has them all (/mensajes?caso=...).
CASE_MESSAGES_SHOWN = 50
_c = models.cases


@use_case("case.read")
def case_messages(svc: Services, principal: Principal, case_id: int) -> dict:
    """The case page's messaging block: `links` (linked cases within the reader's reach, with the procedure's
    name) and `messages` (newest first, each with `direction`: "recibido" or "enviado", and the other case's
    number where the reader may see it)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        check_case_visible(conn, principal, case_id)
        links = messaging.linked_cases(conn, case_id)
        rows = messaging.messages_of_case(conn, case_id)[::-1][:CASE_MESSAGES_SHOWN]
        others = {link["case_id"] for link in links} | {
            r[k] for r in rows for k in ("source_case_id", "target_case_id") if r[k] not in (None, case_id)}
        numbers = _reachable_numbers(conn, principal, others)
        names = process_names(conn) if links else {}
        shown = [{**link, "process_name": names.get(link["process_key"], link["process_key"])}
                 for link in links if link["case_id"] in numbers]
        return {"links": shown, "messages": [_message_row(r, case_id, numbers) for r in rows]}


def _reachable_numbers(conn, principal: Principal, case_ids: set[int]) -> dict[int, str]:
    """id -> number of those of `case_ids` the principal may see."""
    if not case_ids:
        return {}
    query = select(_c.c.id, _c.c.number).where(_c.c.id.in_(sorted(case_ids)))
    condition = case_filter(principal)
    return dict(conn.execute(query if condition is None else query.where(condition)).all())


def _message_row(row: dict, case_id: int, numbers: dict[int, str]) -> dict:
    """A message as the page lists it: the other case's id and number only when the reader may see it."""
    received = row["target_case_id"] == case_id
    other = row["source_case_id"] if received else row["target_case_id"]
    return {"id": row["id"], "kind": row["kind"], "name": row["name"], "state": row["state"],
            "reason": row["reason"], "source": row["source"], "created_by": row["created_by"],
            "created_at": row["created_at"], "correlation": row["correlation"],
            "direction": "recibido" if received else "enviado",
            "other_case_id": other if other in numbers else None, "other_case_number": numbers.get(other)}
