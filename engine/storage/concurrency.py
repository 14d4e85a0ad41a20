"""Optimistic concurrency: a row is written only while its version is still the one that was read."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite


def versioned_update(table: Table, **expressions) -> Update:
    """Build an UPDATE of one row of `table` by id that matches only at the version read and adds one to it.

    The columns to write are the keys of the values given to bump_version(s); `expressions` are columns
    written by SQL (they may use bind parameters of their own, passed among the values)."""
    return (update(table).where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
            .values(version=table.c.version + 1, **expressions))


def bump_version(conn, statement: Update, row_id, version: int, values: dict, conflict: Exception) -> int:
    """Write `values` to the row if it is still at `version`; return the new version, else raise `conflict`."""
    bump_versions(conn, statement, [(row_id, version, values)], conflict)
    return version + 1


def bump_versions(conn, statement: Update, rows: Iterable[tuple], conflict: Exception) -> None:
    """Write many (row id, version read, values) in one round trip; raise `conflict` unless every row was
    still at its version (the caller's transaction must then roll back: some rows may have been written)."""
    params = [{"b_id": row_id, "b_version": version, **values} for row_id, version, values in rows]
    if params and conn.execute(statement, params).rowcount != len(params):
        raise conflict


def save_revision(conn, table: Table, keys: dict, revision: int, values: dict, conflict: Exception) -> int:
    """Write the one row of `table` named by `keys` (a draft's form or decision table) that the writer read at
    `revision` (0: there was none): insert it at revision 1, or update it while it is still at `revision`. Return the
    new revision; raise `conflict` when someone saved first (a race for the first save included: the insert does
    nothing on the unique key instead of failing)."""
    if revision == 0:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = (dialect.insert(table).values(**keys, **values, revision=1)
                     .on_conflict_do_nothing(index_elements=list(keys)))
    else:
        statement = (update(table).where(*(table.c[k] == v for k, v in keys.items()), table.c.revision == revision)
                     .values(**values, revision=revision + 1))
    # RETURNING says whether the row was written (a rowcount is not reliable for an insert that may do nothing).
    if conn.execute(statement.returning(table.c.revision)).first() is None:
        raise conflict
    return revision + 1
