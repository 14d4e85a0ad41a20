"""institutions that answer by link, and the requests sent to them

Revision ID: 0015_institutions
Revises: 0014_messages
"""
from alembic import op
import sqlalchemy as sa

revision = "0015_institutions"
down_revision = "0014_messages"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("key", name=op.f("uq_institutions_key")),
    )
    op.create_table(
        "institution_requests",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("institution_id", _ID, nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=True),
        sa.Column("message_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("reminder_days_json", sa.Text(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("next_reminder_at", sa.DateTime(), nullable=True),
        sa.Column("escalation_group", sa.String(length=64), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answer_json", sa.Text(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_institution_requests_case_id_cases")),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_institution_requests_institution_id_institutions")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_institution_requests_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_requests")),
        sa.UniqueConstraint("public_id", name=op.f("uq_institution_requests_public_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_institution_requests_token_hash")),
    )
    op.create_index("ix_institution_requests_case_id", "institution_requests", ["case_id"])
    op.create_index("ix_institution_requests_state_next_reminder", "institution_requests",
                    ["state", "next_reminder_at"])
    op.create_index("ix_institution_requests_state_due", "institution_requests", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_institution_requests_state_due", table_name="institution_requests")
    op.drop_index("ix_institution_requests_state_next_reminder", table_name="institution_requests")
    op.drop_index("ix_institution_requests_case_id", table_name="institution_requests")
    op.drop_table("institution_requests")
    op.drop_table("institutions")
