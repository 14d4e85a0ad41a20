"""The `expediente` command line (engine.cli.main): the services its commands use and the principal they act as."""
from __future__ import annotations

from engine.accounts.permissions import ADMIN, Principal


def cli_principal(actor: str | None = None) -> Principal:
    """Whoever runs the command line: the office's administrator, recorded under `actor` (or as no one)."""
    return Principal(user_id=0, username=actor, role=ADMIN)


def cli_services():
    """The services the environment configures (EXPEDIENTE_*), imported only when a command needs them."""
    from engine.config import Settings
    from engine.services import build_services
    return build_services(Settings.from_env())
