"""`expediente case ...`: start and inspect cases from the command line."""
from __future__ import annotations

import json
import sys

import click

from engine.cli import cli_principal, cli_services
from engine.errors import ExpedienteError


@click.group()
def case():
    """Start and inspect cases."""


@case.command("start")
@click.argument("process_key")
@click.option("--data", "data_json", default="{}", help="Intake data as a JSON object (or @file.json).")
@click.option("--actor", default=None, help="Who files it (recorded in the history).")
def case_start(process_key, data_json, actor):
    """Start a case of PROCESS_KEY with its intake data; prints number, tracking code and first tasks."""
    from engine.usecases.cases import start_case
    if data_json.startswith("@"):
        with open(data_json[1:], encoding="utf-8") as handle:
            data_json = handle.read()
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as exc:
        click.echo(f"--data is not valid JSON: {exc}", err=True)
        sys.exit(2)
    try:
        started = start_case(cli_services(), cli_principal(actor), process_key, data)
    except ExpedienteError as exc:
        click.echo(f"{exc.message}", err=True)
        for problem in exc.details.get("errors") or []:
            click.echo(f"  {problem.get('field')}: {problem.get('message')}", err=True)
        sys.exit(1)
    click.echo(f"{started.number}  seguimiento {started.tracking_code}  estado {started.state}")
    for task in started.ready_tasks:
        click.echo(f"  tarea: {task['title']} ({task['element_id']})")


@case.command("show")
@click.argument("case_id", type=int)
def case_show(case_id):
    """Print a case's summary and history as JSON."""
    from engine.usecases.cases import case_history, get_case
    svc, operator = cli_services(), cli_principal()
    click.echo(json.dumps({"case": get_case(svc, operator, case_id), "history": case_history(svc, operator, case_id)},
                          ensure_ascii=False, indent=2, default=str))
