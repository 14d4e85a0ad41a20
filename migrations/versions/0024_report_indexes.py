"""indexes the reports read (reserved)

Revision ID: 0024_report_indexes
Revises: 0023_draft_decisions
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0024_report_indexes"
down_revision = "0023_draft_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
