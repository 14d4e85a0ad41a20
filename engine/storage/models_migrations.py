"""Running cases moved to another version of their procedure (engine/usecases/case_migration*.py). On the metadata of
engine/storage/models.py, which re-exports them.

- case_migrations: one row per migration a supervisor plans: of which procedure, from which version to which, the
  mapping of waiting elements and the filters used, its state (planned, applying, applied, undone) and its counts.
- case_migration_items: one row per case it chose: planned, migrated, refused (with the problem), skipped (the case
  changed after the plan) or undone; the case's state before (workflow text, version row, case version) for undo,
  and the case version the migration wrote (undo only while the case is still at it).
"""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from engine.storage.models import Id, UtcDateTime, metadata

case_migrations = Table(
    "case_migrations", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False),
    Column("from_version_id", ForeignKey("process_versions.id"), nullable=False),
    Column("to_version_id", ForeignKey("process_versions.id"), nullable=False),
    Column("mapping_json", Text, nullable=False),     # {old element: new element}, automatic and by hand
    Column("filters_json", Text, nullable=False),     # the filters the cases were chosen with
    Column("state", String(12), nullable=False),      # planned | applying | applied | undone
    Column("created_by", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("planned", Integer, nullable=False, default=0),
    Column("migrated", Integer, nullable=False, default=0),
    Column("refused", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("undone", Integer, nullable=False, default=0),
    Index("ix_case_migrations_process", "process_key", "id"),
)

case_migration_items = Table(
    "case_migration_items", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("migration_id", ForeignKey("case_migrations.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(10), nullable=False),      # planned | migrated | refused | skipped | undone
    Column("problem", Text),                          # why refused or skipped (Spanish)
    Column("plan_json", Text),                        # the dry run's answer for the case (closes, opens, data)
    Column("planned_case_version", Integer, nullable=False),  # the version the dry run saw
    Column("before_workflow_json", Text),             # the case as it was, for undo
    Column("before_version_id", ForeignKey("process_versions.id")),
    Column("before_case_version", Integer),
    Column("after_case_version", Integer),            # the version the migration wrote
    Column("done_at", UtcDateTime),
    UniqueConstraint("migration_id", "case_id", name="uq_case_migration_items_case"),
    Index("ix_case_migration_items_state", "migration_id", "state", "id"),
    Index("ix_case_migration_items_case_id", "case_id"),
)
