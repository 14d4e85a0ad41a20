"""decision tables edited in the browser, kept with a process draft (reserved)

Revision ID: 0023_draft_decisions
Revises: 0022_draft_forms
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0023_draft_decisions"
down_revision = "0022_draft_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
