"""Run the web server and the scheduler as child processes: restart a scheduler that dies, stop both cleanly.

A stop (SIGTERM, SIGINT or Ctrl+C) is passed on as SIGTERM: the web server finishes the requests in flight and
the scheduler the batch in hand. Children run in their own session, so a terminal's Ctrl+C reaches only us and
every stop is the graceful one.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STOP_DEADLINE_SECONDS = 30.0       # the whole stop, children included, must end within this
KILL_MARGIN_SECONDS = 2.0          # left for killing what has not stopped by then
RESTART_DELAYS_SECONDS = (1, 2, 5, 10, 30, 60)
STEADY_AFTER_SECONDS = 60.0        # a child up this long is healthy again: its next restart is quick
POLL_SECONDS = 0.2
# Set in the children's environment: each asks Linux for SIGTERM should the supervisor die without stopping
# them (SIGKILL, the OOM killer), so no orphan keeps the port or fires timers.
STOP_WITH_PARENT_ENV = "EXPEDIENTE_STOP_WITH_PARENT"


def stop_with_parent() -> None:
    """Ask Linux for SIGTERM when this process's parent exits (prctl PR_SET_PDEATHSIG); elsewhere do nothing."""
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Child:
    """One supervised command; `restart` children come back when they die, the others end the supervisor."""

    name: str
    argv: list[str]
    restart: bool = False
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    env: dict | None = field(default=None, repr=False)

    def start(self) -> None:
        env = {**(self.env if self.env is not None else os.environ), STOP_WITH_PARENT_ENV: "1"}
        self.proc = subprocess.Popen(self.argv, env=env, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("%s started (pid %d)", self.name, self.proc.pid)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Start the children, watch them, and stop them all on a signal or when a vital child exits."""

    def __init__(self, children: list[Child], stop_deadline_seconds: float = STOP_DEADLINE_SECONDS):
        self.children = children
        self.stop_deadline_seconds = stop_deadline_seconds
        self._stop_requested = False
        self.exit_code = 0

    def _request_stop(self, signum, _frame) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        self._stop_requested = True

    def run(self) -> int:
        """Supervise until asked to stop (exit 0 when every child stopped cleanly) or a vital child dies."""
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._request_stop)
        for child in self.children:
            child.start()
        while not self._stop_requested:
            self._watch()
            time.sleep(POLL_SECONDS)
        return self._stop_all()

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.alive:
                if child.failures and now - child.started_at > STEADY_AFTER_SECONDS:
                    child.failures = 0
                continue
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start()
                continue
            code = child.proc.returncode
            if not child.restart:
                log.error("%s exited (code %s); stopping everything", child.name, code)
                self.exit_code = code or 1
                self._stop_requested = True
                return
            delay = RESTART_DELAYS_SECONDS[min(child.failures, len(RESTART_DELAYS_SECONDS) - 1)]
            child.failures += 1
            child.restart_at = now + delay
            log.error("%s exited (code %s); restarting it in %d s", child.name, code, delay)

    def _stop_all(self) -> int:
        deadline = time.monotonic() + self.stop_deadline_seconds - KILL_MARGIN_SECONDS
        for child in self.children:
            if child.alive:
                child.proc.send_signal(signal.SIGTERM)
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("%s did not stop in time; killing it", child.name)
                child.proc.kill()
                child.proc.wait()
                self.exit_code = self.exit_code or 1
                continue
            code = child.proc.returncode
            if code not in (0, -signal.SIGTERM) and child.restart_at is None:
                log.error("%s stopped with code %s", child.name, code)
                self.exit_code = self.exit_code or 1
        return self.exit_code
