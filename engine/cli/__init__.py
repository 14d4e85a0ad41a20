"""The `expediente` command line (engine.cli.main), and the principal its commands act as."""
from __future__ import annotations

from engine.accounts.permissions import ADMIN, Principal


def cli_principal(actor: str | None = None) -> Principal:
    """Whoever runs the command line: the office's administrator, recorded under `actor` (or as no one)."""
    return Principal(user_id=0, username=actor, role=ADMIN)
