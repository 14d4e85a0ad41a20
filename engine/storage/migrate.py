"""Run Alembic migrations from code (the CLI and the tests use this)."""
from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.config import Config
from sqlalchemy import Engine, text

from engine.config import PROJECT_ROOT


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The migration heads this code needs (read from migrations/ once per process)."""
    from alembic.script import ScriptDirectory
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database at `engine` up to `revision` (all heads: features add independent branches)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        before = set(MigrationContext.configure(conn).get_current_heads())
        command.upgrade(cfg, revision)
        migrated = set(MigrationContext.configure(conn).get_current_heads()) != before
    if migrated:  # a start-up that applies nothing leaves the tables as they are
        vacuum_rewritten(engine)


# A table a migration rewrote (a stored generated column added, 0026_inbox_search) has an empty visibility map: every
# index-only scan of the lists then fetches heap rows (a late-cases page went from 6 to 300 ms at a million cases),
# and autovacuum is not drawn by a rewrite. VACUUM cannot run inside the migrations' transaction, so it runs after.
_REWRITTEN = text("SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
                  "AND c.relkind = 'r' AND c.relpages > 1000 AND c.relallvisible < c.relpages / 2")


def vacuum_rewritten(engine: Engine) -> None:
    """PostgreSQL: VACUUM ANALYZE the schema's larger tables whose visibility map is mostly empty (none in a new
    database, nor usually in a running one)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        tables = conn.execute(_REWRITTEN).scalars().all()
    if not tables:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
