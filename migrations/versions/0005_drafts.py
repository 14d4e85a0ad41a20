"""drafts: supervisors' unpublished process diagrams

Revision ID: 0005_drafts
Revises: 0004_operations
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_drafts"
down_revision = "0004_operations"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "process_drafts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_drafts")),
        sa.UniqueConstraint("process_key", name=op.f("uq_process_drafts_process_key")),
    )


def downgrade() -> None:
    op.drop_table("process_drafts")
