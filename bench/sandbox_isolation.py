"""No script can freeze the server (issue 12): inbox latency while hostile scripts run, when each is stopped, and
what running scripts in worker processes costs, in one run.

For each hostile payload of the issue (and an endless loop), cases whose script task runs it are started one
after another (a pause between them) for at least WINDOW_SECONDS, in one thread, while another thread queries
the inbox (engine.usecases.inbox.inbox on an SQLite file with OPEN_CASES open tasks) every INBOX_PAUSE_SECONDS; the
inbox's p95 then is compared with its p95 at rest, measured first. Each hostile start is timed from the call
to its answer (the case in error): it must come within the script time limit + 1 s.
Per-script cost: a typical script on typical intake data through a worker (env.execute) against the worker's
own code called in this process (sandbox_exec.run, same request): the difference is the round trip.
engine_throughput.py (its full run: 1,000 cases x 5; the quick one swings by +-0.05 on a busy machine) runs as a
subprocess, isolation on (as it ships); its ratio must stay >= 0.5.
Targets: inbox p95 during <= 2x at rest; every hostile case stopped within limit + 1 s; throughput ratio >= 0.5.
Last line: JSON.
"""
from __future__ import annotations

import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.usecases import cases
from engine.sandbox import executor as sandbox_exec  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from engine.usecases.inbox import inbox  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.accounts.users import map_lane  # noqa: E402
from tests.bpmn import linear, script  # noqa: E402

SYSTEM = Principal(user_id=0, username=None, role=ADMIN)  # files the cases, recorded as no one

LIMIT_SECONDS = 2.0  # the default EXPEDIENTE_SCRIPT_TIME_LIMIT_SECONDS
OPEN_CASES = 300
REST_SECONDS = 4.0
WINDOW_SECONDS = 3.0
INBOX_PAUSE_SECONDS = 0.02
HOSTILE_PAUSE_SECONDS = 0.25
COST_SAMPLES = 400
TARGET_P95_RATIO = 2.0
TARGET_THROUGHPUT_RATIO = 0.5
HOSTILE = {  # name -> script, task data
    "backtracking regex re.match('(a+)+$', 'a'*27+'b')": ("m = re.match('(a+)+$', texto) is None",
                                                        {"texto": "a" * 27 + "b"}),
    "hash((t,) * 700), t = (0,) * 999999": ("t = (0,) * 999999\nh = hash((t,) * 700)", {}),
    "strftime('%9999Y' * 150000)": ("s = datetime.date(2026, 1, 1).strftime('%9999Y' * 150000)", {}),
    "the same regex on a 10,000-character form field": ("m = re.sub('(a+)+$', '', texto)",
                                                         {"texto": "a" * 9999 + "b"}),
    "[[0] * 100000] * 300 kept in task data": ("leak = [[0] * 100000] * 300", {}),
    "huge allocation [[0] * 10**6 for i in range(10**4)]": ("l = [[0] * 10**6 for i in range(10**4)]", {}),
    "endless loop while True: pass": ("while True: pass", {}),
}
TYPICAL_DATA = {  # an intake form of about the office's size
    "solicitante_nombre": "María Fernanda López Ajú", "solicitante_dpi": "2345678901401", "monto": 125,
    "solicitante_email": "maria@example.gt", "municipio": "Chimaltenango", "tipo_licencia": "espectaculo_publico",
    "fecha_evento": "2026-04-18", "aforo": 350, "requisitos": ["Croquis del recorrido", "Plan de seguridad"],
    "solicitante": {"telefono": "5555-1234", "direccion": "2a. calle 3-45 zona 1", "documentos": []},
    "observaciones": "Solicitud presentada en ventanilla " * 8, "completo": True, "hubo_violencia": False,
}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values or [0.0])[0]


def probe(svc, principal, stop: threading.Event, out: list) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        inbox(svc, principal, view="queue", per_page=25)
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(INBOX_PAUSE_SECONDS)


def inbox_while(svc, principal, work) -> list[float]:
    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=probe, args=(svc, principal, stop, latencies))
    thread.start()
    try:
        work()
    finally:
        stop.set()
        thread.join()
    return latencies


def setup():
    tmp = tempfile.mkdtemp(prefix="bench-isolation-")
    svc = build_services(Settings(database_url=f"sqlite:///{tmp}/bench.db", script_time_limit_seconds=LIMIT_SECONDS))
    upgrade(svc.db)
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    files = {"five_step.bpmn": (ROOT / "tests" / "fixtures" / "five_step.bpmn").read_bytes()}
    for i, (source, _) in enumerate(HOSTILE.values()):
        files[f"h{i}.bpmn"] = linear(script(source), process_id=f"hostil{i}")
    deploy_files(svc, files)
    for _ in range(OPEN_CASES):
        cases.start_case(svc, SYSTEM, "five_step", {"amount": 10})
    return svc, Principal(1, "oficial1", "clerk", ("ventanilla",))


def run_hostile(svc, process_key: str, data: dict) -> tuple[list[float], str]:
    durations, outcome = [], ""
    started = time.monotonic()
    while time.monotonic() - started < WINDOW_SECONDS or not durations:
        t0 = time.monotonic()
        result = cases.start_case(svc, SYSTEM, process_key, dict(data))
        durations.append(time.monotonic() - t0)
        case = cases.get_case(svc, SYSTEM, result.id)
        outcome = case["state"] if case["state"] != "error" else f"error at {case['error_element']}: " \
            f"{' '.join(str(case['error_message']).split())}"
        time.sleep(HOSTILE_PAUSE_SECONDS)
    return durations, outcome


def per_script_cost(svc) -> dict:
    env = svc.runtime.script_engine.environment
    source = "total = monto * 2\nok = total > 100 and completo"
    env.execute(source, dict(TYPICAL_DATA))  # warm: a worker, its compile cache, the helpers' data

    def median_us(run) -> float:
        samples = []
        for _ in range(COST_SAMPLES):
            t0 = time.perf_counter()
            run()
            samples.append((time.perf_counter() - t0) * 1e6)
        return statistics.median(samples)

    office = env._office.worker_state()
    request = {"mode": "exec", "source": source, "context": pickle.dumps(TYPICAL_DATA), "external": {},
               "limit": LIMIT_SECONDS, "callbacks": (), "constants": {}, "office": (0, office[1], office[2])}
    sandbox_exec.run(request, None)
    request["office"] = (0, None, office[2])
    here = median_us(lambda: sandbox_exec.run(request, None))
    worker = median_us(lambda: env.execute(source, dict(TYPICAL_DATA)))
    condition_fast = median_us(lambda: env.evaluate("monto > 100 and completo", TYPICAL_DATA))
    condition_worker = median_us(lambda: env.evaluate("len(requisitos) > 1", TYPICAL_DATA))
    return {"script_in_process_us": round(here, 1), "script_through_worker_us": round(worker, 1),
            "round_trip_us": round(worker - here, 1), "condition_fast_path_us": round(condition_fast, 1),
            "condition_through_worker_us": round(condition_worker, 1),
            "task_data_bytes": len(pickle.dumps(TYPICAL_DATA))}


def throughput() -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "engine_throughput.py")], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    svc, principal = setup()
    cost = per_script_cost(svc)
    rest = inbox_while(svc, principal, lambda: time.sleep(REST_SECONDS))
    rows = {}
    for i, (name, (_, data)) in enumerate(HOSTILE.items()):
        found = {}
        latencies = inbox_while(svc, principal,
                                lambda: found.update(zip(("durations", "outcome"), run_hostile(svc, f"hostil{i}", data))))
        rows[name] = {"inbox_p95_ms": round(p95(latencies), 2), "inbox_requests": len(latencies),
                      "runs": len(found["durations"]), "stopped_within_s": round(max(found["durations"]), 2),
                      "outcome": found["outcome"][:110]}
    flow = throughput()
    rest_p95 = p95(rest)
    limit_ok = all(r["stopped_within_s"] <= LIMIT_SECONDS + 1 for r in rows.values())
    ratio_ok = all(r["inbox_p95_ms"] <= TARGET_P95_RATIO * rest_p95 for r in rows.values())

    print(f"inbox (25 of {OPEN_CASES} ready tasks) every {INBOX_PAUSE_SECONDS * 1000:.0f} ms; hostile cases one after "
          f"another for >= {WINDOW_SECONDS:g} s each; script limit {LIMIT_SECONDS:g} s (target: stopped within "
          f"{LIMIT_SECONDS + 1:g} s, inbox p95 <= {TARGET_P95_RATIO:g}x at rest)")
    print(f"{'payload':<52}{'inbox p95 ms':>13}{'x rest':>8}{'runs':>6}{'stopped in s':>14}  outcome")
    print(f"{'(at rest)':<52}{rest_p95:>13.2f}{1:>8.2f}{'':>6}{'':>14}  {len(rest)} requests")
    for name, r in rows.items():
        print(f"{name:<52}{r['inbox_p95_ms']:>13.2f}{r['inbox_p95_ms'] / rest_p95:>8.2f}{r['runs']:>6}"
              f"{r['stopped_within_s']:>14.2f}  {r['outcome']}")
    print(f"per script ({cost['task_data_bytes']} bytes of task data): {cost['script_in_process_us']:.0f} us in this "
          f"process, {cost['script_through_worker_us']:.0f} us through a worker (round trip "
          f"{cost['round_trip_us']:.0f} us); a condition: {cost['condition_fast_path_us']:.1f} us on the fast path, "
          f"{cost['condition_through_worker_us']:.0f} us through a worker")
    print(f"engine_throughput (1,000 cases x 5), isolation on: ratio {flow['ratio']} (ours {flow['ours_per_s']} cases/s, raw "
          f"{flow['raw_per_s']}); target >= {TARGET_THROUGHPUT_RATIO}")
    print(json.dumps({
        "inbox_p95_at_rest_ms": round(rest_p95, 2), "hostile": rows, "limit_seconds": LIMIT_SECONDS,
        "per_script": cost, "engine_throughput_ratio": flow["ratio"], "engine_throughput": flow,
        "targets_met": {"inbox_p95": ratio_ok, "stopped_within_limit_plus_1s": limit_ok,
                        "throughput_ratio": flow["ratio"] >= TARGET_THROUGHPUT_RATIO},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
