"""issued documents: the task's document kind, what a document was filled with, its signers and signature, the
reason of a correction; attachments' page counts; the outbox's attached document; the forms a process version
was deployed with; documents and their counters guarded like the history

Revision ID: 0011_issued_documents
Revises: 0003_api, 0010_documents
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_issued_documents"
down_revision = ("0003_api", "0010_documents")  # merges the two branches: it alters attachments too
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("document_kind", sa.String(length=40), nullable=True))
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("pages", sa.Integer(), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("data_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("signers_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("signature", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("correction_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("process_versions") as batch:
        batch.add_column(sa.Column("forms_json", sa.Text(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_outbox_document_id_documents"), "documents", ["document_id"], ["id"])
    _install_immutability_guard()


# A signed document never changes and is never removed (a correction is a new document): the database refuses
# an UPDATE or DELETE of a documents row, whoever asks, as it does for the history's events.
def _install_immutability_guard() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER documents_no_{action.lower()} BEFORE {action} ON documents "
                       "BEGIN SELECT RAISE(ABORT, 'issued documents never change'); END")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE FUNCTION documents_immutable() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'issued documents never change'; END $$")
        op.execute("CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON documents "
                   "FOR EACH ROW EXECUTE FUNCTION documents_immutable()")
        op.execute("CREATE TRIGGER documents_no_truncate BEFORE TRUNCATE ON documents "
                   "FOR EACH STATEMENT EXECUTE FUNCTION documents_immutable()")


def _drop_immutability_guard() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS documents_no_update")
        op.execute("DROP TRIGGER IF EXISTS documents_no_delete")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS documents_immutable ON documents")
        op.execute("DROP TRIGGER IF EXISTS documents_no_truncate ON documents")
        op.execute("DROP FUNCTION IF EXISTS documents_immutable()")


def downgrade() -> None:
    _drop_immutability_guard()
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("fk_outbox_document_id_documents"), type_="foreignkey")
        batch.drop_column("document_id")
    with op.batch_alter_table("process_versions") as batch:
        batch.drop_column("forms_json")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("correction_reason")
        batch.drop_column("signature")
        batch.drop_column("signers_json")
        batch.drop_column("data_json")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("pages")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("document_kind")
