"""forms edited in the browser, kept with a process draft: draft_forms

Revision ID: 0022_draft_forms
Revises: 0021_case_migrations
"""
from alembic import op
import sqlalchemy as sa

revision = "0022_draft_forms"
down_revision = "0021_case_migrations"
branch_labels = None
depends_on = None


_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "draft_forms",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("process_key", sa.String(100), nullable=False),
        sa.Column("form_key", sa.String(100), nullable=False),
        sa.Column("schema_json", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_key", "form_key", name="uq_draft_forms_process_form"),
    )


def downgrade() -> None:
    op.drop_table("draft_forms")
