"""each element a case passes through, with when it started and ended and the element before it (the heat map's
source; reserved)

Revision ID: 0025_element_visits
Revises: 0024_report_indexes
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0025_element_visits"
down_revision = "0024_report_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
