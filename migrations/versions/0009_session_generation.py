"""session generation and login failures per typed name: revocable sessions, a lock that names no account

users.session_generation goes up on logout, a password change and a deactivation, ending every browser session
of the account. Failed logins move from users (failed_logins, locked_until) to login_failures, counted per
typed username whether or not the account exists; counts and locks in force at the upgrade are forgotten.

Revision ID: 0009_session_generation
Revises: 0008_idempotency
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_session_generation"
down_revision = "0008_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of users would trip the foreign keys
    # of user_groups and api_tokens.
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")
    op.create_table(
        "login_failures",
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name_key", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_last_failure_at", "login_failures", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_last_failure_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.add_column("users", sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.drop_column("users", "session_generation")
