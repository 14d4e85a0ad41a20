"""`expediente audit verify | checkpoint | public-key` (registered on engine.cli.audit.audit)."""
from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from engine.cli import cli_services
from engine.cli.audit import audit


@contextmanager
def _services():
    """The configured services, their connections closed when the command is done."""
    svc = cli_services()
    try:
        yield svc
    finally:
        svc.db.dispose()


def _public_key(svc, given: str | None):
    """The key to verify with: a file or a one-line "ed25519 <b64>" text, else the office key's public half."""
    from engine.integrity import keys
    if not given:
        return keys.office_key(svc.settings).public_key()
    path = Path(given)
    try:
        return keys.load_public(path.read_text("utf-8") if path.is_file() else given)
    except keys.AuditKeyError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from exc


@audit.command()
@click.option("--public-key", "public_key", default=None, metavar="FILE_OR_TEXT",
              help='The office\'s public key (PEM file, or "ed25519 <base64>"); default: the office key\'s.')
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A checkpoint note kept outside the database to check too (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(public_key, checkpoints, as_json):
    """Recompute every hash, chain and checkpoint of the history; exit 1 naming the first disagreement."""
    from engine.audit.verify import verify_and_record
    notes = [Path(p).read_text("utf-8") for p in checkpoints]
    with _services() as svc:
        report = verify_and_record(svc, _public_key(svc, public_key), os.environ.get("USER"), external_notes=notes)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.summary())
        for problem in report.problems[1:]:
            click.echo(f"  {problem}")
    sys.exit(0 if report.ok else 1)


@audit.command()
@click.option("--force", is_flag=True, help="Sign a new checkpoint even when no event was added since the last.")
def checkpoint(force):
    """Sign a checkpoint of every event so far with the office key and print its note."""
    from engine.audit.checkpoints import create_checkpoint
    with _services() as svc:
        row = create_checkpoint(svc, os.environ.get("USER"), force=force)
    click.echo(row["note"], nl=False)


@audit.command("public-key")
@click.option("--pem", is_flag=True, help="Print it as a PEM instead of one line.")
def public_key_command(pem):
    """Print the office key's public half, for whoever verifies checkpoints and exports."""
    from engine.integrity import keys
    with _services() as svc:
        public = keys.office_key(svc.settings).public_key()
    click.echo(keys.public_pem(public) if pem else keys.public_text(public), nl=not pem)
