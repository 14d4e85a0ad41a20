"""forms edited in the browser, kept with a process draft (reserved)

Revision ID: 0022_draft_forms
Revises: 0021_case_migrations
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0022_draft_forms"
down_revision = "0021_case_migrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
