"""HTTP cycles against the app under gunicorn (one sync worker, SQLite file, synchronous=FULL), against raw
SpiffWorkflow measured in the same run.

The server is the one `make run` starts (`expediente web`: gunicorn's gthread worker with keep-alive, the access
log written), with one worker; `--server sync` runs gunicorn's sync worker instead.
One-task cycle (5 requests): start a case of a one-user-task process, read the group queue, claim the task,
complete it, read the case back (completed). 5-step cycle (8 requests): the 5-step process of
bench/engine_throughput.py (tests/fixtures/five_step.bpmn: two user tasks), start, then queue + claim + complete
for each task, then read the case back. A bearer token authenticates every request; the client keeps one
http.client connection and reconnects when the server closes it (gunicorn's sync worker answers
"Connection: close" to every request, so there each request pays a loopback TCP connect).
Raw: SpiffWorkflow alone running the 5-step process with its own serializer at each wait state, no database
(engine_throughput.raw): the time per case. Targets (issue 18): one-task cycle ≤ 5.5x raw, 5-step cycle ≤ 5x raw.
Set EXPEDIENTE_SQLITE_SYNCHRONOUS=NORMAL to see the cost without the disk's fsyncs.
Last line: JSON with each cycle's median and p95, raw_ms and the ratios.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.accounts.auth import create_token, principal_by_username  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.accounts.users import add_user, map_lane, random_password  # noqa: E402

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://x">
  <bpmn:process id="one_task" name="Una tarea" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>work</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work" name="Atender"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
READY_TIMEOUT_SECONDS = 30
FIVE_STEP = (ROOT / "tests" / "fixtures" / "five_step.bpmn").read_bytes()
FIVE_STEP_DATA = [{"amount": 80}, {"ok": True}]
TARGETS = {"one_task": 5.5, "five_step": 5.0}


def prepare(directory: Path) -> tuple[dict, str]:
    """Migrate an SQLite file, deploy the process, create a clerk; return the server's env and his token."""
    env = {**os.environ, "EXPEDIENTE_DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
           "EXPEDIENTE_VAR_DIR": str(directory), "EXPEDIENTE_SECRET_KEY": random_password()}
    svc = build_services(Settings.from_env(env))
    upgrade(svc.db)
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"one_task.bpmn": BPMN, "five_step.bpmn": FIVE_STEP}, actor="bench")
    add_user(svc, "bench", "clerk", random_password(), groups=["ventanilla", "tramite"])
    token = create_token(svc, principal_by_username(svc, "bench"), "bench")["token"]
    svc.db.dispose()
    return env, token


def fsync_ms(directory: Path, samples: int = 30) -> float:
    """Median fsync of a small write in `directory`: with synchronous=FULL each of the 3 writes pays one."""
    times = []
    with open(directory / "fsync-probe", "wb") as f:
        for _ in range(samples):
            f.write(b"x" * 4096)
            f.flush()
            t0 = time.perf_counter()
            os.fsync(f.fileno())
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int, kind: str = "production") -> subprocess.Popen:
    """`production`: the server `make run` starts (`expediente web`: gunicorn's gthread worker, keep-alive, the
    access log), with one worker; `sync`: gunicorn's sync worker, which closes the connection after each answer."""
    if kind == "production":
        cmd = [sys.executable, "-m", "api.cli", "web", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    else:
        cmd = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "api.app:create_app()"]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    stop_server(server)
    raise SystemExit("gunicorn did not start in time")


def stop_server(server: subprocess.Popen) -> None:
    """Stop gunicorn gracefully (the master stops its worker); kill their whole session if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


class Client:
    """One persistent http.client connection, reopened whenever the server closes it."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None, expect: int = 200):
        payload = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.will_close:
            self.conn.close()
        if response.status != expect:
            raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self):
        self.conn.close()


def cycle(client: Client) -> None:
    case = client.call("POST", "/api/cases", {"process_key": "one_task", "data": {"n": 1}}, expect=201)
    queue = client.call("GET", "/api/tasks/queue?unassigned=true&limit=5")
    task_id = next(t["id"] for t in queue if t["case_id"] == case["id"])
    client.call("POST", f"/api/tasks/{task_id}/claim")
    client.call("POST", f"/api/tasks/{task_id}/complete", {"data": {"ok": True}})
    state = client.call("GET", f"/api/cases/{case['id']}")["state"]
    if state != "completed":
        raise SystemExit(f"case {case['id']} is {state}, expected completed")


def five_step_cycle(client: Client) -> None:
    case = client.call("POST", "/api/cases", {"process_key": "five_step", "data": {}}, expect=201)
    for data in FIVE_STEP_DATA:
        queue = client.call("GET", "/api/tasks/queue?unassigned=true&limit=5")
        task_id = next(t["id"] for t in queue if t["case_id"] == case["id"])
        client.call("POST", f"/api/tasks/{task_id}/claim")
        client.call("POST", f"/api/tasks/{task_id}/complete", {"data": data})
    state = client.call("GET", f"/api/cases/{case['id']}")["state"]
    if state != "completed":
        raise SystemExit(f"case {case['id']} is {state}, expected completed")


def raw_ms_per_case(cases_per_run: int = 300, runs: int = 5) -> float:
    """Raw SpiffWorkflow on the 5-step process (its own serializer at each wait state): median ms per case."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    from bench.engine_throughput import raw
    from engine.language.specs import parse_bundle
    proc = parse_bundle({"five_step.bpmn": FIVE_STEP}).processes["five_step"]
    spiff = BpmnWorkflowSerializer(registry=BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    raw(proc.spec, proc.subprocess_specs, 20, spiff.serialize_json, spiff.deserialize_json)  # warm up
    rates = [raw(proc.spec, proc.subprocess_specs, cases_per_run, spiff.serialize_json, spiff.deserialize_json)
             for _ in range(runs)]
    return 1000 / statistics.median(rates)


def timed(client: Client, run, cycles: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        run(client)
    times_ms = []
    for _ in range(cycles):
        t0 = time.perf_counter()
        run(client)
        times_ms.append((time.perf_counter() - t0) * 1000)
    return times_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--server", choices=("production", "sync"), default="production",
                        help="production: `expediente web` with one gthread worker (keep-alive); sync: gunicorn's "
                             "sync worker (a new connection per request)")
    args = parser.parse_args()
    raw_before = raw_ms_per_case()
    with tempfile.TemporaryDirectory(prefix="expediente-bench-") as tmp:
        env, token = prepare(Path(tmp))
        disk_ms = fsync_ms(Path(tmp))
        port = free_port()
        server = start_server(env, port, args.server)
        try:
            client = Client(port, token)
            times = {"one_task": timed(client, cycle, args.cycles, args.warmup),
                     "five_step": timed(client, five_step_cycle, args.cycles, args.warmup)}
            client.close()
        finally:
            stop_server(server)
    raw_ms = (raw_before + raw_ms_per_case()) / 2  # before and after: the machine's load moves both alike
    synchronous = os.environ.get("EXPEDIENTE_SQLITE_SYNCHRONOUS", "FULL").upper()
    print(f"server: {args.server} (one worker); SQLite synchronous={synchronous}; fsync here: {disk_ms:.2f} ms; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"raw SpiffWorkflow, 5-step process with its serializer at each wait: {raw_ms:.2f} ms per case")
    print(f"{'cycle':<34}{'requests':>9}{'median ms':>11}{'p95 ms':>9}{'x raw':>8}{'target':>8}")
    result = {"raw_ms": round(raw_ms, 3), "cycles": args.cycles}
    met = True
    for name, label, requests in (("one_task", "one task (start..read back)", 5),
                                  ("five_step", "5-step process (two tasks)", 8)):
        median = statistics.median(times[name])
        p95 = statistics.quantiles(times[name], n=20)[-1]
        ratio = median / raw_ms
        ok = ratio <= TARGETS[name]
        met &= ok
        print(f"{label:<34}{requests:>9}{median:>11.2f}{p95:>9.2f}{ratio:>8.2f}{TARGETS[name]:>7.1f}"
              f"{'' if ok else '!'}")
        result.update({f"{name}_median_ms": round(median, 2), f"{name}_p95_ms": round(p95, 2),
                       f"{name}_ratio": round(ratio, 2)})
    print("targets met" if met else "TARGETS MISSED")
    print(json.dumps({**result, "targets_met": met}))


if __name__ == "__main__":
    main()
