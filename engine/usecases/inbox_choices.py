"""The inbox filters' choices (procedures, tasks, municipalities) of a view, read without scanning it: for a group's
queue, a loose index scan (a recursive query that jumps from one distinct value to the next in the group's filter
indexes of inbox_items: one probe per value, however many tasks share it); for a user's own tasks, which are few,
a plain DISTINCT."""
from __future__ import annotations

from sqlalchemy import select, text

from engine.storage import models

_i = models.inbox_items
# Each step: the next element of the same procedure, else the first element of the next procedure (two single-column
# ranges under an equality: every database reads them as index probes, where a row-value range may not be).
_NEXT_PROCESS = ("(SELECT i.process_key FROM inbox_items i WHERE i.candidate_group = :b_group AND i.process_key > pe.p "
                 "ORDER BY i.process_key LIMIT 1)")
_NEXT_IN_PROCESS = ("(SELECT i.element_id FROM inbox_items i WHERE i.candidate_group = :b_group AND i.process_key = pe.p "
                    "AND i.element_id > pe.e ORDER BY i.element_id LIMIT 1)")
_GROUP_TASKS = text(f"""
WITH RECURSIVE pe(p, e) AS (
  SELECT * FROM (SELECT process_key, element_id FROM inbox_items WHERE candidate_group = :b_group
                 ORDER BY process_key, element_id LIMIT 1) AS first_one
  UNION ALL
  SELECT CASE WHEN {_NEXT_IN_PROCESS} IS NULL THEN {_NEXT_PROCESS} ELSE pe.p END,
         coalesce({_NEXT_IN_PROCESS}, (SELECT i.element_id FROM inbox_items i WHERE i.candidate_group = :b_group
                                      AND i.process_key = {_NEXT_PROCESS} ORDER BY i.element_id LIMIT 1))
  FROM pe WHERE pe.p IS NOT NULL
)
SELECT p, e, (SELECT i.title FROM inbox_items i WHERE i.candidate_group = :b_group AND i.process_key = pe.p
              AND i.element_id = pe.e LIMIT 1) AS title
FROM pe WHERE p IS NOT NULL""")
_GROUP_MUNICIPALITIES = text("""
WITH RECURSIVE m(v) AS (
  SELECT * FROM (SELECT municipality FROM inbox_items WHERE candidate_group = :b_group AND municipality IS NOT NULL
                 ORDER BY municipality LIMIT 1) AS first_one
  UNION ALL
  SELECT (SELECT i.municipality FROM inbox_items i WHERE i.candidate_group = :b_group AND i.municipality > m.v
          ORDER BY i.municipality LIMIT 1)
  FROM m WHERE m.v IS NOT NULL
)
SELECT v FROM m WHERE v IS NOT NULL""")


def choices_of(conn, *, user: str | None, groups: list[str]) -> dict:
    """Distinct procedures, (task element, title) and municipalities of the ready tasks `user` holds (when
    given), or of the queues of `groups`."""
    tasks, municipalities = set(), set()
    if user is not None:
        rows = conn.execute(select(_i.c.process_key, _i.c.element_id, _i.c.title, _i.c.municipality)
                            .where(_i.c.assignee == user).distinct()).all()
        tasks.update((r.process_key, r.element_id, r.title) for r in rows)
        municipalities.update(r.municipality for r in rows if r.municipality)
    for group in groups:
        tasks.update(tuple(r) for r in conn.execute(_GROUP_TASKS, {"b_group": group}))
        municipalities.update(r.v for r in conn.execute(_GROUP_MUNICIPALITIES, {"b_group": group}))
    return {"process_keys": sorted({p for p, _, _ in tasks}),
            "tasks": sorted({(e, t) for _, e, t in tasks}, key=lambda t: t[1]),
            "municipalities": sorted(municipalities)}
