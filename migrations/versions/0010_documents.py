"""documents: issued PDFs with their verification code and SHA-256, and gapless numbers per kind and year

Revision ID: 0010_documents
Revises: 0009_session_generation
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_documents"
down_revision = "0009_session_generation"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("verification_code", sa.String(length=19), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("citizen_facing", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_documents_case_id_cases")),
        sa.ForeignKeyConstraint(["corrects_id"], ["documents.id"],
                                name=op.f("fk_documents_corrects_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
        sa.UniqueConstraint("verification_code", name=op.f("uq_documents_verification_code")),
    )
    op.create_index("ix_documents_case_id", "documents", ["case_id"])
    op.create_table(
        "document_counters",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year", name=op.f("pk_document_counters")),
    )


def downgrade() -> None:
    op.drop_table("document_counters")
    op.drop_index("ix_documents_case_id", table_name="documents")
    op.drop_table("documents")
