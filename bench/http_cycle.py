"""One HTTP cycle against the app under gunicorn (one sync worker, SQLite file, synchronous=FULL).

Cycle: start a case of a one-user-task process, read the group queue, claim the task, complete it,
read the case back (completed). A bearer token authenticates every request; the client keeps one
http.client connection and reconnects when the server closes it (gunicorn's sync worker answers
"Connection: close" to every request, so each request pays a loopback TCP connect).
Set EXPEDIENTE_SQLITE_SYNCHRONOUS=NORMAL to see the cost without the disk's fsyncs.
Last line: JSON with median_ms, p95_ms and cycles (target: median ≤ 10 ms).
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


def prepare(directory: Path) -> tuple[dict, str]:
    """Migrate an SQLite file, deploy the process, create a clerk; return the server's env and his token."""
    env = {**os.environ, "EXPEDIENTE_DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
           "EXPEDIENTE_VAR_DIR": str(directory), "EXPEDIENTE_SECRET_KEY": random_password()}
    svc = build_services(Settings.from_env(env))
    upgrade(svc.db)
    map_lane(svc, "Ventanilla", "ventanilla")
    deploy_files(svc, {"one_task.bpmn": BPMN}, actor="bench")
    add_user(svc, "bench", "clerk", random_password(), groups=["ventanilla"])
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


def start_server(env: dict, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync",
           "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "api.app:create_app()"]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="expediente-bench-") as tmp:
        env, token = prepare(Path(tmp))
        disk_ms = fsync_ms(Path(tmp))
        port = free_port()
        server = start_server(env, port)
        try:
            client = Client(port, token)
            for _ in range(args.warmup):
                cycle(client)
            times_ms = []
            for _ in range(args.cycles):
                t0 = time.perf_counter()
                cycle(client)
                times_ms.append((time.perf_counter() - t0) * 1000)
            client.close()
        finally:
            stop_server(server)
    median = statistics.median(times_ms)
    p95 = statistics.quantiles(times_ms, n=20)[-1]
    synchronous = os.environ.get("EXPEDIENTE_SQLITE_SYNCHRONOUS", "FULL").upper()
    print(f"one cycle = start, queue, claim, complete, read back (5 requests); gunicorn 1 sync worker; "
          f"SQLite synchronous={synchronous}; fsync here: {disk_ms:.2f} ms (3 commits per cycle)")
    print(f"{'cycles':<8}{'median ms':>12}{'p95 ms':>12}{'min ms':>12}")
    print(f"{args.cycles:<8}{median:>12.2f}{p95:>12.2f}{min(times_ms):>12.2f}")
    print(json.dumps({"median_ms": round(median, 2), "p95_ms": round(p95, 2), "cycles": args.cycles}))


if __name__ == "__main__":
    main()
