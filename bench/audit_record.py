"""Time to open the auditor's record of a case of 200+ events (/auditoria/expedientes/<id>), against the ordinary
case page of the same case (/expedientes/<id>) measured in the same run.

One case of five_step.bpmn on an SQLite file (default settings): filed, its first task taken and given back 100
times (two events each), then completed with data, so the record lists 200+ steps, each with its data and what
it changed. Both pages are requested through Flask's test client by one signed-in auditor, in turn, after one
warm-up request each (the record also appends its view to the access log: a write transaction per request).
Last line: JSON with each page's median and p95 in ms, the events of the case and the ratio record / case page.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from api.app import create_app  # noqa: E402
from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.accounts.users import add_user, random_password  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.storage import models  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.usecases import cases, tasks  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from tests.conftest import FakeClock, bpmn_fixture  # noqa: E402

BENCH = Principal(user_id=0, username="bench", role=ADMIN)
CLAIM_ROUNDS = 100  # each writes task_claimed and task_released


def build_case(svc) -> tuple[int, int]:
    """The case's id and its number of events."""
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="bench")
    case_id = cases.start_case(svc, BENCH, "five_step", {"amount": 10}).id
    with svc.uow(write=False) as uow:
        task_id = uow.conn.execute(select(models.tasks.c.id).where(models.tasks.c.case_id == case_id)).scalar_one()
    for _ in range(CLAIM_ROUNDS):
        svc.clock.advance(minutes=3)
        tasks.claim_task(svc, BENCH, task_id)
        svc.clock.advance(minutes=2)
        tasks.release_task(svc, BENCH, task_id)
    tasks.complete_task(svc, BENCH, task_id, {"amount": 25, "nota": "revisado en ventanilla"})
    with svc.uow(write=False) as uow:
        events = uow.conn.execute(select(func.count()).select_from(models.events)
                                  .where(models.events.c.case_id == case_id)).scalar_one()
    return case_id, events


def signed_in(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/entrar").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/entrar", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return client


def timed_get(client, path: str) -> float:
    t0 = time.perf_counter()
    answer = client.get(path)
    body = answer.get_data()
    elapsed = (time.perf_counter() - t0) * 1000
    assert answer.status_code == 200 and body, (path, answer.status_code)
    return elapsed


def summary(times: list[float]) -> dict:
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(statistics.quantiles(times, n=20)[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30, help="requests of each page (default 30)")
    n = parser.parse_args().n
    tmp = Path(tempfile.mkdtemp(prefix="bench-audit-record-"))
    settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", audit_key=str(tmp / "audit.pem"))
    svc = build_services(settings, clock=FakeClock())
    upgrade(svc.db)
    case_id, events = build_case(svc)
    password = random_password()
    add_user(svc, "auditora", "auditor", password, display_name="Auditora")
    app = create_app(test_config={"SECRET_KEY": random_password(), "TESTING": True, "VAR_DIR": str(tmp),
                                  "LOGIN_FIRST_DELAY_SECONDS": 0.0}, services=svc)
    client = signed_in(app, "auditora", password)
    pages = {"case page": f"/expedientes/{case_id}", "audit record": f"/auditoria/expedientes/{case_id}"}
    first = {name: timed_get(client, path) for name, path in pages.items()}
    times = {name: [] for name in pages}
    for _ in range(n):
        for name, path in pages.items():
            times[name].append(timed_get(client, path))
    rows = {name: summary(values) for name, values in times.items()}
    ratio = rows["audit record"]["median_ms"] / rows["case page"]["median_ms"]
    print(f"one case of {events} events on SQLite, {n} requests of each page through Flask's test client "
          f"(first requests: case page {first['case page']:.0f} ms, audit record {first['audit record']:.0f} ms)")
    print(f"{'page':<16}{'median ms':>10}{'p95 ms':>10}")
    for name, row in rows.items():
        print(f"{name:<16}{row['median_ms']:>10.1f}{row['p95_ms']:>10.1f}")
    print(f"audit record / case page: {ratio:.2f}")
    print(json.dumps({"events": events, "requests": n, "case_page": rows["case page"],
                      "audit_record": rows["audit record"], "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    main()
