"""Tables. Everything that is queried is a plain indexed column; workflow state is opaque text."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    TypeDecorator, UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# BigInteger autoincrement keys fall back to INTEGER on SQLite (needed for its rowid alias).
Id = BigInteger().with_variant(Integer, "sqlite")

users = Table(
    "users", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("email", String(254)),
    Column("password_hash", String(255)),
    Column("role", String(20), nullable=False),  # clerk | supervisor | auditor | admin
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
)

groups = Table(
    "groups", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", String(200), nullable=False, default=""),
)

user_groups = Table(
    "user_groups", metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

# Which group works a BPMN lane. process_key "*" applies to every process without its own row.
lane_groups = Table(
    "lane_groups", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False, default="*"),
    Column("lane", String(100), nullable=False),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("process_key", "lane", name="uq_lane_groups_process_lane"),
)

process_versions = Table(
    "process_versions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("files_json", Text, nullable=False),  # {file name: XML text} as deployed
    Column("serializer_version", String(40), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64)),
    Column("comment", String(500), nullable=False, default=""),
    UniqueConstraint("process_key", "version", name="uq_process_versions_key_version"),
    Index("ix_process_versions_key_hash", "process_key", "content_hash"),
)

# One row per sequence (e.g. the year) so numbers are gapless: the increment commits or rolls
# back with the case that used it.
case_counters = Table(
    "case_counters", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(60), nullable=False, unique=True),
    Column("tracking_code", String(20), nullable=False, unique=True),
    Column("process_key", String(100), nullable=False),
    Column("process_version_id", ForeignKey("process_versions.id"), nullable=False),
    Column("state", String(20), nullable=False),  # running | completed | error | suspended | cancelled
    Column("version", Integer, nullable=False),   # optimistic lock: bumped by every change
    Column("workflow_json", Text, nullable=False),
    Column("serializer_version", String(40), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("created_by", String(64)),
    Column("error_element", String(200)),
    Column("error_message", Text),
    Column("title", String(300)),
    Column("applicant_name", String(200)),
    Column("applicant_dpi", String(20)),
    Column("municipality", String(100)),
    Index("ix_cases_process_state", "process_key", "state"),
    Index("ix_cases_state_created", "state", "created_at"),
    Index("ix_cases_municipality", "municipality"),
    Index("ix_cases_applicant_dpi", "applicant_dpi"),
)

# Human tasks projected from the workflow in the same transaction; rows stay after completion
# so "who did it" and "who took it first" are answerable without loading workflows.
tasks = Table(
    "tasks", metadata,
    Column("id", String(36), primary_key=True),  # SpiffWorkflow task UUID
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("title", String(300), nullable=False),
    Column("lane", String(100)),
    Column("candidate_group", String(64)),
    Column("form_key", String(100)),
    Column("assignee", String(64)),
    Column("state", String(20), nullable=False),  # ready | completed | cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime),
    Column("due_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("completed_by", String(64)),
    Index("ix_tasks_state_group", "state", "candidate_group"),
    Index("ix_tasks_state_assignee", "state", "assignee"),
    Index("ix_tasks_state_due", "state", "due_at"),
    Index("ix_tasks_case", "case_id"),
)

# Append-only: triggers installed by the migration refuse UPDATE and DELETE.
events = Table(
    "events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("element_id", String(200)),
    Column("task_id", String(36)),
    Column("actor", String(64)),
    Column("data_json", Text),
    Index("ix_events_case", "case_id", "id"),
)


# Waiting timer events projected from the workflows, so the scheduler never loads a case to
# find out whether something is due.
timers = Table(
    "timers", metadata,
    Column("id", String(36), primary_key=True),  # SpiffWorkflow task UUID of the waiting event
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(20), nullable=False),  # waiting | fired | cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_timers_state_due", "state", "due_at"),
    Index("ix_timers_case", "case_id"),
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
