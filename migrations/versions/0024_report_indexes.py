"""indexes the reports read (engine/usecases/reports.py): cases and tasks by completion, tasks and legal deadlines by
due moment

Revision ID: 0024_report_indexes
Revises: 0023_draft_decisions

The reports count what was resolved or completed in a period and what fell due in it; without these each would read
every case, task or deadline. Declared on the tables in engine/storage/models.py and models_deadlines.py.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0024_report_indexes"
down_revision = "0023_draft_decisions"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_cases_state_completed": ("cases", ("state", "completed_at")),
    "ix_tasks_state_completed": ("tasks", ("state", "completed_at")),
    "ix_tasks_due": ("tasks", ("due_at",)),
    "ix_legal_deadlines_due": ("legal_deadlines", ("due_at",)),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, list(columns))


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
