"""initial tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 11:26:15.666096
"""
from alembic import op
import sqlalchemy as sa



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_counters',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_case_counters'))
    )
    op.create_table('groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_groups_name'))
    )
    op.create_table('process_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('spec_json', sa.Text(), nullable=False),
    sa.Column('files_json', sa.Text(), nullable=False),
    sa.Column('serializer_version', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_versions')),
    sa.UniqueConstraint('process_key', 'version', name='uq_process_versions_key_version')
    )
    op.create_index('ix_process_versions_key_hash', 'process_versions', ['process_key', 'content_hash'])
    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('tracking_code', sa.String(length=20), nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('process_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('workflow_json', sa.Text(), nullable=False),
    sa.Column('serializer_version', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('error_element', sa.String(length=200), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('applicant_name', sa.String(length=200), nullable=True),
    sa.Column('applicant_dpi', sa.String(length=20), nullable=True),
    sa.Column('municipality', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['process_version_id'], ['process_versions.id'], name=op.f('fk_cases_process_version_id_process_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_cases_tracking_code'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_applicant_dpi', ['applicant_dpi'], unique=False)
        batch_op.create_index('ix_cases_municipality', ['municipality'], unique=False)
        batch_op.create_index('ix_cases_process_state', ['process_key', 'state'], unique=False)
        batch_op.create_index('ix_cases_state_created', ['state', 'created_at'], unique=False)

    op.create_table('lane_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('lane', sa.String(length=100), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_lane_groups_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lane_groups')),
    sa.UniqueConstraint('process_key', 'lane', name='uq_lane_groups_process_lane')
    )
    op.create_table('user_groups',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_user_groups_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_groups_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'group_id', name=op.f('pk_user_groups'))
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=True),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('data_json', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_events_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_case', ['case_id', 'id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('lane', sa.String(length=100), nullable=True),
    sa.Column('candidate_group', sa.String(length=64), nullable=True),
    sa.Column('form_key', sa.String(length=100), nullable=True),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completed_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_tasks_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_case', ['case_id'], unique=False)
        batch_op.create_index('ix_tasks_state_assignee', ['state', 'assignee'], unique=False)
        batch_op.create_index('ix_tasks_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_tasks_state_group', ['state', 'candidate_group'], unique=False)



    _install_append_only_guard()


# The case history is append-only: the database itself refuses to change or remove an event,
# whoever asks (the application, a script, an administrator's ad-hoc SQL).
def _install_append_only_guard() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
                "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'events are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
        )


def _drop_append_only_guard() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")


def downgrade() -> None:
    _drop_append_only_guard()
    op.drop_index('ix_process_versions_key_hash', table_name='process_versions')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_state_group')
        batch_op.drop_index('ix_tasks_state_due')
        batch_op.drop_index('ix_tasks_state_assignee')
        batch_op.drop_index('ix_tasks_case')

    op.drop_table('tasks')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_case')

    op.drop_table('events')
    op.drop_table('user_groups')
    op.drop_table('lane_groups')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_state_created')
        batch_op.drop_index('ix_cases_process_state')
        batch_op.drop_index('ix_cases_municipality')
        batch_op.drop_index('ix_cases_applicant_dpi')

    op.drop_table('cases')
    op.drop_table('users')
    op.drop_table('process_versions')
    op.drop_table('groups')
    op.drop_table('case_counters')
