"""`audit verify`'s check of the append-only guards: the triggers the migrations installed on the tables of the
record (events, checkpoints, verifications, the access and administration logs), still there and still refusing."""
from __future__ import annotations

from engine.messages import msg

APPEND_ONLY = ("events", "audit_checkpoints", "audit_verifications", "access_log", "admin_log")


def check_triggers(conn, problems) -> None:
    """The append-only guards the migration installed, still there and still refusing."""
    if conn.dialect.name == "sqlite":
        found = {name: "RAISE(ABORT" in (sql or "") for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
        expected = [f"{t}_no_{a}" for t in APPEND_ONLY for a in ("update", "delete")]
    else:
        found = {name: enabled != "D" and "RAISE EXCEPTION" in (source or "") for name, enabled, source in
                 conn.exec_driver_sql(
                     "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                     "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal "
                     "AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())")}
        expected = [f"{t}_{suffix}" for t in APPEND_ONLY for suffix in ("append_only", "no_truncate")]
    for name in expected:
        if name not in found:
            problems.add("trigger", msg("falta el disparador %(name)s: se quitó la protección de solo-anexar de "
                                        "la tabla %(table)s", name=name, table=name.rsplit("_no_", 1)[0]
                                        .removesuffix("_append_only")))
        elif not found[name]:
            problems.add("trigger", msg("el disparador %(name)s fue desactivado o ya no rechaza cambios",
                                        name=name))
