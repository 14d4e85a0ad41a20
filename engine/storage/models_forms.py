"""Forms edited in the browser within a process draft (engine.usecases.draft_forms keeps them). On the metadata of
engine/storage/models.py, which re-exports them.

- draft_forms: one row per form a supervisor changed in a process's draft: the JSON Schema as saved, who and when,
  and a revision that grows on every save (a save built on an older revision is refused, not lost). Publishing the
  draft pins these schemas into the new version's forms_json; discarding or publishing the draft deletes them.
"""
from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text, UniqueConstraint

from engine.storage.models import Id, UtcDateTime, metadata

draft_forms = Table(
    "draft_forms", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False),   # the draft's process (process_drafts.process_key)
    Column("form_key", String(100), nullable=False),
    Column("schema_json", Text, nullable=False),
    Column("updated_by", String(64)),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("revision", Integer, nullable=False, server_default="1"),  # +1 on every save: lost updates are refused
    UniqueConstraint("process_key", "form_key", name="uq_draft_forms_process_form"),
)
