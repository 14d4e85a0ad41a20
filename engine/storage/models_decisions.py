"""Decision tables (DMN) edited in the browser, kept with a process draft until it is published or discarded
(engine.usecases.decisions). On the metadata of engine/storage/models.py, which re-exports them.

- draft_decisions: one row per DMN file a draft changes (the file's name as deployed, e.g. requisitos_licencia.dmn),
  its XML, who saved it last and when, and a revision that grows on every save (a stale save is refused).
"""
from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text, UniqueConstraint

from engine.storage.models import Id, UtcDateTime, metadata

draft_decisions = Table(
    "draft_decisions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("xml", Text, nullable=False),
    Column("updated_by", String(64)),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("revision", Integer, nullable=False, server_default="1"),
    UniqueConstraint("process_key", "file_name", name="uq_draft_decisions_process_file"),
)
