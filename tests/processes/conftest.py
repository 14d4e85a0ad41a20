"""Fixtures shared by the procedure walks."""
from __future__ import annotations

import pytest

from tests.processes.driver import office


@pytest.fixture
def svc(sqlite_url, clock):
    """The whole office (every procedure deployed, real forms) on a fresh SQLite file."""
    services = office(sqlite_url, clock)
    yield services
    services.db.dispose()
