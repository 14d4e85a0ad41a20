"""Task rows read straight from the tasks table, for tests that only look (the engine's reads check who asks)."""
from __future__ import annotations

from sqlalchemy import select

from engine.storage import models

_t, _c = models.tasks, models.cases


def task_rows(svc, case_id: int | None = None, *, state: str = "ready") -> list[dict]:
    """The tasks in `state` of one case (or of every case), oldest first, with their case's number."""
    q = (select(_t, _c.c.number.label("case_number")).join(_c, _c.c.id == _t.c.case_id)
         .where(_t.c.state == state).order_by(_t.c.created_at, _t.c.id))
    if case_id is not None:
        q = q.where(_t.c.case_id == case_id)
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(q).mappings()]
