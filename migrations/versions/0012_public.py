"""public pages: the citizen's e-mail on the case, rate-limit windows, online filings waiting for confirmation

Revision ID: 0012_public
Revises: 0011_issued_documents
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_public"
down_revision = "0011_issued_documents"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("citizen_email", sa.String(length=254), nullable=True))
    op.create_table(
        "rate_limits",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_hash", "window_start", name=op.f("pk_rate_limits")),
    )
    op.create_index("ix_rate_limits_window_start", "rate_limits", ["window_start"])
    op.create_table(
        "pending_filings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("attachments_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("case_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_pending_filings_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_filings")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_filings_token_hash")),
    )
    op.create_index("ix_pending_filings_expires_at", "pending_filings", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_filings_expires_at", table_name="pending_filings")
    op.drop_table("pending_filings")
    op.drop_index("ix_rate_limits_window_start", table_name="rate_limits")
    op.drop_table("rate_limits")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("citizen_email")
