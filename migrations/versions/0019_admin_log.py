"""the administration log: who changed which account, group, lane or closure day, and when; chained like the access
log (head "admin" in audit_heads) and append-only

Revision ID: 0019_admin_log
Revises: 0018_task_state_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = "0019_admin_log"
down_revision = "0018_task_state_indexes"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ZERO = "0" * 64
_TABLE = "admin_log"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=True),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_admin_log_seq")),
    )
    op.create_index("ix_admin_log_at", _TABLE, ["at"])
    op.create_index("ix_admin_log_actor_at", _TABLE, ["actor", "at"])
    op.create_index("ix_admin_log_action_at", _TABLE, ["action", "at"])
    op.bulk_insert(sa.table("audit_heads", sa.column("name"), sa.column("seq"), sa.column("chain")),
                   [{"name": "admin", "seq": 0, "chain": _ZERO}])
    _install_guard()


def _install_guard() -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), as 0013_audit guards the access log."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {_TABLE}_no_{action.lower()} BEFORE {action} ON {_TABLE} "
                       f"BEGIN SELECT RAISE(ABORT, '{_TABLE} are append-only'); END")
    elif bind.dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {_TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{_TABLE} are append-only'; END $$")
        op.execute(f"CREATE TRIGGER {_TABLE}_append_only BEFORE UPDATE OR DELETE ON {_TABLE} "
                   f"FOR EACH ROW EXECUTE FUNCTION {_TABLE}_append_only()")
        op.execute(f"CREATE TRIGGER {_TABLE}_no_truncate BEFORE TRUNCATE ON {_TABLE} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {_TABLE}_append_only()")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_delete")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_append_only ON {_TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_truncate ON {_TABLE}")
        op.execute(f"DROP FUNCTION IF EXISTS {_TABLE}_append_only()")
    op.execute("DELETE FROM audit_heads WHERE name = 'admin'")
    op.drop_table(_TABLE)
