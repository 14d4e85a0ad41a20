"""Waiting in tests without a wall-clock bound: poll a condition with a generous deadline; a free local port."""
from __future__ import annotations

import socket
import time

import pytest

PATIENCE_SECONDS = 120.0  # generous: the suite must pass on a loaded machine; nothing here measures speed


def wait_until(condition, what: str, seconds: float = PATIENCE_SECONDS, interval: float = 0.02):
    """Return `condition()`'s first truthy value, polling; fail the test naming `what` past the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
