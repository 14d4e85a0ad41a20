"""running cases moved to another version of their procedure (reserved; filled by the migration work)

Revision ID: 0021_case_migrations
Revises: 0020_legal_deadlines
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0021_case_migrations"
down_revision = "0020_legal_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
