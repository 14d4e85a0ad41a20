"""operations: outbox mail, office closure days, task deadline alerts

Revision ID: 0004_operations
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_operations"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_outbox_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_case", "outbox", ["case_id"])
    op.create_table(
        "closure_days",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closure_days")),
        sa.UniqueConstraint("day", name=op.f("uq_closure_days_day")),
    )
    op.create_table(
        "deadline_alerts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("point", sa.String(length=20), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_deadline_alerts_task_id_tasks"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_deadline_alerts_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_alerts")),
        sa.UniqueConstraint("task_id", "point", name="uq_deadline_alerts_task_point"),
    )
    op.create_index("ix_deadline_alerts_state_due", "deadline_alerts", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_deadline_alerts_state_due", table_name="deadline_alerts")
    op.drop_table("deadline_alerts")
    op.drop_table("closure_days")
    op.drop_index("ix_outbox_case", table_name="outbox")
    op.drop_index("ix_outbox_status_next", table_name="outbox")
    op.drop_table("outbox")
