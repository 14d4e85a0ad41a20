"""Delivery latency: a message posted (engine.usecases.messaging.post_message) until its case has stepped.

Cases wait at an intermediate message catch keyed by a data field (`correlacion="solicitud=ref"`). Each sample
posts one message and stops the clock when the call returns, which is after the case stepped: the message is
delivered right after the transaction that queued it commits, in the same thread, and the sample checks the case
moved on. Baseline, same run and database: a clerk completing a user task of the same kind of case (one step).
SQLite file at the defaults (WAL, synchronous=FULL); `--postgres URL` runs it on PostgreSQL too.
Last line: JSON with p50/p95 of both and their ratio.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.usecases import cases, messaging, tasks  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from tests.task_rows import task_rows  # noqa: E402

BENCH = Principal(user_id=0, username="bench", role=ADMIN)
DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://x">
  <bpmn:message id="m" name="respuesta"/>
  <bpmn:process id="espera" name="Espera" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="preparar"/>
    <bpmn:userTask id="preparar" name="Preparar"/>
    <bpmn:sequenceFlow id="f2" sourceRef="preparar" targetRef="recibir"/>
    <bpmn:intermediateCatchEvent id="recibir">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="correlacion" value="solicitud=ref"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:messageEventDefinition messageRef="m"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="recibir" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar"/>
    <bpmn:sequenceFlow id="f4" sourceRef="revisar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(url: str, n: int) -> dict:
    svc = build_services(Settings(database_url=url))
    upgrade(svc.db)
    deploy_files(svc, {"espera.bpmn": DIAGRAM})
    started = [cases.start_case(svc, BENCH, "espera", {"ref": f"R-{i}"}) for i in range(n)]
    clerk = []
    for case in started:  # the baseline: one clerk's step per case, which also brings it to its catch
        [row] = task_rows(svc, case.id)
        t0 = time.perf_counter()
        tasks.complete_task(svc, BENCH, row["id"], {"nota": "lista"})
        clerk.append((time.perf_counter() - t0) * 1000)
    latency = []
    for i, case in enumerate(started):
        t0 = time.perf_counter()
        sent = messaging.post_message(svc, BENCH, "respuesta", {"solicitud": f"R-{i}"}, {"dictamen": "favorable"})
        latency.append((time.perf_counter() - t0) * 1000)
        assert sent["state"] == "delivered", sent
        assert [t["element_id"] for t in task_rows(svc, case.id)] == ["revisar"]
    svc.db.dispose()
    return {"clerk_p50": statistics.median(clerk), "clerk_p95": pct(clerk, 95),
            "message_p50": statistics.median(latency), "message_p95": pct(latency, 95)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--postgres", help="also on this PostgreSQL URL (a fresh, migrated schema)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:  # the run's database is not kept
        results = {"sqlite": run(f"sqlite:///{tmp}/bench.db", args.n)}
    if args.postgres:
        results["postgresql"] = run(args.postgres, args.n)
    print(f"message posted -> case stepped, {args.n} messages (ms); baseline: a clerk's step on the same cases")
    print(f"{'backend':<12}{'msg p50':>9}{'msg p95':>9}{'clerk p50':>11}{'clerk p95':>11}{'ratio p50':>11}")
    out = {}
    for backend, r in results.items():
        ratio = r["message_p50"] / r["clerk_p50"]
        print(f"{backend:<12}{r['message_p50']:>9.2f}{r['message_p95']:>9.2f}{r['clerk_p50']:>11.2f}"
              f"{r['clerk_p95']:>11.2f}{ratio:>11.2f}")
        out[backend] = {k: round(v, 3) for k, v in r.items()} | {"ratio_p50": round(ratio, 3)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
