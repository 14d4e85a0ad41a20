"""reserved for the name search at a million cases (issue 18)

Revision ID: 0026_inbox_search
Revises: 0025_element_visits
"""
revision = "0026_inbox_search"
down_revision = "0025_element_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
