"""stored cases keep only the part of their task tree that can still run

Revision ID: 0017_prune_task_trees
Revises: 0016_inbox_scale

Every save now leaves the finished part of a case's task tree out (engine/runtime/pruning.py); this rewrites the
cases stored before, in batches, so a long case is as cheap to load as a short one from its first step after the
upgrade. The case's version is not bumped: its meaning does not change, and a clerk with its form open can still
send it. A text in an older serializer format is left as it is (it is pruned when it next moves).
"""
from alembic import op
import sqlalchemy as sa

revision = "0017_prune_task_trees"
down_revision = "0016_inbox_scale"
branch_labels = None
depends_on = None

BATCH = 200


def upgrade() -> None:
    from engine.runtime.serializer import prune_stored

    conn = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.BigInteger), sa.column("workflow_json", sa.Text))
    last = 0
    while True:
        rows = conn.execute(sa.select(cases.c.id, cases.c.workflow_json).where(cases.c.id > last)
                            .order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed = []
        for case_id, text in rows:
            pruned = prune_stored(text) if text else None
            if pruned is not None:
                changed.append({"b_id": case_id, "b_text": pruned})
        if changed:
            conn.execute(cases.update().where(cases.c.id == sa.bindparam("b_id"))
                         .values(workflow_json=sa.bindparam("b_text")), changed)
        last = rows[-1][0]


def downgrade() -> None:
    pass  # a pruned case loads and runs with the code before this revision too
