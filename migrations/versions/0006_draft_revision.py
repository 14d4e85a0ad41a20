"""draft revision: two supervisors saving one draft never overwrite each other silently

Revision ID: 0006_draft_revision
Revises: 0005_drafts
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_draft_revision"
down_revision = "0005_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_drafts") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("process_drafts") as batch:
        batch.drop_column("revision")
