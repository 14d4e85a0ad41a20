"""the tasks' (state, group | assignee | due) indexes go: the lists read inbox_items now

Revision ID: 0018_task_state_indexes
Revises: 0017_prune_task_trees

Since 0016_inbox_scale every inbox view, filter and sort reads inbox_items, and the tasks table is read only by its
id or its case (ix_tasks_case). The three indexes led by the state were kept up to date on every step for no
reader: each step moved the task's entry in all three (about 3% of a 5-step case's cost on SQLite).
"""
from alembic import op

revision = "0018_task_state_indexes"
down_revision = "0017_prune_task_trees"
branch_labels = None
depends_on = None

_INDEXES = {"ix_tasks_state_group": ["state", "candidate_group"], "ix_tasks_state_assignee": ["state", "assignee"],
            "ix_tasks_state_due": ["state", "due_at"]}


def upgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="tasks")


def downgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "tasks", columns)
