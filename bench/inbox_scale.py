"""The inbox and the cases list at scale: N open cases (default 100,000) on SQLite and PostgreSQL.

Every procedure of processes/ is deployed (as the office has it); then N open cases plus 20% closed ones are written
by bulk inserts (executemany on SQLite, COPY on PostgreSQL) that match the schema: the cases of the deployed
procedures, spread over municipalities and clerks, filed over the last months, with 5-6 completed task rows each
and, for the open ones, one ready task of the procedure's lanes (about 64% of them in the "tramite" group's queue,
some claimed, some overdue, a few without a deadline). The triggers of migration 0016 fill the list tables as the
rows go in, as they do in production. Then each view is timed through its use case (engine.usecases.inbox.inbox,
engine.usecases.cases.list_cases / cases_page) with a clerk's and a supervisor's Principal, and two pages through
the Flask test client; p50/p95 of `--repeat` runs. Each view's SQL is captured once (before_cursor_execute) and its
plan printed (EXPLAIN QUERY PLAN / EXPLAIN).

Targets (absolute, issue 18): p95 <= 50 ms per view at 100,000 open cases on both databases (and in --quick), and
<= 100 ms at 1,000,000 on PostgreSQL. Last line: JSON.
"""
from __future__ import annotations

import argparse
from contextlib import contextmanager
import gc
import io
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, select, text  # noqa: E402

import engine.accounts.users  # noqa: E402
from engine.accounts.permissions import CLERK, SUPERVISOR, Principal  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.runtime import serializer  # noqa: E402
from engine.storage import models  # noqa: E402
from engine.storage.db import make_engine  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.usecases import cases as case_uc  # noqa: E402
from engine.usecases import inbox as inbox_uc  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.processes.driver import office  # noqa: E402

POSTGRES_URL = os.environ.get("EXPEDIENTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 6, 1, 15, 0, tzinfo=timezone.utc)
PROCEDURES = {"licencia": 30, "solicitud_ciudadana": 30, "correspondencia_oficial": 20, "mediacion_tierras": 8,
              "priorizacion_proyectos": 6, "sesion_codede": 6}  # weight of each among the cases
MUNICIPALITIES = ["Chimaltenango", "San José Poaquil", "San Martín Jilotepeque", "Comalapa", "Santa Apolonia",
                  "Tecpán Guatemala", "Patzún", "Pochuta", "Patzicía", "Santa Cruz Balanyá", "Acatenango",
                  "Yepocapa", "San Andrés Itzapa", "Parramos", "Zaragoza", "El Tejar"]
FIRST = ["José", "María", "Juan", "Ana", "Luis", "Rosa", "Pedro", "Marta", "Andrés", "Inés", "Tomás", "Sofía",
         "Julián", "Lucía", "Ramón", "Irma", "Héctor", "Elena", "Óscar", "Mónica"]
LAST = ["López", "Pérez", "García", "Gómez", "Núñez", "Xicará", "Cúmez", "Chávez", "Ajú", "Tubac", "Sotz",
        "Boror", "Coyoy", "Ixcoy", "Saquic", "Hernández", "Martínez", "Rodríguez", "Sicajau", "Tum"]
LANES = {"Ventanilla": "ventanilla", "Trámite": "tramite", "Jurídico": "juridico", "Despacho": "despacho",
         "Notificador": "notificador", "Mediador": "mediador", "Enlace CODEDE": "codede"}
BIG_GROUP = "tramite"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CLERKS_PER_GROUP = 5
CASE_COLUMNS = ("id", "number", "tracking_code", "process_key", "process_version_id", "state", "version",
                "workflow_json", "serializer_version", "created_at", "updated_at", "completed_at", "created_by",
                "title", "applicant_name", "applicant_dpi", "municipality")
TASK_COLUMNS = ("id", "case_id", "element_id", "title", "lane", "candidate_group", "assignee", "state",
                "created_at", "claimed_at", "due_at", "completed_at", "completed_by")


def tracking(n: int) -> str:
    value, out = (n * 7_919_113) % 31 ** 8, []
    for _ in range(8):
        value, digit = divmod(value, 31)
        out.append(ALPHABET[digit])
    return "".join(out)


def user_tasks(svc) -> dict[str, list[tuple[str, str, str, str]]]:
    """(element id, title, lane, group) of each procedure's user tasks, from the deployed specs."""
    found = {}
    with svc.db.connect() as conn:
        versions = conn.execute(select(models.process_versions.c.id, models.process_versions.c.process_key)).all()
        for version_id, key in versions:
            if key not in PROCEDURES:
                continue
            spec, _ = svc.specs.get(conn, version_id)
            found[key] = (version_id, [(name, ts.bpmn_name or name, ts.lane, LANES.get(ts.lane, "ventanilla"))
                                       for name, ts in sorted(spec.task_specs.items())
                                       if type(ts).__name__ == "UserTask"])
    return found


CHUNK = 50_000


def generate(n_open: int, procedures: dict, seed: int = 18):
    """Chunks of rows (cases, tasks) of CHUNK cases each: tuples in CASE_COLUMNS / TASK_COLUMNS order, naive UTC
    datetimes (a million cases never sit in memory at once)."""
    total = n_open + n_open // 5
    for first in range(1, total + 1, CHUNK):
        yield _chunk(n_open, procedures, random.Random(seed * 1_000_003 + first), first, min(total, first + CHUNK - 1))


def _chunk(n_open: int, procedures: dict, rng, first: int, last: int):
    keys = list(PROCEDURES)
    weights = [PROCEDURES[k] for k in keys]
    case_rows, task_rows = [], []
    naive_now = NOW.replace(tzinfo=None)
    for case_id in range(first, last + 1):
        closed = case_id > n_open
        key = rng.choices(keys, weights)[0]
        version_id, specs = procedures[key]
        age = timedelta(days=rng.uniform(2, 400 if closed else 150), minutes=rng.randrange(600))
        filed = naive_now - age
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
        filer = f"ventanilla{rng.randrange(1, CLERKS_PER_GROUP + 1)}"
        done = rng.randint(5, 6)
        steps = sorted(filed + (naive_now - filed) * rng.random() for _ in range(done + 1))
        for k in range(done):
            element, title, lane, grp = rng.choice(specs)
            who = f"{grp}{rng.randrange(1, CLERKS_PER_GROUP + 1)}"
            start = steps[k]
            task_rows.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), case_id, element, title, lane, grp,
                              who, "completed", start, start, start + timedelta(days=10), steps[k + 1], who))
        updated = steps[done]
        if not closed:
            big = [s for s in specs if s[3] == BIG_GROUP]
            others = [s for s in specs if s[3] != BIG_GROUP] or specs
            element, title, lane, grp = rng.choice(big) if big and rng.random() < 0.64 else rng.choice(others)
            # Waiting up to a month (never before its case's last step); due 5 to 30 days after it arrived.
            created = max(updated - timedelta(days=rng.uniform(0, 30)), steps[done - 1])
            due = None if rng.random() < 0.05 else created + timedelta(days=rng.uniform(5, 30))
            claimed = rng.random() < 0.03
            who = f"{grp}{rng.randrange(1, CLERKS_PER_GROUP + 1)}" if claimed else None
            task_rows.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), case_id, element, title, lane, grp,
                              who, "ready", created, created if claimed else None, due, None, None))
        case_rows.append((case_id, f"EXP-GDCH-{filed.year}-{case_id:07d}", tracking(case_id), key, version_id,
                          "completed" if closed else "running", 1, "{}", serializer.SERIALIZER_VERSION, filed,
                          updated, updated if closed else None, filer, f"Solicitud de {name}"[:300], name,
                          f"2{case_id:012d}", rng.choice(MUNICIPALITIES)))
    return case_rows, task_rows


def bulk_load(svc, chunks, tables) -> None:
    """Write rows fast: `chunks` yields, per chunk, one list of row tuples for each of `tables` ((name, columns),
    in order). SQLite: its own connection, one transaction (the pool's connections commit each statement), then
    ANALYZE; PostgreSQL: COPY, a commit per chunk, the cases' id sequence moved past them, then VACUUM ANALYZE."""
    if svc.db.dialect.name == "sqlite":
        def as_text(rows):  # datetimes as SQLAlchemy stores them on SQLite
            return [tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in r)
                    for r in rows]
        raw = sqlite3.connect(svc.db.url.database)
        cur = raw.cursor()
        for chunk in chunks:
            for (table, columns), rows in zip(tables, chunk):
                cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                as_text(rows))
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
        raw.close()
        return
    raw = svc.db.raw_connection()
    with raw.cursor() as cur:
        for chunk in chunks:
            for (table, columns), rows in zip(tables, chunk):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        cur.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
    raw.commit()
    raw.driver_connection.autocommit = True
    with raw.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    raw.close()


def load(svc, chunks) -> tuple[float, tuple]:
    """Write every chunk (the list tables fill by the migration's triggers as rows go in); the time it took and a
    case of the first chunk to search for."""
    started = time.perf_counter()
    first = []

    def noting(chunks):
        for case_rows, task_rows in chunks:
            if not first:
                first.append(case_rows[len(case_rows) // 3])
            yield case_rows, task_rows
    bulk_load(svc, noting(chunks), (("cases", CASE_COLUMNS), ("tasks", TASK_COLUMNS)))
    return time.perf_counter() - started, first[0] if first else None


def views(svc, n_open: int, sample: dict) -> dict:
    clerk = Principal(1, f"{BIG_GROUP}1", CLERK, (BIG_GROUP,), "Rosa Cumes")
    boss = Principal(2, "supervisor1", SUPERVISOR, (BIG_GROUP,), "Jefa")
    q = {"view": "queue"}
    first = inbox_uc.inbox(svc, clerk, **q)
    deep = max(2, min(1000, first["total"] // 25 - 1)) if not first["total_more"] else 1000
    deep_page = inbox_uc.inbox(svc, clerk, page=deep, **q)
    found = {
        "mine": lambda: inbox_uc.inbox(svc, clerk, view="mine"),
        "queue p1": lambda: inbox_uc.inbox(svc, clerk, **q),
        f"queue p{deep} (offset)": lambda: inbox_uc.inbox(svc, clerk, page=deep, **q),
        f"queue p{deep + 1} (cursor)": lambda: inbox_uc.inbox(svc, clerk, page=deep + 1, after=deep_page["next"], **q),
        "queue API (no summary)": lambda: inbox_uc.inbox(svc, clerk, per_page=100, summary=False, **q),
        "filter process": lambda: inbox_uc.inbox(svc, clerk, process_key="licencia", **q),
        "filter task": lambda: inbox_uc.inbox(svc, clerk, element_id="emitir_certificado", **q),
        "filter municipality": lambda: inbox_uc.inbox(svc, clerk, municipality="Patzún", **q),
        "filter unassigned": lambda: inbox_uc.inbox(svc, clerk, unassigned=True, **q),
    }
    for key in inbox_uc.SORTS:
        for s in (key, f"-{key}"):
            found[f"sort {s}"] = (lambda s=s: inbox_uc.inbox(svc, clerk, sort=s, **q))
    for label, value in (("number", sample["number"]), ("tracking code", sample["tracking_code"].lower()),
                         ("DPI", sample["dpi"]), ("name Lopez", "Lopez"), ("name jose perez", "jose perez")):
        found[f"search {label}"] = (lambda value=value: inbox_uc.inbox(svc, clerk, q=value, **q))
    for who, p in (("clerk", clerk), ("supervisor", boss)):
        found[f"cases {who} p1"] = (lambda p=p: case_uc.cases_page(svc, p))
        found[f"cases {who} process"] = (lambda p=p: case_uc.list_cases(svc, p, process_key="solicitud_ciudadana"))
        found[f"cases {who} municipality"] = (lambda p=p: case_uc.list_cases(svc, p, municipality="Patzún"))
        found[f"cases {who} overdue"] = (lambda p=p: case_uc.list_cases(svc, p, overdue=True))
    return found


def check_answers(svc) -> list[str]:
    """What the views must find (not speed): accent-insensitive name search, bounded totals."""
    clerk = Principal(1, f"{BIG_GROUP}1", CLERK, (BIG_GROUP,))
    problems = []
    lopez = inbox_uc.inbox(svc, clerk, view="queue", q="Lopez")
    if not lopez["items"] or not all("López" in r["applicant_name"] for r in lopez["items"]):
        problems.append("'Lopez' did not find 'López'")
    return problems


def plan(svc, fn) -> list[str]:
    captured = []

    def record(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))
    event.listen(svc.db, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(svc.db, "before_cursor_execute", record)
    lines = []
    with svc.db.connect() as conn:
        for statement, parameters in captured:
            if not re.match(r"\s*(SELECT|WITH)", statement, re.I) or "process_versions" in statement:
                continue
            prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            shown = [r[-1] for r in rows]
            lines.append(" ".join(statement.split())[:160])
            lines.extend(f"    {s}" for s in shown)
    return lines


def measure(svc, found: dict, repeat: int, show_plans: bool) -> dict:
    results = {}
    for label, fn in found.items():
        fn()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        results[label] = {"p50": statistics.median(times), "p95": times[min(len(times) - 1, int(0.95 * len(times)))]}
        if show_plans:
            print(f"-- plan of {label}")
            print("\n".join(plan(svc, fn)))
    return results


def pages(svc, directory: Path, repeat: int) -> dict:
    """/bandeja and /expedientes through the Flask test client (session cookie of a real clerk)."""
    from argon2 import PasswordHasher
    from api.app import create_app
    from engine.accounts.users import add_user
    engine.accounts.users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    add_user(svc, f"{BIG_GROUP}1", "clerk", "contraseña-segura-1", display_name="Rosa Cumes", groups=[BIG_GROUP])
    app = create_app(test_config={"SECRET_KEY": "bench", "TESTING": True, "VAR_DIR": str(directory),
                                  "LOGIN_FIRST_DELAY_SECONDS": 0.0}, services=svc)
    client = app.test_client()
    page = client.get("/entrar").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/entrar", data={"username": f"{BIG_GROUP}1", "password": "contraseña-segura-1", "csrf_token": token})
    found = {}
    for path in ("/bandeja?vista=queue", "/bandeja", "/expedientes"):
        def get(path=path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        found[f"page {path}"] = get
    return measure(svc, found, repeat, False)


@contextmanager
def bench_office(db: str, prefix: str):
    """(services, working directory): the whole office (every procedure deployed) on a fresh SQLite file or
    PostgreSQL schema, removed after."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if db == "sqlite":
        url = f"sqlite:///{directory}/bench.db"
        drop = None
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

        def drop():
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    try:
        migrated = make_engine(Settings(database_url=url))
        upgrade(migrated)
        migrated.dispose()
        yield office(url, FakeClock(NOW), audit_key=str(directory / "audit.pem")), directory
    finally:
        if drop:
            drop()
        shutil.rmtree(directory, ignore_errors=True)


def run(db: str, n_open: int, repeat: int, show_plans: bool, only: str | None = None) -> dict:
    with bench_office(db, "bench-inbox-") as (svc, directory):
        procedures = user_tasks(svc)
        loaded, sample_case = load(svc, generate(n_open, procedures))
        sample = {"number": sample_case[1], "tracking_code": sample_case[2], "dpi": sample_case[15]}
        with svc.db.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("cases", "tasks", "inbox_items", "case_access")}
            counts["big_queue"] = conn.execute(text("SELECT count(*) FROM inbox_items WHERE candidate_group = :g"),
                                               {"g": BIG_GROUP}).scalar_one()
        print(f"[{db}] {n_open:,} open cases generated and loaded in {loaded:.1f} s; {counts}",
              flush=True)
        # The rows written above leave a large heap behind in this process (not in a server's): collected and frozen
        # now, a full collection does not land in the middle of one timed view (a lone 90 ms sample otherwise).
        gc.collect()
        gc.freeze()
        problems = check_answers(svc)
        found = {k: v for k, v in views(svc, n_open, sample).items() if not only or re.search(only, k)}
        results = measure(svc, found, repeat, show_plans)
        if not only:
            results.update(pages(svc, directory, max(5, repeat // 2)))
        svc.db.dispose()
        gc.unfreeze()
        return {"results": results, "counts": counts, "load_seconds": round(loaded, 1), "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="open cases (20%% more are closed)")
    parser.add_argument("--quick", action="store_true", help="20,000 open cases, fewer repetitions")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--no-plans", action="store_true")
    parser.add_argument("--only", help="time only the views whose label matches this regular expression")
    args = parser.parse_args()
    n_open = 20_000 if args.quick else args.cases
    repeat = args.repeat or (20 if args.quick else 30)
    target = 100.0 if n_open > 100_000 else 50.0
    started = time.perf_counter()
    report = {}
    for db in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        if n_open > 100_000 and db == "sqlite":
            print("(SQLite target is at 100,000 open cases; measured anyway)")
        report[db] = run(db, n_open, repeat, not args.no_plans, args.only)
    load_avg = os.getloadavg()
    out = io.StringIO()
    out.write(f"\n{'view':<34}" + "".join(f"{db + ' p50':>16}{db + ' p95':>16}" for db in report) + "\n")
    labels = list(next(iter(report.values()))["results"])
    met = True
    for label in labels:
        out.write(f"{label:<34}")
        for db in report:
            r = report[db]["results"][label]
            ok = r["p95"] <= target or label.startswith("page ")
            met &= ok
            out.write(f"{r['p50']:>13.1f} ms{r['p95']:>13.1f} ms" + ("" if ok else " !"))
        out.write("\n")
    problems = [p for db in report for p in report[db]["problems"]]
    print(out.getvalue())
    print(f"target: p95 <= {target:.0f} ms for every use-case view at {n_open:,} open cases "
          f"(pages through Flask are shown, not judged): {'MET' if met else 'NOT MET'}; answers: "
          f"{'ok' if not problems else problems}; load average {load_avg[0]:.2f} {load_avg[1]:.2f}; "
          f"{time.perf_counter() - started:.0f} s in all")
    print(json.dumps({"bench": "inbox_scale", "open_cases": n_open, "target_p95_ms": target,
                      "target_met": met and not problems, "problems": problems, "load_avg_1m": round(load_avg[0], 2),
                      "databases": {db: {"counts": v["counts"], "load_seconds": v["load_seconds"],
                                         "p95_ms": {k: round(r["p95"], 2) for k, r in v["results"].items()},
                                         "p50_ms": {k: round(r["p50"], 2) for k, r in v["results"].items()}}
                                    for db, v in report.items()}}, ensure_ascii=False))


if __name__ == "__main__":
    main()
