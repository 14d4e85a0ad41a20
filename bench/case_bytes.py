"""Bytes a finished licence case takes in PostgreSQL, table by table.

Runs the licence procedure (processes/licencia.bpmn, the real forms) from filing to the end of the appeal window,
approved with both institutions' opinions, exactly as tests/processes/test_licencia.py walks it, on a fresh
schema; then sums pg_column_size of every row that belongs to the case (the case row, its tasks, events, timers,
messages, documents' records and the rest) — what the case costs in rows, before indexes. The documents the case
issued (seven signed PDF/A files, stored in the database) are shown on their own line and left out of the figure
judged against the target (issue 18: at most 10 KB per finished licence case).
Last line: JSON with bytes per table, total_bytes, case_bytes (without the documents) and target_met.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, inspect, text  # noqa: E402

from tests.conftest import FakeClock  # noqa: E402
from tests.processes.driver import office  # noqa: E402
from tests.processes.licencia_walk import (certificate, closing, dictamen, local, notify, opinion,  # noqa: E402
                                           sign, start, to_opinions)

POSTGRES_URL = os.environ.get("EXPEDIENTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_BYTES = 10 * 1024
MINUTE = local(2026, 1, 1, 0, 1) - local(2026, 1, 1, 0, 0)


def walk_licence(svc):
    """The approved licence with both opinions in time, to the end of its appeal window (completed)."""
    walk = start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9))
    to_opinions(walk)
    svc.clock.now = local(2026, 4, 6, 11)
    opinion(walk, "pnc")
    opinion(walk, "coordinador", sentido="favorable_con_recomendaciones")
    dictamen(walk, "favorable")
    sign(walk, "favorable")
    svc.clock.now = local(2026, 6, 26, 11)
    notify(walk, local(2026, 6, 26, 10))
    certificate(walk)
    walk.at(closing(date(2026, 7, 6)) + MINUTE)
    assert walk.state == "completed", walk.state
    return walk.id


def bytes_by_table(conn, case_id: int) -> dict[str, int]:
    """pg_column_size of the rows of every table that refers to the case (by case_id, or the case row itself)."""
    sizes = {"cases": conn.execute(text("SELECT pg_column_size(c.*) FROM cases c WHERE id = :id"),
                                   {"id": case_id}).scalar_one()}
    inspector = inspect(conn)
    for table in inspector.get_table_names():
        columns = {c["name"] for c in inspector.get_columns(table)}
        for column in ("case_id", "target_case_id"):
            if column in columns and table != "cases":
                size = conn.execute(text(f'SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM "{table}" t '
                                         f'WHERE t."{column}" = :id'), {"id": case_id}).scalar_one()
                if size:
                    sizes[table] = sizes.get(table, 0) + int(size)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3, help="licence cases walked (the figure is their mean)")
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        from engine.config import Settings
        from engine.storage.db import make_engine
        from engine.storage.migrate import upgrade
        engine = make_engine(Settings(database_url=url))
        upgrade(engine)
        engine.dispose()
        svc = office(url, FakeClock())
        ids = [walk_licence(svc) for _ in range(args.cases)]
        with svc.db.connect() as conn:
            per_case = [bytes_by_table(conn, case_id) for case_id in ids]
        svc.db.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    tables = sorted({t for sizes in per_case for t in sizes})
    mean = {t: round(sum(s.get(t, 0) for s in per_case) / len(per_case)) for t in tables}
    total = sum(mean.values())
    case_bytes = total - mean.get("documents", 0)
    print(f"finished licence case (approved, both opinions, appeal window closed), mean of {len(ids)}; PostgreSQL "
          f"rows (pg_column_size), before indexes")
    for table in sorted(mean, key=mean.get, reverse=True):
        print(f"{table:<28}{mean[table]:>10,}")
    met = case_bytes <= TARGET_BYTES
    print(f"{'total':<28}{total:>10,}")
    print(f"{'without the documents':<28}{case_bytes:>10,}  target ≤ {TARGET_BYTES:,}: {'met' if met else 'MISSED'}")
    print(json.dumps({"bytes": mean, "total_bytes": total, "case_bytes": case_bytes, "target_bytes": TARGET_BYTES,
                      "target_met": met}))


if __name__ == "__main__":
    main()
