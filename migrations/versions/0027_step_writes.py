"""reserved for fewer writes per step (issue 18)

Revision ID: 0027_step_writes
Revises: 0026_inbox_search
"""
revision = "0027_step_writes"
down_revision = "0026_inbox_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
