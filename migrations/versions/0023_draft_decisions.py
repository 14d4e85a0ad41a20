"""decision tables edited in the browser, kept with a process draft: draft_decisions

Revision ID: 0023_draft_decisions
Revises: 0022_draft_forms
"""
from alembic import op
import sqlalchemy as sa

revision = "0023_draft_decisions"
down_revision = "0022_draft_forms"
branch_labels = None
depends_on = None


_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "draft_decisions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("process_key", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_key", "file_name", name="uq_draft_decisions_process_file"),
    )


def downgrade() -> None:
    op.drop_table("draft_decisions")
