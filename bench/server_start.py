"""How long the production server takes to answer after start, and to stop on SIGTERM.

Starts `expediente serve --with-scheduler` (gunicorn + supervised scheduler) on a free port over a migrated
SQLite file with every procedure deployed, polls /health until it answers 200 (app loaded, scheduler
heartbeat), then sends SIGTERM and times the clean exit. Baseline, measured in the same run: a bare Python
process that imports the app (`import api.app`), the floor of any server start.
Last line: JSON with start_s, stop_s, import_baseline_s, ratio.
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.waiting import free_port  # noqa: E402

RUNS = 3


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def one_run(env: dict) -> tuple[float, float]:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--with-scheduler", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not _healthy(f"http://127.0.0.1:{port}/health"):
        if proc.poll() is not None or time.perf_counter() - t0 > 300:
            proc.kill()
            raise SystemExit("the server did not come up")
        time.sleep(0.05)
    started = time.perf_counter() - t0
    t1 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    stopped = time.perf_counter() - t1
    if code != 0:
        raise SystemExit(f"the server exited {code} on SIGTERM")
    return started, stopped


def import_baseline(env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import api.app"], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EXPEDIENTE_DATABASE_URL": f"sqlite:///{tmp}/expediente.db",
               "EXPEDIENTE_VAR_DIR": tmp, "EXPEDIENTE_SCHEDULER_INTERVAL_SECONDS": "1",
               "EXPEDIENTE_BACKUP_EVERY_HOURS": "0"}
        cli = [sys.executable, "-m", "api.cli"]
        subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*cli, "deploy", "processes"], cwd=ROOT, env=env, check=True, capture_output=True)
        baseline = statistics.median(import_baseline(env) for _ in range(RUNS))
        runs = [one_run(env) for _ in range(RUNS)]
    start = statistics.median(r[0] for r in runs)
    stop = statistics.median(r[1] for r in runs)
    print(f"expediente serve --with-scheduler (2 workers), SQLite, median of {RUNS}")
    print(f"{'start to first 200 on /health':<34}{start:>8.2f} s")
    print(f"{'SIGTERM to exit 0':<34}{stop:>8.2f} s   (limit 30 s)")
    print(f"{'baseline: python -c import api.app':<34}{baseline:>8.2f} s")
    print(json.dumps({"start_s": round(start, 2), "stop_s": round(stop, 2), "import_baseline_s": round(baseline, 2),
                      "ratio": round(start / baseline, 2)}))


if __name__ == "__main__":
    main()
