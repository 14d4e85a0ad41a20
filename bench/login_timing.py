"""How long POST /api/session takes to refuse each kind of username: the answer must not tell them apart.

On a migrated SQLite file with production argon2 costs, through the whole Flask app: the median time of a failed
login for an existing account with a wrong password, an unknown name, a disabled account, and (with a lock after
one failure) a locked existing account and a locked unknown name. Samples of the kinds are interleaved, so a
machine that slows down slows every kind alike.
Last line: JSON with each kind's median and the largest difference between two of them.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from engine.accounts.auth import update_user  # noqa: E402
from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.accounts.users import add_user  # noqa: E402

PASSWORD = "contraseña-de-prueba-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EXPEDIENTE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        svc = build_services(Settings.from_env(env))
        upgrade(svc.db)
        for name in ("oficial1", "oficial2", "oficial3"):
            add_user(svc, name, "clerk", PASSWORD)
        update_user(svc, Principal(user_id=0, username="bench", role=ADMIN), "oficial2", active=False)
        config = {"SECRET_KEY": "bench", "VAR_DIR": tmp}
        # Never slows down nor locks: every attempt is a plain failure.
        open_app = create_app({**config, "LOGIN_MAX_FAILURES": 10**9, "LOGIN_FIRST_DELAY_SECONDS": 0}, svc)
        # Locks a name for a day after one failure.
        locking_app = create_app({**config, "LOGIN_MAX_FAILURES": 1, "LOGIN_LOCK_SECONDS": 86400}, svc)
        kinds = {
            "existing, wrong password": (open_app, "oficial1", "otra-clave"),
            "unknown": (open_app, "nadie", "otra-clave"),
            "disabled": (open_app, "oficial2", PASSWORD),
            "locked existing (right password)": (locking_app, "oficial3", PASSWORD),
            "locked unknown": (locking_app, "fantasma", PASSWORD),
        }
        clients = {kind: app.test_client() for kind, (app, _n, _p) in kinds.items()}
        for kind in ("locked existing (right password)", "locked unknown"):
            clients[kind].post("/api/session", json={"username": kinds[kind][1], "password": "mal"})
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        statuses: dict[str, set[int]] = {kind: set() for kind in kinds}
        for _ in range(args.samples + 2):  # the first two rounds warm up (imports, the dummy hash)
            for kind, (_app, username, password) in kinds.items():
                t0 = time.perf_counter()
                response = clients[kind].post("/api/session", json={"username": username, "password": password})
                times[kind].append((time.perf_counter() - t0) * 1000)
                statuses[kind].add(response.status_code)
        svc.db.dispose()
    medians = {kind: statistics.median(t[2:]) for kind, t in times.items()}
    print(f"{'kind':<36}{'status':>8}{'median ms':>12}{'p90 ms':>10}")
    for kind, t in times.items():
        p90 = statistics.quantiles(t[2:], n=10)[-1]
        print(f"{kind:<36}{'/'.join(map(str, sorted(statuses[kind]))):>8}{medians[kind]:>12.1f}{p90:>10.1f}")
    print(json.dumps({"samples": args.samples, "median_ms": {k: round(v, 1) for k, v in medians.items()},
                      "spread_ms": round(max(medians.values()) - min(medians.values()), 1)}))


if __name__ == "__main__":
    main()
