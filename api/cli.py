"""The `expediente` command: the engine's commands plus `serve` (gunicorn and a supervised scheduler, or Flask's
server for developers), which need the web application and so live here rather than in the engine."""
from __future__ import annotations

import logging
import os
import sys

import click

from engine.cli import main as engine_main

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise click.BadParameter(f"{name} must be a whole number, not {value!r}") from None


def _module_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", *args]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=click.IntRange(0, 65535), show_default=True)
@click.option("--with-scheduler", is_flag=True, help="Also fire timers and send mail (a supervised process).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help=f"Web worker processes (EXPEDIENTE_WORKERS, default {DEFAULT_WORKERS}).")
@click.option("--dev", is_flag=True, help="Flask's reloading development server (the scheduler in-process).")
@click.option("--no-reload", is_flag=True, help="With --dev: do not restart on code changes.")
@click.option("--stop-with-parent", is_flag=True, hidden=True,
              help="Stop cleanly when the parent process (make) dies: `kill` on `make run` stops the server.")
def serve(host, port, with_scheduler, workers, dev, no_reload, stop_with_parent):
    """Serve the web application: gunicorn, with the scheduler as a supervised process."""
    if stop_with_parent:
        from engine.ops.supervisor import stop_with_parent as ask_for_sigterm
        ask_for_sigterm()
    if dev:
        _serve_dev(host, port, with_scheduler, reload=not no_reload)
        return
    from engine.ops.scheduler import log_to_stderr
    from engine.ops.supervisor import Child, Supervisor
    log_to_stderr()
    workers = workers or _int_env("EXPEDIENTE_WORKERS", DEFAULT_WORKERS)
    children = [Child("web", _module_command("web", "--host", host, "--port", str(port),
                                             "--workers", str(workers)))]
    if with_scheduler:
        children.append(Child("scheduler", _module_command("scheduler"), restart=True))
    click.echo(f"Expediente: starting on http://{host}:{port} with {workers} workers"
               + (" and the scheduler" if with_scheduler else "") + " (Ctrl+C or SIGTERM stops it)", err=True)
    sys.exit(Supervisor(children).run())


@click.command(hidden=True)
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=DEFAULT_WORKERS, type=int)
def web(host, port, workers):
    """The gunicorn web server alone (what `serve` supervises)."""
    from api.server import serve as serve_gunicorn
    threads = _int_env("EXPEDIENTE_THREADS", DEFAULT_THREADS)
    serve_gunicorn(_production_app, host, port, workers, threads)


def _production_app():
    from api.app import create_app
    from engine.config import Settings
    from engine.services import build_services
    logging.getLogger("engine").setLevel(logging.INFO)
    return create_app(services=build_services(Settings.from_env()))


def _serve_dev(host: str, port: int, with_scheduler: bool, reload: bool) -> None:
    from api.app import create_app
    from engine.ops import scheduler
    from engine.config import Settings
    from engine.services import build_services
    if with_scheduler:
        scheduler.log_to_stderr()
    svc = build_services(Settings.from_env())
    app = create_app(services=svc)
    # With the reloader this code runs twice: in a watcher process and in the one that serves. Only the
    # serving one (WERKZEUG_RUN_MAIN) runs jobs. The same services object: a closure day added over the
    # web reaches the scheduler's calendar too.
    serving = not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"
    jobs = scheduler.start_in_process(svc, scheduler.SchedulerSettings.from_env()) \
        if with_scheduler and serving else None
    click.echo(f"Expediente (development server) on http://{host}:{port}"
               + (" with the scheduler" if with_scheduler else ""), err=True)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=reload)
    finally:
        if jobs is not None:
            scheduler.stop_cleanly(jobs)


# The whole `expediente` command: the engine's group plus the two commands that need the web application.
main = engine_main.main
main.add_command(serve)
main.add_command(web)


def run():
    """The `expediente` entry point."""
    engine_main.run()


if __name__ == "__main__":
    run()
