"""What a clerk types in a list's search box, as the ids of the cases it finds: exact case number, tracking code or
DPI by their unique or plain indexes, and words of the applicant's name or of the case number by a text index,
Spanish accents and ñ folded ("Lopez" finds "López"), each word a prefix ("Jos" finds "José").

The text index is migration 0016_inbox_scale's: the FTS5 table `case_search` on SQLite, a GIN index over
PG_SEARCH_VECTOR on PostgreSQL (the query must spell the same expression, or the planner will not use it).
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import literal_column, or_, select, text, union

from engine.storage import models

_c = models.cases.alias("searched")  # never correlated with a list's own cases
# Identical to migration 0016_inbox_scale's index expression.
PG_SEARCH_VECTOR = ("to_tsvector('simple'::regconfig, translate(lower(coalesce(applicant_name, '') || ' ' || "
                    "number), 'ÁÉÍÓÚÜÑáéíóúüñ-/.', 'aeiouunaeiouun   '))")
MAX_WORDS = 8


def words(q: str) -> list[str]:
    """The search's words, lower case, without accents: "José López-Pérez" -> ["jose", "lopez", "perez"]."""
    folded = unicodedata.normalize("NFKD", q.lower())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+", plain)[:MAX_WORDS]


def matching_cases(conn, q: str):
    """The ids of the cases the search finds: those whose number, tracking code or DPI it is (a list, from unique
    or plain indexes), else a select of those with every word of it (the text index)."""
    typed = q.strip()
    exact = union(*[s.correlate(None) for s in (
        select(_c.c.id).where(_c.c.number == typed), select(_c.c.id).where(_c.c.tracking_code == typed.upper()),
        select(_c.c.id).where(_c.c.applicant_dpi == typed.replace(" ", "")))])
    found = conn.execute(exact).scalars().all()
    if found:
        return found
    typed_words = words(typed)
    return _by_words(conn.dialect.name, typed_words).correlate(None) if typed_words else []


def _by_words(dialect: str, found: list[str]):
    if dialect == "sqlite":
        query = " ".join(f'"{w}"*' for w in found)
        return select(literal_column("rowid").label("id")).select_from(text("case_search")).where(
            text("case_search MATCH :b_words").bindparams(b_words=query))
    if dialect == "postgresql":
        query = " & ".join(f"{w}:*" for w in found)
        return select(_c.c.id).where(text(f"{PG_SEARCH_VECTOR} @@ to_tsquery('simple', :b_words)")
                                     .bindparams(b_words=query))
    # Another database: no text index; a scan, as before.
    return select(_c.c.id).where(or_(*[_c.c.applicant_name.ilike(f"%{w}%") for w in found]))
