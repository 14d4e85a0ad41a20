"""messages between cases and from outside, what each case waits for, links between cases

Revision ID: 0014_messages
Revises: 0013_audit
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_messages"
down_revision = "0013_audit"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("correlation_json", sa.Text(), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_case_id", _ID, nullable=True),
        sa.Column("source_element", sa.String(length=200), nullable=True),
        sa.Column("target_case_id", _ID, nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["source_case_id"], ["cases.id"], name=op.f("fk_messages_source_case_id_cases")),
        sa.ForeignKeyConstraint(["target_case_id"], ["cases.id"], name=op.f("fk_messages_target_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_state_name", "messages", ["state", "name"])
    op.create_index("ix_messages_target_case_id", "messages", ["target_case_id"])
    op.create_index("ix_messages_source_case_id", "messages", ["source_case_id"])
    op.create_table(
        "message_waits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("keys_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("message_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_message_waits_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_waits")),
    )
    op.create_index("ix_message_waits_name_state", "message_waits", ["name", "state"])
    op.create_index("ix_message_waits_case_id_state", "message_waits", ["case_id", "state"])
    op.create_table(
        "case_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("from_case_id", _ID, nullable=False),
        sa.Column("to_case_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("message_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["from_case_id"], ["cases.id"], name=op.f("fk_case_links_from_case_id_cases")),
        sa.ForeignKeyConstraint(["to_case_id"], ["cases.id"], name=op.f("fk_case_links_to_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_links")),
        sa.UniqueConstraint("from_case_id", "to_case_id", "kind", "message_name", name="uq_case_links_pair"),
    )
    op.create_index("ix_case_links_to_case_id", "case_links", ["to_case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_links_to_case_id", table_name="case_links")
    op.drop_table("case_links")
    op.drop_index("ix_message_waits_case_id_state", table_name="message_waits")
    op.drop_index("ix_message_waits_name_state", table_name="message_waits")
    op.drop_table("message_waits")
    op.drop_index("ix_messages_source_case_id", table_name="messages")
    op.drop_index("ix_messages_target_case_id", table_name="messages")
    op.drop_index("ix_messages_state_name", table_name="messages")
    op.drop_table("messages")
