"""The `expediente` command line."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from engine.config import Settings
from engine.errors import ExpedienteError, SpecInvalid

DEMO_USERS = (
    # username, role, display name, groups
    ("oficial1", "clerk", "Oficial de trámite 1", ["ventanilla", "tramite"]),
    ("supervisor1", "supervisor", "Supervisora", ["ventanilla", "tramite", "juridico", "despacho",
                                                  "notificador", "mediador", "codede"]),
    ("auditor1", "auditor", "Auditor", []),
    ("admin", "admin", "Administrador", []),
)


def _services():
    from engine.services import build_services
    return build_services(Settings.from_env())


@click.group()
def main():
    """Expediente: administrative procedures run as BPMN."""


@main.command()
def migrate():
    """Create or upgrade the database schema."""
    from engine.db import make_engine
    from engine.migrate import upgrade
    settings = Settings.from_env()
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--comment", default="", help="Why this version exists.")
@click.option("--actor", default=None, help="Who deploys (recorded on new versions).")
def deploy(paths, comment, actor):
    """Deploy BPMN/DMN files or directories; unchanged processes keep their version."""
    from engine.lanes import apply_lane_files
    from engine.deploy import deploy_files, read_paths
    svc = _services()
    files = read_paths(paths)
    if not files:
        click.echo(f"no .bpmn or .dmn files in {', '.join(paths)}; nothing deployed")
    try:
        results = deploy_files(svc, files, actor=actor or os.environ.get("USER"), comment=comment) if files else []
    except SpecInvalid as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    for r in results:
        click.echo(f"{r.process_key}: version {r.version} {'(new)' if r.created else '(unchanged)'}")
    for lane, group in apply_lane_files(svc, paths):
        click.echo(f"lane '{lane}' -> group '{group}'")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths):
    """Parse and lint BPMN/DMN without deploying; one line per problem, exit 1 if any."""
    from engine.specs import validate_paths
    problems = validate_paths(paths)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        click.echo(f"{p.severity}: {p}")
    if errors:
        sys.exit(1)
    click.echo("all documents are valid")


@main.group()
def user():
    """Manage accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["clerk", "supervisor", "auditor", "admin"]), required=True)
@click.option("--password", default=None, help="Omit to generate and print one.")
@click.option("--name", "display_name", default=None)
@click.option("--email", default=None)
@click.option("--group", "groups", multiple=True)
def user_add(username, role, password, display_name, email, groups):
    """Create an account."""
    from engine.users import add_user, random_password
    generated = password is None
    password = password or random_password()
    add_user(_services(), username, role, password, display_name=display_name, email=email, groups=list(groups))
    click.echo(f"user {username} ({role}) created" + (f"; password: {password}" if generated else ""))


@main.command("demo-users")
def demo_users():
    """Create or reset the demo accounts and print their password."""
    from engine.users import add_user, random_password
    password = os.environ.get("EXPEDIENTE_DEMO_PASSWORD") or random_password()
    svc = _services()
    for username, role, name, groups in DEMO_USERS:
        add_user(svc, username, role, password, display_name=name, groups=groups, replace=True)
    click.echo("demo users (password for all: %s):" % password)
    for username, role, _name, groups in DEMO_USERS:
        click.echo(f"  {username:<12} {role:<10} {', '.join(groups)}")


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host, port):
    """Serve the web application."""
    from api.app import create_app
    app = create_app()
    click.echo(f"Expediente on http://{host}:{port}")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _die(exc: ExpedienteError):
    click.echo(json.dumps(exc.to_dict(), ensure_ascii=False, default=str), err=True)
    sys.exit(1)


def run():
    try:
        main(standalone_mode=True)
    except ExpedienteError as exc:
        _die(exc)


if __name__ == "__main__":
    run()
