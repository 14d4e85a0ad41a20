"""The `expediente` command line."""
from __future__ import annotations

import json
import os
import sys

import click

from engine.cli import cli_principal, cli_services
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


@click.group()
def main():
    """Expediente: administrative procedures run as BPMN."""
    if os.environ.get("EXPEDIENTE_STOP_WITH_PARENT") == "1":  # a child of `expediente serve` (engine.ops.supervisor)
        from engine.ops.supervisor import stop_with_parent
        stop_with_parent()


@main.command()
def migrate():
    """Create or upgrade the database schema."""
    from engine.storage.db import make_engine
    from engine.storage.migrate import upgrade
    settings = Settings.from_env()
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")
    from engine.services import build_services
    from engine.usecases.delivery import backfill_waits
    svc = build_services(settings)
    try:
        waits = backfill_waits(svc)  # once: cases that waited for messages before they could be delivered
    finally:
        svc.db.dispose()
    if waits:
        click.echo(f"{waits} waiting message catches of existing cases recorded")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--comment", default="", help="Why this version exists.")
@click.option("--actor", default=None, help="Who deploys (recorded on new versions).")
def deploy(paths, comment, actor):
    """Deploy BPMN/DMN files or directories; unchanged processes keep their version."""
    from engine.usecases.lanes import apply_lane_files, lane_table
    from engine.usecases.deploy import read_paths
    from engine.usecases.processes import deploy_bundle
    svc = cli_services()
    files = read_paths(paths)
    if not files:
        click.echo(f"no .bpmn or .dmn files in {', '.join(paths)}; nothing deployed")
    try:
        # The lanes.json deployed with the files maps their lanes (it is applied once the deploy succeeds).
        results = deploy_bundle(svc, cli_principal(actor or os.environ.get("USER")), files, comment,
                                lanes=lane_table(paths)) if files else []
    except SpecInvalid as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    for r in results:
        click.echo(f"{r.process_key}: version {r.version} {'(new)' if r.created else '(unchanged)'}")
    if results:  # what the office rules only warn about on this path (an unmapped lane, a task without a form)
        from engine.usecases.office_rules import bundle_rules
        from engine.language.specs import parse_bundle
        for problem in bundle_rules(svc, parse_bundle(files).files, lane_table(paths)):
            click.echo(f"{problem.severity}: {problem}", err=True)
    for lane, group in apply_lane_files(svc, paths):
        click.echo(f"lane '{lane}' -> group '{group}'")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths):
    """Parse and lint BPMN/DMN without deploying; one line per problem, exit 1 if any."""
    from engine.language.folders import validate_paths
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
    from engine.accounts.users import create_user, random_password
    generated = password is None
    password = password or random_password()
    create_user(cli_services(), cli_principal(), username, role, password, display_name=display_name, email=email,
                groups=list(groups))
    click.echo(f"user {username} ({role}) created" + (f"; password: {password}" if generated else ""))


@main.command("demo-users")
def demo_users():
    """Create or reset the demo accounts and print their password; create the office's usual institutions (with
    placeholder e-mail addresses) that do not exist yet."""
    from engine.accounts.users import add_user, random_password
    from engine.usecases.institution_records import DEMO_INSTITUTIONS, seed_institutions
    password = os.environ.get("EXPEDIENTE_DEMO_PASSWORD") or random_password()
    svc = cli_services()
    for username, role, name, groups in DEMO_USERS:
        add_user(svc, username, role, password, display_name=name, groups=groups, replace=True)
    click.echo("demo users (password for all: %s):" % password)
    for username, role, _name, groups in DEMO_USERS:
        click.echo(f"  {username:<12} {role:<10} {', '.join(groups)}")
    created = seed_institutions(svc)
    click.echo(f"institutions: {', '.join(key for key, *_rest in DEMO_INSTITUTIONS)} "
               f"({len(created)} new; e-mail addresses are placeholders at example.org)")


@main.command("demo-certificate")
@click.argument("directory", type=click.Path(file_okay=False), default="var/firma")
def demo_certificate(directory):
    """Create (once) a demo signing certificate, its key and its demo authority in DIRECTORY, and say so."""
    from pathlib import Path
    from engine.documents.signing import make_demo_certificate
    existed = (Path(directory) / "firma-demo.crt.pem").exists()
    cert, key, chain = make_demo_certificate(Path(directory))
    click.echo(f"{'demo signing certificate kept' if existed else 'demo signing certificate created'}: {cert} "
               f"(key {key}, authority {chain}); documents are signed with it — a DEMO, not the office's")


@main.command()
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option("--until-idle", is_flag=True, help="Run passes until one finds nothing to do, then exit.")
def scheduler(once, until_idle):
    """Fire due timers, send deadline alerts and queued mail every few seconds (several may run at once)."""
    import signal
    from dataclasses import asdict
    from engine.ops.scheduler import (
        SchedulerSettings, build_scheduler, log_to_stderr, run_pass, run_until_idle, stop_cleanly,
    )
    from engine.ops.backup import BackupSettings
    from engine.services import build_services
    log_to_stderr()
    # Firing timers and sending mail validate no forms: not loading them saves most of the start-up.
    svc = build_services(Settings.from_env(), forms=None)
    settings = SchedulerSettings.from_env()
    if once or until_idle:
        result = run_pass(svc, settings) if once else run_until_idle(svc, settings)
        click.echo(json.dumps(asdict(result)))
        return
    jobs = build_scheduler(svc, settings, blocking=True, backups=BackupSettings.from_env())
    # A stop lets the running pass finish its batch; a kill loses only that batch's uncommitted work.
    signal.signal(signal.SIGTERM, lambda *_: stop_cleanly(jobs))
    click.echo(f"scheduler: a pass every {settings.interval_seconds:g} s (Ctrl+C or SIGTERM stops it)")
    try:
        jobs.start()
    except (KeyboardInterrupt, SystemExit):
        stop_cleanly(jobs)


@main.group()
def closure():
    """Days the office is closed (not working days for deadlines computed after)."""


@closure.command("add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("description")
@click.option("--actor", default=None, help="Who declares it (recorded).")
def closure_add(day, description, actor):
    """Declare DAY (YYYY-MM-DD) a closure day, with its reason."""
    from engine.usecases.closures import add_closure
    add_closure(cli_services(), cli_principal(actor or os.environ.get("USER")), day.date(), description)
    click.echo(f"{day.date().isoformat()}: {description}")


@closure.command("remove")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def closure_remove(day):
    """Reopen DAY; deadlines already computed keep their dates."""
    from engine.usecases.closures import remove_closure
    remove_closure(cli_services(), cli_principal(), day.date())
    click.echo(f"{day.date().isoformat()} is a working day again")


@closure.command("list")
@click.option("--year", type=int, default=None)
def closure_list(year):
    """List closure days."""
    from engine.usecases.closures import list_closures
    for row in list_closures(cli_services(), cli_principal(), year):
        click.echo(f"{row['day'].isoformat()}  {row['description']}")


from engine.cli.cases import case  # noqa: E402 (command groups of their own modules)
from engine.cli.audit import audit  # noqa: E402

main.add_command(case)
main.add_command(audit)

from engine.cli.backup import COMMANDS as BACKUP_COMMANDS  # noqa: E402

for _command in BACKUP_COMMANDS:
    main.add_command(_command)


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
