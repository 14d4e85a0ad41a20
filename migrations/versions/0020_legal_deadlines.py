"""legal deadlines as dated rows: legal_deadlines (basis, owner, start, counting, due, outcome) and their alerts

Revision ID: 0020_legal_deadlines
Revises: 0019_admin_log

Running cases get their rows as their diagrams' marked elements complete from now on (no row is invented for a
deadline already running: its start is in the case's data only if the diagram kept it).
"""
from alembic import op
import sqlalchemy as sa

revision = "0020_legal_deadlines"
down_revision = "0019_admin_log"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "legal_deadlines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(20), nullable=False),
        sa.Column("owner_group", sa.String(64)),
        sa.Column("element_id", sa.String(200)),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("days", sa.Integer()),
        sa.Column("counting", sa.String(20), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime()),
        sa.Column("closed_by", sa.String(200)),
        sa.Column("extended_at", sa.DateTime()),
        sa.Column("extended_by", sa.String(64)),
        sa.Column("citizen_told_at", sa.DateTime()),
        sa.Column("alert_days_json", sa.Text(), nullable=False, server_default="[]"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legal_deadlines_case", "legal_deadlines", ["case_id", "state"])
    op.create_index("ix_legal_deadlines_state_due", "legal_deadlines", ["state", "due_at"])
    op.create_table(
        "legal_deadline_alerts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("deadline_id", _ID, sa.ForeignKey("legal_deadlines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_id", _ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("point", sa.String(20), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deadline_id", "point", name="uq_legal_deadline_alerts_point"),
    )
    op.create_index("ix_legal_deadline_alerts_state_due", "legal_deadline_alerts", ["state", "due_at"])


def downgrade() -> None:
    op.drop_table("legal_deadline_alerts")
    op.drop_table("legal_deadlines")
