"""`expediente audit export | verify-export` (registered on engine.cli.audit.audit)."""
from __future__ import annotations
