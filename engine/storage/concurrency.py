"""Optimistic concurrency: a row is written only while its version is still the one that was read."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, Update, bindparam, update


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
