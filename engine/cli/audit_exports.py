"""`expediente audit export | verify-export` (registered on engine.cli.audit.audit).

`verify-export` needs no database: only the ZIP and the office's public key (by default the public half of the
key file EXPEDIENTE_AUDIT_KEY names, which is read, never created here).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from engine.cli import cli_principal, cli_services
from engine.cli.audit import audit


def _attachments_dir() -> Path:
    """Where the web app keeps attachments: EXPEDIENTE_ATTACHMENTS_DIR, else EXPEDIENTE_VAR_DIR/attachments."""
    from engine.config import PROJECT_ROOT
    given = os.environ.get("EXPEDIENTE_ATTACHMENTS_DIR")
    return Path(given) if given else Path(os.environ.get("EXPEDIENTE_VAR_DIR") or PROJECT_ROOT / "var") / "attachments"


def _case_id(svc, number_or_id: str) -> int:
    from sqlalchemy import select
    from engine.storage import models
    c = models.cases
    with svc.uow(write=False) as uow:
        found = uow.conn.execute(select(c.c.id).where(c.c.number == number_or_id)).scalar()
    if found is None and number_or_id.isdigit():
        found = int(number_or_id)
    if found is None:
        raise click.BadParameter(f"no hay expediente {number_or_id}", param_hint="CASE")
    return found


@audit.command("export")
@click.argument("case")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Where to write the ZIP (default: auditoria-<number>.zip here; '-' for standard output).")
@click.option("--attachments", "attachments_dir", type=click.Path(file_okay=False), default=None,
              help="The attachments folder (default: EXPEDIENTE_ATTACHMENTS_DIR or var/attachments).")
def export_command(case, output, attachments_dir):
    """Export CASE (its number or id) for audit: a ZIP with proofs that verify offline."""
    from engine.audit.export import export_case
    from engine.errors import ExpedienteError
    from engine.usecases.attachments import AttachmentStore
    svc = cli_services()
    case_id = _case_id(svc, case)
    store = AttachmentStore(Path(attachments_dir) if attachments_dir else _attachments_dir())
    target = Path(output) if output and output != "-" else None
    partial = None
    try:
        if output == "-":
            result = export_case(svc, cli_principal(os.environ.get("USER")), store, case_id, sys.stdout.buffer)
        else:
            partial = Path(f"{target}.part") if target else Path(f"auditoria-{case_id}.zip.part")
            with open(partial, "wb") as out:
                result = export_case(svc, cli_principal(os.environ.get("USER")), store, case_id, out)
            target = target or Path(result["filename"])
            partial.replace(target)
    except ExpedienteError as exc:
        if partial is not None:
            partial.unlink(missing_ok=True)
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(f"{target or '-'}: {result['bytes']} bytes, sha256 {result['sha256']}; {result['events']} eventos, "
               f"{result['documents']} documentos, {result['attachments']} anexos",
               err=output == "-")


def _verifying_key(given: str | None):
    from engine.config import Settings
    from engine.integrity import keys
    if given:
        path = Path(given)
        text = path.read_text("utf-8") if path.is_file() else given
    else:
        path = keys.key_path(Settings.from_env())
        if not path.is_file():
            raise click.BadParameter(f"no hay llave en {path}; indique --public-key", param_hint="--public-key")
        text = path.read_text("utf-8")
    try:
        return keys.load_public(text)
    except keys.AuditKeyError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from exc


@audit.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--public-key", "public_key", default=None, metavar="FILE_OR_TEXT",
              help='The office\'s public key (PEM file, or "ed25519 <base64>"); default: the office key\'s.')
def verify_export_command(file, public_key):
    """Check a case export offline (no database): signatures, hashes, chains and Merkle proofs; exit 0 only
    when everything holds."""
    from engine.audit.verify_export import verify_export
    report = verify_export(file, _verifying_key(public_key))
    click.echo(f"Expediente {report.case_number or '?'} (llave {report.key_id}): {report.files} archivos, "
               f"{report.events} eventos, {report.checkpoints} puntos de control (árbol de {report.tree_size}), "
               f"{report.documents} documentos, {report.attachments} anexos")
    for name in report.unrecorded:
        click.echo(f"  sin evento que lo registre (comprobado por el manifiesto firmado): {name}")
    if report.ok:
        click.echo("VERIFICADO: todo coincide.")
        sys.exit(0)
    where = ", ".join(p for p in (report.file and f"archivo {report.file}",
                                  report.seq is not None and f"evento {report.seq}",
                                  report.case_seq is not None and f"n.º {report.case_seq} del expediente") if p)
    click.echo(f"FALLA{' (' + where + ')' if where else ''}: {report.problem}", err=True)
    sys.exit(1)
