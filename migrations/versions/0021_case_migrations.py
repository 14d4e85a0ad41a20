"""running cases moved to another version of their procedure: case_migrations and case_migration_items

Revision ID: 0021_case_migrations
Revises: 0020_legal_deadlines
"""
from alembic import op
import sqlalchemy as sa

revision = "0021_case_migrations"
down_revision = "0020_legal_deadlines"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_migrations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("process_key", sa.String(100), nullable=False),
        sa.Column("from_version_id", _ID, sa.ForeignKey("process_versions.id"), nullable=False),
        sa.Column("to_version_id", _ID, sa.ForeignKey("process_versions.id"), nullable=False),
        sa.Column("mapping_json", sa.Text(), nullable=False),
        sa.Column("filters_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("migrated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("refused", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("skipped", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("undone", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_migrations_process", "case_migrations", ["process_key", "id"])
    op.create_table(
        "case_migration_items",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("migration_id", _ID, sa.ForeignKey("case_migrations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_id", _ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("problem", sa.Text()),
        sa.Column("plan_json", sa.Text()),
        sa.Column("planned_case_version", sa.Integer(), nullable=False),
        sa.Column("before_workflow_json", sa.Text()),
        sa.Column("before_version_id", _ID, sa.ForeignKey("process_versions.id")),
        sa.Column("before_case_version", sa.Integer()),
        sa.Column("after_case_version", sa.Integer()),
        sa.Column("done_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("migration_id", "case_id", name="uq_case_migration_items_case"),
    )
    op.create_index("ix_case_migration_items_state", "case_migration_items", ["migration_id", "state", "id"])
    op.create_index("ix_case_migration_items_case_id", "case_migration_items", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_migration_items_case_id", table_name="case_migration_items")
    op.drop_index("ix_case_migration_items_state", table_name="case_migration_items")
    op.drop_table("case_migration_items")
    op.drop_index("ix_case_migrations_process", table_name="case_migrations")
    op.drop_table("case_migrations")
