"""`expediente serve` as an office runs it: gunicorn with the app loaded first, a supervised scheduler,
and a SIGTERM that lets requests in flight finish."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from tests.waiting import free_port, wait_until as _wait_until

WAIT_SECONDS = 120.0  # generous: a loaded 2-core machine starts Python processes slowly


def wait_until(condition, what: str):
    return _wait_until(condition, what, WAIT_SECONDS, interval=0.2)  # each look at the heartbeats opens a connection


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _heartbeats(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT name FROM scheduler_heartbeats")).scalars())
    finally:
        engine.dispose()


@pytest.fixture
def server(tmp_path, sqlite_template):
    """A migrated SQLite database (a copy of the session's; `expediente migrate` is tested in test_cli.py) and
    `expediente serve --with-scheduler` on a free port."""
    shutil.copy(sqlite_template, tmp_path / "expediente.db")
    url = f"sqlite:///{tmp_path / 'expediente.db'}"
    env = {**os.environ, "EXPEDIENTE_DATABASE_URL": url, "EXPEDIENTE_VAR_DIR": str(tmp_path),
           "EXPEDIENTE_SCHEDULER_INTERVAL_SECONDS": "1", "EXPEDIENTE_BACKUP_EVERY_HOURS": "0",
           "EXPEDIENTE_WORKERS": "2"}
    cli = [sys.executable, "-m", "api.cli"]
    port = free_port()
    proc = subprocess.Popen([*cli, "serve", "--with-scheduler", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield proc, f"http://127.0.0.1:{port}", port, url
    finally:
        if proc.poll() is None:  # a clean stop, so no child outlives the test
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()  # its children still get SIGTERM from Linux (PR_SET_PDEATHSIG)
                proc.wait()
        proc.stdout.close()


def _ready(base: str):
    def healthy():
        try:
            status, body = _get(base + "/health")
        except (urllib.error.URLError, ConnectionError, OSError):
            return None  # the port opens only once the app is loaded
        return body if status == 200 else None
    return wait_until(healthy, "/health to answer 200 (app loaded, scheduler heartbeat)")


def test_serve_answers_health_once_the_app_and_the_scheduler_are_up(server):
    proc, base, _port, _url = server
    body = _ready(base)
    assert body["status"] == "ok"
    assert body["checks"]["scheduler"]["ok"] and body["checks"]["migrations"]["ok"]
    assert proc.poll() is None


def test_sigterm_lets_a_request_in_flight_finish_and_exits_0(server):
    proc, base, port, url = server
    _ready(base)
    payload = json.dumps({"username": "nadie", "password": "incorrecta"}).encode()
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    conn.sendall(b"POST /api/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload[:10])
    time.sleep(2)  # the worker has read the headers and now waits for the body
    proc.send_signal(signal.SIGTERM)
    time.sleep(1)
    conn.sendall(payload[10:])
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    conn.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert proc.wait(timeout=WAIT_SECONDS) == 0  # the supervisor kills and exits 1 past its 30 s deadline
    output = proc.stdout.read().decode(errors="replace")
    assert "Traceback" not in output, output
    assert _heartbeats(url) == []  # the scheduler stopped cleanly and removed its heartbeat


def test_a_scheduler_that_dies_is_started_again(server):
    proc, base, _port, url = server
    _ready(base)
    first = wait_until(lambda: _heartbeats(url), "the scheduler's first heartbeat")
    pid = int(first[0].rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: [n for n in _heartbeats(url) if n != first[0]], "a new scheduler's heartbeat")
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=WAIT_SECONDS) == 0


def test_children_stop_when_the_supervisor_is_killed(server):
    proc, base, port, url = server
    _ready(base)
    [name] = wait_until(lambda: _heartbeats(url), "the scheduler's first heartbeat")
    scheduler_pid = int(name.rsplit(":", 1)[1])
    proc.kill()  # SIGKILL: the supervisor cannot pass anything on; Linux tells its children (PR_SET_PDEATHSIG)
    proc.wait()

    def port_closed():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return False
        except OSError:
            return True

    def scheduler_gone():
        try:
            os.kill(scheduler_pid, 0)
            return False
        except ProcessLookupError:
            return True

    wait_until(port_closed, "the web server to stop after its supervisor died")
    wait_until(scheduler_gone, "the scheduler to stop after its supervisor died")
    wait_until(lambda: _heartbeats(url) == [] or None, "the scheduler's clean stop (heartbeat removed)")
