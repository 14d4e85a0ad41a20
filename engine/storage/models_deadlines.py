"""The legal deadlines of cases as dated rows (engine.usecases.legal_deadlines keeps them; the catalogue of what the
law sets is engine/timekeeping/legal_deadlines.py). On the metadata of engine/storage/models.py, which re-exports
them.

- legal_deadlines: one row per deadline a case runs: its basis, who owns the time (the office's group, the citizen,
  an institution), the start and the counting so a closure day can move it, the due moment, how it ended.
- legal_deadline_alerts: the moments of its alerts and of the escalation when it passes; each sent at most once.
"""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from engine.storage.models import Id, UtcDateTime, metadata

legal_deadlines = Table(
    "legal_deadlines", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(60), nullable=False),           # engine.timekeeping.legal_deadlines.CATALOGUE
    Column("title", String(200), nullable=False),
    Column("basis", Text, nullable=False),
    Column("owner", String(20), nullable=False),          # oficina | ciudadano | institucion
    Column("owner_group", String(64)),                     # the group answering for it (the opening element's lane)
    Column("element_id", String(200)),                     # the element that opened it
    Column("start_at", UtcDateTime, nullable=False),
    Column("days", Integer),                               # None: a deadline fixed by date
    Column("counting", String(20), nullable=False),        # habiles | habiles_corte | calendario
    Column("extension_days", Integer, nullable=False, default=0),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(12), nullable=False),           # open | met | late | used | expired | cancelled
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(200)),                      # the element that closed it
    Column("extended_at", UtcDateTime),
    Column("extended_by", String(64)),
    Column("citizen_told_at", UtcDateTime),                # when the extension was notified to the citizen
    Column("alert_days_json", Text, nullable=False, default="[]"),
    Index("ix_legal_deadlines_case", "case_id", "state"),
    Index("ix_legal_deadlines_state_due", "state", "due_at"),
    Index("ix_legal_deadlines_due", "due_at"),  # the reports: falling due in a period (0024)
)

legal_deadline_alerts = Table(
    "legal_deadline_alerts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("deadline_id", ForeignKey("legal_deadlines.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("point", String(20), nullable=False),           # "dia-20" | "vencido"
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(10), nullable=False),           # pending | sent | cancelled
    Column("sent_at", UtcDateTime),
    UniqueConstraint("deadline_id", "point", name="uq_legal_deadline_alerts_point"),
    Index("ix_legal_deadline_alerts_state_due", "state", "due_at"),
)
