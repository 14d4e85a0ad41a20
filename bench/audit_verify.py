"""`audit verify` throughput: N sealed events over many cases in a SQLite file (synchronous=FULL), two signed
checkpoints, then one full verification (leaf hashes, both chains, Merkle roots, signatures, access log, triggers).

The rows are written straight into the migrated schema with the hashes engine.integrity.canonical gives, as
engine.storage.chain.seal would have sealed them (building 1,000,000 events through the use cases would take an
hour). Baseline, measured in the same run on the same file: a bare scan of the same columns in the same order
without hashing (what reading alone costs). Target: 1,000,000 events verified in <= 60 s.
Last line: JSON with events, seconds, events_per_second, projected_seconds_per_million, baseline_scan_seconds,
cpu_seconds (the verification's own CPU time) and the load average (other work on the machine slows both).
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from engine.audit import verify as verify_module  # noqa: E402
from engine.audit.checkpoints import create_checkpoint  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.integrity import canonical, keys  # noqa: E402
from engine.services import Services  # noqa: E402
from engine.storage.db import make_engine  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402

TARGET_SECONDS_PER_MILLION = 60.0
EVENTS_PER_CASE = 8
BATCH_ROWS = 20_000
START = datetime(2026, 1, 5, 14, 0, tzinfo=timezone.utc)
KINDS = ("case_started", "task_completed", "task_completed", "timer_fired", "task_completed", "document_issued",
         "task_completed", "case_completed")


def _event(seq: int, case_id: int, case_seq: int) -> tuple:
    """One event's columns, with a realistic amount of submitted data."""
    kind = KINDS[(case_seq - 1) % len(KINDS)]
    at = (START + timedelta(seconds=seq * 3, microseconds=seq % 1_000_000)).strftime("%Y-%m-%d %H:%M:%S.%f")
    task = kind == "task_completed"
    data = orjson.dumps({"monto": 80 + seq % 900, "nombre": "María José Pérez Cúmez", "dpi": "2590 12345 0401",
                         "observaciones": "Revisado conforme al expediente"}).decode() if task else None
    changes = orjson.dumps({"monto": [None, 80 + seq % 900]}).decode() if task else None
    return (seq, case_id, case_seq, at, kind, f"paso_{case_seq}" if task else None,
            f"{seq:08d}-0000-4000-8000-000000000000" if task else None, "oficial1" if task else None, data, changes)


def build(path: Path, events: int) -> None:
    """Migrate, then write the cases and `events` sealed events (cases interleaved, as a busy office's are)."""
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path)  # synchronous=FULL, sqlite3's default, as the application runs it
    conn.execute("PRAGMA journal_mode=WAL")
    cases = max(1, events // EVENTS_PER_CASE)
    stamp = START.strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.executemany(
        "INSERT INTO cases (id, number, tracking_code, process_key, process_version_id, state, version, "
        "workflow_json, serializer_version, created_at, updated_at) VALUES (?, ?, ?, 'bench', 1, 'completed', 1, "
        "'{}', 'bench', ?, ?)",
        ((i, f"EXP-GDCH-2026-{i:07d}", f"T{i:09d}", stamp, stamp) for i in range(1, cases + 1)))
    chain, case_chains, rows = canonical.GENESIS, {}, []
    for seq in range(1, events + 1):
        case_id = (seq - 1) % cases + 1
        case_seq, case_chain = case_chains.get(case_id, (0, canonical.GENESIS))
        columns = _event(seq, case_id, case_seq + 1)
        leaf = canonical.leaf_hash(canonical.entry(*columns[:3], verify_module.stamp_of(columns[3]), *columns[4:]))
        case_chain = canonical.case_link(case_chain, leaf)
        chain = canonical.log_link(chain, leaf)
        case_chains[case_id] = (case_seq + 1, case_chain)
        rows.append(columns + (leaf.hex(), case_chain.hex(), chain.hex()))
        if len(rows) == BATCH_ROWS or seq == events:
            conn.executemany("INSERT INTO events (seq, case_id, case_seq, at, kind, element_id, task_id, actor, "
                             "data_json, changes_json, leaf_hash, case_chain, chain) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.commit()
            rows = []
    conn.execute("UPDATE audit_heads SET seq = ?, chain = ? WHERE name = 'events'", (events, chain.hex()))
    conn.commit()
    conn.close()


def bare_scan(svc) -> float:
    """Seconds to read every event's columns in seq order, as verify does, without hashing anything."""
    started = time.perf_counter()
    with svc.db.connect() as conn, conn.begin():
        count = sum(1 for _ in verify_module._stream(conn, verify_module._EVENTS_SQL))
    assert count > 0
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    args = parser.parse_args()
    events = 100_000 if args.quick else args.events
    with tempfile.TemporaryDirectory(prefix="bench-audit-verify-") as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        build(path, events)
        build_seconds = time.perf_counter() - started
        settings = Settings(database_url=f"sqlite:///{path}", audit_key=str(Path(tmp) / "audit.pem"))
        svc = Services(settings=settings, db=make_engine(settings), clock=lambda: datetime.now(timezone.utc))
        # a checkpoint half-way (checked mid-stream) and one over everything; the tree is built from stored leaves
        with svc.db.begin() as conn:
            conn.exec_driver_sql(f"UPDATE audit_heads SET seq = {events // 2} WHERE name = 'events'")
        half = create_checkpoint(svc, "bench")
        with svc.db.begin() as conn:
            conn.exec_driver_sql(f"UPDATE audit_heads SET seq = {events} WHERE name = 'events'")
        create_checkpoint(svc, "bench")
        assert half["tree_size"] == events // 2
        public = keys.office_key(settings).public_key()
        baseline = bare_scan(svc)
        cpu_started = time.process_time()
        report = verify_module.verify(svc, public)
        cpu_seconds = time.process_time() - cpu_started
        svc.db.dispose()
    if not report.ok:
        raise SystemExit(f"the benchmark's history does not verify: {report.first_problem}")
    per_second = report.events / report.duration_seconds
    projected = 1_000_000 / per_second
    print(f"built {events:,} events in {build_seconds:.1f} s")
    print(f"baseline, bare scan of the same rows: {baseline:.2f} s ({events / baseline:,.0f} rows/s)")
    print(f"verify: {report.events:,} events, {report.cases:,} cases, {report.checkpoints} checkpoints in "
          f"{report.duration_seconds:.2f} s = {per_second:,.0f} events/s "
          f"({report.duration_seconds / baseline:.1f}x the bare scan); {cpu_seconds:.1f} s of CPU "
          f"({cpu_seconds / report.events * 1e6:.1f} us per event; the rest is waiting for a busy machine)")
    verdict = "OK" if projected <= TARGET_SECONDS_PER_MILLION else "SLOW"
    print(f"1,000,000 events: {'measured' if events == 1_000_000 else 'projected'} {projected:.1f} s "
          f"(target <= {TARGET_SECONDS_PER_MILLION:.0f} s): {verdict}")
    print(json.dumps({"events": report.events, "seconds": round(report.duration_seconds, 2),
                      "events_per_second": round(per_second), "projected_seconds_per_million": round(projected, 1),
                      "baseline_scan_seconds": round(baseline, 2), "cpu_seconds": round(cpu_seconds, 2),
                      "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
