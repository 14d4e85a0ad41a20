"""each element a case passes through, with when it started and ended and the element before it (the heat map's
source); designated facts of a case's data the reports read (case_facts); reports mailed per period
(report_mailings: one row each, so two schedulers mail once)

Revision ID: 0025_element_visits
Revises: 0024_report_indexes

Cases stored before: the visits of their completed human tasks are backfilled from the `tasks` rows (element, when
the task was created and completed; the element before it is not known, so left empty). Gateways, events and
script tasks they passed before this migration are not known and stay absent; their later steps are recorded.
"""
from alembic import op
import sqlalchemy as sa

revision = "0025_element_visits"
down_revision = "0024_report_indexes"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "element_visits",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("process_version_id", _ID, nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("previous_element_id", sa.String(200)),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_element_visits_version_ended", "element_visits", ["process_version_id", "ended_at"])
    op.create_index("ix_element_visits_case_element", "element_visits", ["case_id", "element_id"])
    op.create_table(
        "case_facts",
        sa.Column("case_id", _ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("value", sa.String(200)),
        sa.Column("element_id", sa.String(200)),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "key"),
    )
    op.create_index("ix_case_facts_key_value", "case_facts", ["key", "value"])
    op.create_table(
        "report_mailings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("report", sa.String(40), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("recipients", sa.String(500), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report", "period", name="uq_report_mailings_period"),
    )
    # What is knowable of cases stored before: their completed human tasks.
    op.execute(
        "INSERT INTO element_visits (case_id, process_version_id, element_id, previous_element_id, started_at, "
        "ended_at) SELECT t.case_id, c.process_version_id, t.element_id, NULL, t.created_at, t.completed_at "
        "FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.state = 'completed' AND t.completed_at IS NOT NULL "
        "ORDER BY t.completed_at")


def downgrade() -> None:
    op.drop_table("report_mailings")
    op.drop_index("ix_case_facts_key_value", table_name="case_facts")
    op.drop_table("case_facts")
    op.drop_index("ix_element_visits_case_element", table_name="element_visits")
    op.drop_index("ix_element_visits_version_ended", table_name="element_visits")
    op.drop_table("element_visits")
