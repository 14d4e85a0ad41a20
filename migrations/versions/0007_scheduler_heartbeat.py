"""scheduler heartbeat: /health tells a monitor whether timers and mail are still being worked

Revision ID: 0007_scheduler_heartbeat
Revises: 0006_draft_revision
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_scheduler_heartbeat"
down_revision = "0006_draft_revision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_heartbeats")
