"""Tables that serve the lists at any size (the inbox, the cases list), kept by the database itself: triggers of
migration 0016_inbox_scale fill them from `tasks` and `cases`, whoever writes those. Nothing in Python writes
them. On the metadata of engine/storage/models.py, which re-exports them.

- inbox_items: one row per ready task with the case columns its lists filter and sort on, so every view, filter and
  sort of the inbox reads one index in order (engine/usecases/inbox.py). Nullable sort keys are stored twice with a
  stand-in for NULL, one that sorts last going up (`*_hi`) and one that sorts last going down (`*_lo`).
- case_access: who may see a case by its tasks and its filing ("g:<group>" for a group with a task of the case,
  "u:<username>" for whoever filed it, holds or did one of its tasks): the clerks' case list
  (engine/accounts/permissions.py case_filter) probes it instead of the tasks of every case.
The name search uses a text index over the case number and the applicant's name (engine/usecases/case_search.py):
on SQLite migration 0016's FTS5 table `case_search` over cases; on PostgreSQL migration 0026's `inbox_items.search`,
a stored generated tsvector of every start of every word of applicant_lo and case_number, with a GIN index
(PostgreSQL only, so not declared here; nothing selects it, the search spells it in SQL).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, Index, PrimaryKeyConstraint, String, Table

from engine.storage.models import Id, UtcDateTime, metadata

# The stand-ins for a missing deadline or applicant (the triggers write the same literals).
DUE_HI = datetime(9999, 12, 31, tzinfo=timezone.utc)
DUE_LO = datetime(1900, 1, 1, tzinfo=timezone.utc)
NAME_HI = "\U0010ffff"
NAME_LO = ""

inbox_items = Table(
    "inbox_items", metadata,
    Column("task_id", String(36), primary_key=True),
    Column("case_id", Id, nullable=False),
    Column("candidate_group", String(64)),
    Column("assignee", String(64)),
    Column("element_id", String(200), nullable=False),
    Column("title", String(300), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime),
    Column("due_hi", UtcDateTime, nullable=False),     # due_at, or DUE_HI
    Column("due_lo", UtcDateTime, nullable=False),     # due_at, or DUE_LO
    Column("process_key", String(100), nullable=False),
    Column("case_number", String(60), nullable=False),
    Column("applicant_hi", String(200), nullable=False),  # applicant_name, or NAME_HI
    Column("applicant_lo", String(200), nullable=False),  # applicant_name, or NAME_LO
    Column("municipality", String(100)),
    Column("case_created_at", UtcDateTime, nullable=False),  # the case's filing: the cases list's late ones
    Index("ix_inbox_items_group_due_hi", "candidate_group", "due_hi", "created_at", "task_id"),
    Index("ix_inbox_items_group_due_lo", "candidate_group", "due_lo", "created_at", "task_id"),
    Index("ix_inbox_items_group_created", "candidate_group", "created_at", "task_id"),
    Index("ix_inbox_items_group_number", "candidate_group", "case_number", "created_at", "task_id"),
    Index("ix_inbox_items_group_applicant_hi", "candidate_group", "applicant_hi", "created_at", "task_id"),
    Index("ix_inbox_items_group_applicant_lo", "candidate_group", "applicant_lo", "created_at", "task_id"),
    Index("ix_inbox_items_group_title", "candidate_group", "title", "created_at", "task_id"),
    Index("ix_inbox_items_group_process", "candidate_group", "process_key", "element_id", "due_hi", "created_at",
          "task_id"),
    Index("ix_inbox_items_group_element", "candidate_group", "element_id", "due_hi", "created_at", "task_id"),
    Index("ix_inbox_items_group_municipality", "candidate_group", "municipality", "due_hi", "created_at",
          "task_id"),
    Index("ix_inbox_items_assignee", "assignee", "due_hi", "created_at", "task_id"),
    Index("ix_inbox_items_case", "case_id", "candidate_group", "due_hi", "created_at", "task_id"),
    Index("ix_inbox_items_due", "due_hi", "case_id"),
    Index("ix_inbox_items_case_created", "case_created_at", "case_id", "due_hi"),
)

case_access = Table(
    "case_access", metadata,
    Column("who", String(70), nullable=False),   # "g:<group>" or "u:<username>"
    Column("case_id", Id, nullable=False),
    PrimaryKeyConstraint("who", "case_id"),
    Index("ix_case_access_case", "case_id", "who"),
)

# The cases list sorted by filing or last change, page after page (engine/usecases/cases.py).
from engine.storage.models import cases  # noqa: E402 - defined before models.py imports this module

Index("ix_cases_created", cases.c.created_at, cases.c.id)
Index("ix_cases_updated", cases.c.updated_at, cases.c.id)
Index("ix_cases_municipality_created", cases.c.municipality, cases.c.created_at, cases.c.id)
