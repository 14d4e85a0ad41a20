"""`expediente audit ...`: the tamper-evident history from the command line (docs/audit.md).

The commands live in two modules of their own: engine.cli.audit_checks (verify, checkpoint, public-key) and
engine.cli.audit_exports (export, verify-export); both add themselves to this group.
"""
from __future__ import annotations

import click


@click.group()
def audit():
    """Verify the history's chains and checkpoints, sign checkpoints, export and check case proofs."""


from engine.cli import audit_checks, audit_exports  # noqa: E402,F401 (they register their commands on `audit`)
