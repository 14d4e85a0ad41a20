"""tamper evidence: events chained and numbered (global and per case), chain heads, signed checkpoints, verification
runs, and the access log; existing events are sealed in id order

Revision ID: 0013_audit
Revises: 0012_public
"""
import hashlib

from alembic import op
import orjson
import sqlalchemy as sa

revision = "0013_audit"
down_revision = "0012_public"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ZERO = "0" * 64
# Tables the database itself keeps append-only, refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL).
APPEND_ONLY = ("events", "audit_checkpoints", "audit_verifications", "access_log")


def upgrade() -> None:
    _drop_guard("events")
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("case_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("leaf_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("case_chain", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("changes_json", sa.Text(), nullable=True))
    op.create_table(
        "audit_heads",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_heads")),
    )
    seq, chain = _seal_existing()
    op.bulk_insert(sa.table("audit_heads", sa.column("name"), sa.column("seq"), sa.column("chain")),
                   [{"name": "events", "seq": seq, "chain": chain}, {"name": "access", "seq": 0, "chain": _ZERO}])
    op.create_index("uq_events_seq", "events", ["seq"], unique=True)
    op.create_index("uq_events_case_seq", "events", ["case_id", "case_seq"], unique=True)
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_actor_at", "events", ["actor", "at"])
    op.create_index("ix_events_kind_at", "events", ["kind", "at"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index("ix_audit_checkpoints_tree_size", "audit_checkpoints", ["tree_size"])
    op.create_table(
        "audit_verifications",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("checkpoints", sa.Integer(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("run_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verifications")),
    )
    op.create_table(
        "access_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("detail_json", sa.Text(), nullable=True),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_access_log_seq")),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_index("ix_access_log_actor_at", "access_log", ["actor", "at"])
    for table in APPEND_ONLY:
        install_guard(table)


def _seal_existing() -> tuple[int, str]:
    """Number and hash the events already stored, in id order, as engine.audit.chain seals new ones (the formulas
    are repeated here so this migration keeps meaning what it meant when the code moves on)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, case_id, at, kind, element_id, task_id, actor, data_json FROM events "
                                "ORDER BY id")).all()
    chain, cases, updates = bytes(32), {}, []
    for seq, row in enumerate(rows, start=1):
        stamp = _stamp(row.at)
        case_seq, case_chain = cases.get(row.case_id, (0, bytes(32)))
        case_seq += 1
        entry = orjson.dumps([1, seq, row.case_id, case_seq, stamp, row.kind, row.element_id, row.task_id,
                              row.actor, row.data_json, None])
        leaf = hashlib.sha256(b"\x00" + entry).digest()
        case_chain = hashlib.sha256(b"case" + case_chain + leaf).digest()
        chain = hashlib.sha256(b"log" + chain + leaf).digest()
        cases[row.case_id] = (case_seq, case_chain)
        updates.append({"b_id": row.id, "seq": seq, "case_seq": case_seq, "leaf_hash": leaf.hex(),
                        "case_chain": case_chain.hex(), "chain": chain.hex()})
    if updates:
        bind.execute(sa.text("UPDATE events SET seq = :seq, case_seq = :case_seq, leaf_hash = :leaf_hash, "
                             "case_chain = :case_chain, chain = :chain WHERE id = :b_id"), updates)
    return len(rows), chain.hex()


def _stamp(at) -> str:
    """The stored UTC moment as canonical text (SQLite hands back text, PostgreSQL a naive datetime)."""
    if isinstance(at, str):
        from datetime import datetime
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def install_guard(table: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END")
    elif bind.dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{table} are append-only'; END $$")
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def _drop_guard(table: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_guard(table)
    op.drop_table("access_log")
    op.drop_table("audit_verifications")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_heads")
    for name in ("ix_events_kind_at", "ix_events_actor_at", "ix_events_at", "uq_events_case_seq", "uq_events_seq"):
        op.drop_index(name, table_name="events")
    with op.batch_alter_table("events") as batch:
        for column in ("changes_json", "chain", "case_chain", "leaf_hash", "case_seq", "seq"):
            batch.drop_column(column)
    install_guard("events")
