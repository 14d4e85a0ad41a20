"""the name search at a million cases (issue 18): PostgreSQL's text index moves onto inbox_items, with every start
of every word in it

Revision ID: 0026_inbox_search
Revises: 0025_element_visits

PostgreSQL: inbox_items gains `search`, a stored generated tsvector of the text migration 0016 indexed on cases
(the applicant's name and the case number, lower case, Spanish accents and ñ folded, - / . as spaces), spelled over
the case columns inbox_items already copies (applicant_lo is coalesce(applicant_name, ''), case_number is number),
holding each start of each word ("lopez" as l, lo, lop, lope, lopez), with a GIN index. The search then asks for
whole lexemes ("lope" is one of them for every López) where it asked for prefixes ("lope:*"): the same rows, but
GIN reads a prefix by gathering every matching entry's postings into a bitmap (about 30 ms for a tenth of a
million rows), a lexeme by walking its posting list, skipping in step with the other words'; and the planner knows
how common a lexeme is (ANALYZE's most common elements), which it never knew of a prefix (a flat 2%), so it walks the
queue's index in the list's order for a common name and reads the text index then sorts for a rare one. One table:
no join with every case that has the word.

The column is computed by PostgreSQL itself (inbox_search_document, immutable), so it follows the triggers that keep
applicant_lo and case_number, and the rows already stored get it as it is added (the table is rewritten: 75 s at a
million rows, with the VACUUM that engine/storage/migrate.py runs after it to restore the visibility map the lists'
index-only scans need). The GIN index on cases served only that search and is dropped.

SQLite is unchanged: its FTS5 table `case_search` over cases stays (prefix queries are what FTS5 is built for; its
target is 100,000 cases, which it meets).
"""
from alembic import op

revision = "0026_inbox_search"
down_revision = "0025_element_visits"
branch_labels = None
depends_on = None

# The words of a text as 0016's PG_SEARCH_VECTOR found them, each with all its starts (array_to_tsvector drops the
# repeated ones; a DISTINCT here cost 14 of the 34 µs a row).
_DOCUMENT_FUNCTION = """CREATE FUNCTION inbox_search_document(words text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_to_tsvector(ARRAY(
    SELECT left(w, n)
    FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
                translate(lower(words), 'ÁÉÍÓÚÜÑáéíóúüñ-/.', 'aeiouunaeiouun   ')))) AS w,
         generate_series(1, length(w)) AS n))
$$"""
# Migration 0016's index on cases, put back by the downgrade.
_CASES_SEARCH_VECTOR = ("to_tsvector('simple'::regconfig, translate(lower(coalesce(applicant_name, '') || ' ' || "
                        "number), 'ÁÉÍÓÚÜÑáéíóúüñ-/.', 'aeiouunaeiouun   '))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_DOCUMENT_FUNCTION)
    op.execute("ALTER TABLE inbox_items ADD COLUMN search tsvector GENERATED ALWAYS AS "
               "(inbox_search_document(applicant_lo::text || ' ' || case_number::text)) STORED")
    op.execute("CREATE INDEX ix_inbox_items_search ON inbox_items USING gin (search)")
    op.execute("DROP INDEX IF EXISTS ix_cases_search")
    # The planner's figures for the new column, before the first search: how common each lexeme is. Ten times the
    # default sample, so that the least common lexeme it lists is rare (0.1% at a million rows, not 1%): a lexeme
    # not listed (a rare surname, a number, a word in no case) is then known to be rare, and the search reads the
    # text index instead of walking the whole queue for it (2 s for a word in no case at a million).
    op.execute("ALTER TABLE inbox_items ALTER COLUMN search SET STATISTICS 1000")
    op.execute("ANALYZE inbox_items")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_cases_search ON cases USING gin ({_CASES_SEARCH_VECTOR})")
    op.execute("DROP INDEX IF EXISTS ix_inbox_items_search")
    op.execute("ALTER TABLE inbox_items DROP COLUMN IF EXISTS search")
    op.execute("DROP FUNCTION IF EXISTS inbox_search_document(text)")
