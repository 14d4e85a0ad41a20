"""What the reports read besides cases, tasks and deadlines (migration 0025). On the metadata of
engine/storage/models.py, which re-exports them.

- element_visits: one row per element a case passed (every BPMN element: tasks, gateways, events, script tasks),
  written in the step that completed it (engine.storage.visits): when it started (its previous element ended),
  when it ended, and the element before it (the flow taken). The heat map's source.
- case_facts: designated values of a case's data (engine.storage.visits.FACT_KEYS, e.g. the LAIP resolution's
  outcome), written when the task that set them completes, so a report never loads a workflow.
- report_mailings: one row per report mailed for a period; its uniqueness is what lets two schedulers race and
  mail once.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from engine.storage.models import Id, UtcDateTime, metadata

element_visits = Table(
    "element_visits", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("process_version_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("previous_element_id", String(200)),          # None: the first element, or not known (backfilled rows)
    Column("started_at", UtcDateTime),                     # None: not known (the previous element's end was lost)
    Column("ended_at", UtcDateTime, nullable=False),
    Index("ix_element_visits_version_ended", "process_version_id", "ended_at"),
    Index("ix_element_visits_case_element", "case_id", "element_id"),
)

case_facts = Table(
    "case_facts", metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(60), primary_key=True),
    Column("value", String(200)),
    Column("element_id", String(200)),                     # the element whose completion set it
    Column("at", UtcDateTime, nullable=False),
    Index("ix_case_facts_key_value", "key", "value"),
)

report_mailings = Table(
    "report_mailings", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("report", String(40), nullable=False),          # e.g. "mensual"
    Column("period", String(20), nullable=False),          # e.g. "2026-11"
    Column("sent_at", UtcDateTime, nullable=False),
    Column("recipients", String(500), nullable=False, default=""),
    UniqueConstraint("report", "period", name="uq_report_mailings_period"),
)
