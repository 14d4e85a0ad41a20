"""lists at any size: inbox_items and case_access kept by triggers, a text index for the name search, case-list
indexes

Revision ID: 0016_inbox_scale
Revises: 0015_institutions

inbox_items holds one row per ready task with the case columns the inbox filters and sorts on (one index per sort,
read in order); case_access says which groups and users reach a case by its tasks or its filing (the clerks' case
list); the name search reads an FTS5 table (SQLite) or a GIN index over the same normalized text (PostgreSQL). All
are filled here from the rows already stored and kept by triggers on tasks and cases, whoever writes those
(engine/storage/models_lists.py describes them).
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_inbox_scale"
down_revision = "0015_institutions"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SORTED = ("created_at", "task_id")
_INBOX_INDEXES = {
    "ix_inbox_items_group_due_hi": ("candidate_group", "due_hi", *_SORTED),
    "ix_inbox_items_group_due_lo": ("candidate_group", "due_lo", *_SORTED),
    "ix_inbox_items_group_created": ("candidate_group", *_SORTED),
    "ix_inbox_items_group_number": ("candidate_group", "case_number", *_SORTED),
    "ix_inbox_items_group_applicant_hi": ("candidate_group", "applicant_hi", *_SORTED),
    "ix_inbox_items_group_applicant_lo": ("candidate_group", "applicant_lo", *_SORTED),
    "ix_inbox_items_group_title": ("candidate_group", "title", *_SORTED),
    "ix_inbox_items_group_process": ("candidate_group", "process_key", "element_id", "due_hi", *_SORTED),
    "ix_inbox_items_group_element": ("candidate_group", "element_id", "due_hi", *_SORTED),
    "ix_inbox_items_group_municipality": ("candidate_group", "municipality", "due_hi", *_SORTED),
    "ix_inbox_items_assignee": ("assignee", "due_hi", *_SORTED),
    "ix_inbox_items_case": ("case_id", "candidate_group", "due_hi", *_SORTED),  # a search's cases, index-only
    "ix_inbox_items_due": ("due_hi", "case_id"),
    "ix_inbox_items_case_created": ("case_created_at", "case_id", "due_hi"),
}
# The same text PostgreSQL's search index is built over (engine/usecases/case_search.py PG_SEARCH_VECTOR must stay
# identical, or the planner will not use the index): lower case, Spanish accents and ñ folded, - / . as spaces.
PG_SEARCH_VECTOR = ("to_tsvector('simple'::regconfig, translate(lower(coalesce(applicant_name, '') || ' ' || "
                    "number), 'ÁÉÍÓÚÜÑáéíóúüñ-/.', 'aeiouunaeiouun   '))")
_INBOX_COLUMNS = ("task_id, case_id, candidate_group, assignee, element_id, title, created_at, due_at, due_hi, "
                  "due_lo, process_key, case_number, applicant_hi, applicant_lo, municipality, case_created_at")


def _inbox_values(t: str, dialect: str) -> str:
    """The inbox_items columns of task `t` (a row alias or NEW) joined with its case `c`."""
    if dialect == "sqlite":
        hi, lo, name_hi = "'9999-12-31 00:00:00.000000'", "'1900-01-01 00:00:00.000000'", "char(1114111)"
    else:
        hi, lo, name_hi = "TIMESTAMP '9999-12-31 00:00:00'", "TIMESTAMP '1900-01-01 00:00:00'", "chr(1114111)"
    return (f"{t}.id, {t}.case_id, {t}.candidate_group, {t}.assignee, {t}.element_id, {t}.title, {t}.created_at, "
            f"{t}.due_at, coalesce({t}.due_at, {hi}), coalesce({t}.due_at, {lo}), c.process_key, c.number, "
            f"coalesce(c.applicant_name, {name_hi}), coalesce(c.applicant_name, ''), c.municipality, c.created_at")


def _access_rows(t: str) -> str:
    """The case_access rows a task `t` gives: its group, who holds it, who did it."""
    return " UNION ".join(f"SELECT '{p}' || {t}.{col}, {t}.case_id WHERE {t}.{col} IS NOT NULL"
                          for p, col in (("g:", "candidate_group"), ("u:", "assignee"), ("u:", "completed_by")))


# A who of case `case` that none of its tasks nor its filing gives any longer.
_UNREACHED = ("NOT EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = case_access.case_id AND "
              "('g:' || t.candidate_group = case_access.who OR 'u:' || t.assignee = case_access.who "
              "OR 'u:' || t.completed_by = case_access.who)) AND NOT EXISTS (SELECT 1 FROM cases c WHERE "
              "c.id = case_access.case_id AND 'u:' || c.created_by = case_access.who)")


def _forget_old(old: str = "OLD") -> str:
    return (f"DELETE FROM case_access WHERE case_id = {old}.case_id AND who IN ('g:' || {old}.candidate_group, "
            f"'u:' || {old}.assignee, 'u:' || {old}.completed_by) AND {_UNREACHED}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "inbox_items",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("candidate_group", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("due_hi", sa.DateTime(), nullable=False),
        sa.Column("due_lo", sa.DateTime(), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        sa.Column("case_number", sa.String(length=60), nullable=False),
        sa.Column("applicant_hi", sa.String(length=200), nullable=False),
        sa.Column("applicant_lo", sa.String(length=200), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=True),
        sa.Column("case_created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_inbox_items")),
    )
    op.create_table(
        "case_access",
        sa.Column("who", sa.String(length=70), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("who", "case_id", name=op.f("pk_case_access")),
    )
    # Filled from what is stored before the triggers exist (a migration runs with the application stopped).
    op.execute(f"INSERT INTO inbox_items ({_INBOX_COLUMNS}) SELECT {_inbox_values('t', dialect)} "
               "FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.state = 'ready'")
    op.execute("INSERT INTO case_access (who, case_id) "
               "SELECT 'g:' || candidate_group, case_id FROM tasks WHERE candidate_group IS NOT NULL "
               "UNION SELECT 'u:' || assignee, case_id FROM tasks WHERE assignee IS NOT NULL "
               "UNION SELECT 'u:' || completed_by, case_id FROM tasks WHERE completed_by IS NOT NULL "
               "UNION SELECT 'u:' || created_by, id FROM cases WHERE created_by IS NOT NULL")
    for name, columns in _INBOX_INDEXES.items():
        op.create_index(name, "inbox_items", list(columns))
    op.create_index("ix_case_access_case", "case_access", ["case_id", "who"])
    op.create_index("ix_cases_created", "cases", ["created_at", "id"])
    op.create_index("ix_cases_updated", "cases", ["updated_at", "id"])
    op.create_index("ix_cases_municipality_created", "cases", ["municipality", "created_at", "id"])
    if dialect == "sqlite":
        _sqlite_triggers()
    elif dialect == "postgresql":
        _postgresql_triggers()


def _sqlite_triggers() -> None:
    new_item = f"INSERT OR REPLACE INTO inbox_items ({_INBOX_COLUMNS}) SELECT {_inbox_values('NEW', 'sqlite')} " \
               "FROM cases c WHERE c.id = NEW.case_id"
    give = f"INSERT OR IGNORE INTO case_access (who, case_id) {_access_rows('NEW')}"
    op.execute(f"CREATE TRIGGER tasks_lists_insert AFTER INSERT ON tasks BEGIN "
               f"{give}; {new_item} AND NEW.state = 'ready'; END")
    op.execute("CREATE TRIGGER tasks_lists_unready AFTER UPDATE OF state ON tasks "
               "WHEN NEW.state <> 'ready' AND OLD.state = 'ready' BEGIN "
               "DELETE FROM inbox_items WHERE task_id = OLD.id; END")
    op.execute(f"CREATE TRIGGER tasks_lists_ready AFTER UPDATE OF state ON tasks "
               f"WHEN NEW.state = 'ready' AND OLD.state <> 'ready' BEGIN {new_item}; END")
    op.execute("CREATE TRIGGER tasks_lists_claim AFTER UPDATE OF assignee ON tasks "
               "WHEN NEW.state = 'ready' AND OLD.state = 'ready' AND NEW.assignee IS NOT OLD.assignee BEGIN "
               "UPDATE inbox_items SET assignee = NEW.assignee WHERE task_id = NEW.id; END")
    op.execute("CREATE TRIGGER tasks_lists_move AFTER UPDATE OF candidate_group, due_at, title, element_id ON tasks "
               "WHEN NEW.state = 'ready' AND OLD.state = 'ready' BEGIN "
               "UPDATE inbox_items SET candidate_group = NEW.candidate_group, element_id = NEW.element_id, "
               "title = NEW.title, due_at = NEW.due_at, "
               "due_hi = coalesce(NEW.due_at, '9999-12-31 00:00:00.000000'), "
               "due_lo = coalesce(NEW.due_at, '1900-01-01 00:00:00.000000') WHERE task_id = NEW.id; END")
    op.execute(f"CREATE TRIGGER tasks_lists_reach AFTER UPDATE OF candidate_group, assignee, completed_by ON tasks "
               f"BEGIN {give}; {_forget_old()}; END")
    op.execute(f"CREATE TRIGGER tasks_lists_delete AFTER DELETE ON tasks BEGIN "
               f"DELETE FROM inbox_items WHERE task_id = OLD.id; {_forget_old()}; END")
    op.execute("CREATE TRIGGER cases_lists_insert AFTER INSERT ON cases WHEN NEW.created_by IS NOT NULL BEGIN "
               "INSERT OR IGNORE INTO case_access (who, case_id) VALUES ('u:' || NEW.created_by, NEW.id); END")
    op.execute("CREATE TRIGGER cases_lists_update AFTER UPDATE OF number, applicant_name, municipality, process_key "
               "ON cases BEGIN UPDATE inbox_items SET case_number = NEW.number, process_key = NEW.process_key, "
               "applicant_hi = coalesce(NEW.applicant_name, char(1114111)), "
               "applicant_lo = coalesce(NEW.applicant_name, ''), municipality = NEW.municipality "
               "WHERE case_id = NEW.id; END")
    op.execute("CREATE TRIGGER cases_lists_delete AFTER DELETE ON cases BEGIN "
               "DELETE FROM inbox_items WHERE case_id = OLD.id; DELETE FROM case_access WHERE case_id = OLD.id; END")
    # The name search: an FTS5 index over the cases' own columns (external content), accents folded.
    op.execute("CREATE VIRTUAL TABLE case_search USING fts5(number, applicant_name, content='cases', "
               "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
    op.execute("INSERT INTO case_search (case_search) VALUES ('rebuild')")
    op.execute("CREATE TRIGGER cases_search_insert AFTER INSERT ON cases BEGIN "
               "INSERT INTO case_search (rowid, number, applicant_name) "
               "VALUES (NEW.id, NEW.number, NEW.applicant_name); END")
    op.execute("CREATE TRIGGER cases_search_delete AFTER DELETE ON cases BEGIN "
               "INSERT INTO case_search (case_search, rowid, number, applicant_name) "
               "VALUES ('delete', OLD.id, OLD.number, OLD.applicant_name); END")
    op.execute("CREATE TRIGGER cases_search_update AFTER UPDATE OF number, applicant_name ON cases BEGIN "
               "INSERT INTO case_search (case_search, rowid, number, applicant_name) "
               "VALUES ('delete', OLD.id, OLD.number, OLD.applicant_name); "
               "INSERT INTO case_search (rowid, number, applicant_name) "
               "VALUES (NEW.id, NEW.number, NEW.applicant_name); END")


def _postgresql_triggers() -> None:
    pg_due = ("due_hi = coalesce(NEW.due_at, TIMESTAMP '9999-12-31 00:00:00'), "
              "due_lo = coalesce(NEW.due_at, TIMESTAMP '1900-01-01 00:00:00')")
    op.execute(f"""CREATE FUNCTION tasks_lists_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM inbox_items WHERE task_id = OLD.id;
    {_forget_old()};
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' OR NEW.candidate_group IS DISTINCT FROM OLD.candidate_group
     OR NEW.assignee IS DISTINCT FROM OLD.assignee OR NEW.completed_by IS DISTINCT FROM OLD.completed_by THEN
    INSERT INTO case_access (who, case_id) {_access_rows('NEW')} ON CONFLICT DO NOTHING;
    IF TG_OP = 'UPDATE' THEN
      {_forget_old()};
    END IF;
  END IF;
  IF NEW.state = 'ready' AND (TG_OP = 'INSERT' OR OLD.state <> 'ready') THEN
    INSERT INTO inbox_items ({_INBOX_COLUMNS}) SELECT {_inbox_values('NEW', 'postgresql')}
      FROM cases c WHERE c.id = NEW.case_id ON CONFLICT (task_id) DO NOTHING;
  ELSIF NEW.state <> 'ready' AND TG_OP = 'UPDATE' AND OLD.state = 'ready' THEN
    DELETE FROM inbox_items WHERE task_id = OLD.id;
  ELSIF NEW.state = 'ready' AND NEW.assignee IS DISTINCT FROM OLD.assignee
        AND (NEW.candidate_group, NEW.due_at, NEW.title, NEW.element_id)
            IS NOT DISTINCT FROM (OLD.candidate_group, OLD.due_at, OLD.title, OLD.element_id) THEN
    UPDATE inbox_items SET assignee = NEW.assignee WHERE task_id = NEW.id;
  ELSIF NEW.state = 'ready' AND (NEW.candidate_group, NEW.assignee, NEW.due_at, NEW.title, NEW.element_id)
        IS DISTINCT FROM (OLD.candidate_group, OLD.assignee, OLD.due_at, OLD.title, OLD.element_id) THEN
    UPDATE inbox_items SET candidate_group = NEW.candidate_group, assignee = NEW.assignee,
      element_id = NEW.element_id, title = NEW.title, due_at = NEW.due_at, {pg_due} WHERE task_id = NEW.id;
  END IF;
  RETURN NULL;
END $$""")
    op.execute("CREATE TRIGGER tasks_lists_sync AFTER INSERT OR UPDATE OR DELETE ON tasks "
               "FOR EACH ROW EXECUTE FUNCTION tasks_lists_sync()")
    op.execute("""CREATE FUNCTION cases_lists_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.created_by IS NOT NULL THEN
      INSERT INTO case_access (who, case_id) VALUES ('u:' || NEW.created_by, NEW.id) ON CONFLICT DO NOTHING;
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    DELETE FROM inbox_items WHERE case_id = OLD.id;
    DELETE FROM case_access WHERE case_id = OLD.id;
  ELSIF (NEW.number, NEW.applicant_name, NEW.municipality, NEW.process_key)
        IS DISTINCT FROM (OLD.number, OLD.applicant_name, OLD.municipality, OLD.process_key) THEN
    UPDATE inbox_items SET case_number = NEW.number, process_key = NEW.process_key,
      applicant_hi = coalesce(NEW.applicant_name, chr(1114111)), applicant_lo = coalesce(NEW.applicant_name, ''),
      municipality = NEW.municipality WHERE case_id = NEW.id;
  END IF;
  RETURN NULL;
END $$""")
    op.execute("CREATE TRIGGER cases_lists_sync AFTER INSERT OR DELETE OR UPDATE OF number, applicant_name, "
               "municipality, process_key ON cases FOR EACH ROW EXECUTE FUNCTION cases_lists_sync()")
    op.execute(f"CREATE INDEX ix_cases_search ON cases USING gin ({PG_SEARCH_VECTOR})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("tasks_lists_insert", "tasks_lists_unready", "tasks_lists_ready", "tasks_lists_claim",
                     "tasks_lists_move", "tasks_lists_reach", "tasks_lists_delete", "cases_lists_insert",
                     "cases_lists_update", "cases_lists_delete", "cases_search_insert", "cases_search_delete",
                     "cases_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tasks_lists_sync ON tasks")
        op.execute("DROP TRIGGER IF EXISTS cases_lists_sync ON cases")
        op.execute("DROP FUNCTION IF EXISTS tasks_lists_sync()")
        op.execute("DROP FUNCTION IF EXISTS cases_lists_sync()")
        op.execute("DROP INDEX IF EXISTS ix_cases_search")
    op.drop_index("ix_cases_municipality_created", table_name="cases")
    op.drop_index("ix_cases_updated", table_name="cases")
    op.drop_index("ix_cases_created", table_name="cases")
    op.drop_table("case_access")
    op.drop_table("inbox_items")
