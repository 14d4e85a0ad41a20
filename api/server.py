"""The production web server: gunicorn with the app loaded before the port opens."""
from __future__ import annotations

import os
import sys

from gunicorn.app.base import BaseApplication

GRACEFUL_TIMEOUT_SECONDS = 25   # in-flight requests get this long after SIGTERM (the supervisor allows 30)
WORKER_TIMEOUT_SECONDS = 120    # a worker silent this long is restarted


class _Gunicorn(BaseApplication):
    def __init__(self, app_factory, options: dict):
        self._factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._factory()


def _post_fork(_server, worker) -> None:
    # Connections opened while loading (closure days, the migration check) belong to the parent; a worker
    # must open its own rather than share the parent's sockets and SQLite file handles.
    worker.app.wsgi().extensions["expediente"].db.dispose(close=False)


def _when_ready(server) -> None:
    host, port = server.cfg.address[0][:2]
    print(f"Expediente ready on http://{host}:{port} ({server.cfg.workers} workers × "
          f"{server.cfg.threads} threads, pid {os.getpid()})", file=sys.stderr, flush=True)


def serve(app_factory, host: str, port: int, workers: int, threads: int, access_log: str | None = "-") -> None:
    """Serve until SIGTERM (graceful: requests in flight finish) or SIGINT/SIGQUIT (quick)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    _Gunicorn(app_factory, {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # Loading in the parent before binding: no connection is accepted before the app can answer it.
        "preload_app": True,
        "post_fork": _post_fork,
        "when_ready": _when_ready,
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        "timeout": WORKER_TIMEOUT_SECONDS,
        "accesslog": access_log,
        "errorlog": "-",
        "proc_name": "expediente-web",
    }).run()
