"""What a clerk types in a list's search box, as a condition on inbox_items: exact case number, tracking code or DPI
by their unique or plain indexes, and words of the applicant's name or of the case number by a text index,
Spanish accents and ñ folded ("Lopez" finds "López"), each word a prefix ("Jos" finds "José").

The text index: on SQLite, migration 0016_inbox_scale's FTS5 table `case_search` over cases (the ids of the cases
found, each word a prefix query); on PostgreSQL, migration 0026_inbox_search's `inbox_items.search`, a stored
tsvector of the same folded text holding every start of every word, with a GIN index: each typed word is asked for
as a whole lexeme ("jos" is one of José's), which finds what the prefix "jos:*" would, and the inbox reads one table
(its queue's index in order filtered on each row's document for a common name, the text index then a sort for a
rare one: the planner knows each lexeme's frequency).
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import false, literal_column, or_, select, text, union

from engine.storage import models

_c = models.cases.alias("searched")  # never correlated with a list's own cases
_i = models.inbox_items
MAX_WORDS = 8


def words(q: str) -> list[str]:
    """The search's words, lower case, without accents: "José López-Pérez" -> ["jose", "lopez", "perez"]."""
    folded = unicodedata.normalize("NFKD", q.lower())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+", plain)[:MAX_WORDS]


def matching_items(conn, q: str):
    """A condition on inbox_items: the rows of the cases whose number, tracking code or DPI `q` is (looked up
    first, by unique or plain indexes), else of those with every word of it (the text index)."""
    typed = q.strip()
    exact = union(*[s.correlate(None) for s in (
        select(_c.c.id).where(_c.c.number == typed), select(_c.c.id).where(_c.c.tracking_code == typed.upper()),
        select(_c.c.id).where(_c.c.applicant_dpi == typed.replace(" ", "")))])
    found = conn.execute(exact).scalars().all()
    if found:
        return _i.c.case_id.in_(found)
    typed_words = words(typed)
    return _by_words(conn.dialect.name, typed_words) if typed_words else false()


def _by_words(dialect: str, found: list[str]):
    if dialect == "sqlite":
        query = " ".join(f'"{w}"*' for w in found)
        return _i.c.case_id.in_(select(literal_column("rowid").label("id")).select_from(text("case_search")).where(
            text("case_search MATCH :b_words").bindparams(b_words=query)).correlate(None))
    if dialect == "postgresql":
        query = " & ".join(found)  # whole lexemes: the document holds each word's starts
        return text("inbox_items.search @@ to_tsquery('simple', :b_words)").bindparams(b_words=query)
    # Another database: no text index; a scan, as before.
    return _i.c.case_id.in_(select(_c.c.id).where(or_(*[_c.c.applicant_name.ilike(f"%{w}%") for w in found]))
                            .correlate(None))
