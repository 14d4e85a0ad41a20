"""The administration log: every change an administrator makes to accounts, groups, the lane mapping and closure
days, with who and when (engine/usecases/admin_log.py). Chained like access_log (head "admin" in audit_heads,
canonical.access_entry) and append-only in the database (triggers of migration 0019_admin_log). On the metadata of
engine/storage/models.py, which re-exports it."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from engine.storage.models import Id, UtcDateTime, metadata

admin_log = Table(
    "admin_log", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64)),                     # None: a change made by the system or the CLI without a user
    Column("action", String(40), nullable=False),    # e.g. user.create, group.add_member, closure.add
    Column("target", String(200), nullable=False),   # a username, a group, a lane, a day
    Column("detail_json", Text),
    Column("chain", String(64), nullable=False),
    Index("ix_admin_log_at", "at"),
    Index("ix_admin_log_actor_at", "actor", "at"),
    Index("ix_admin_log_action_at", "action", "at"),
)
