"""`expediente audit verify | checkpoint | public-key` (registered on engine.cli.audit.audit)."""
from __future__ import annotations
