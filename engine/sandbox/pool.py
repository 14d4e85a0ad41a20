"""Script worker processes: where sandboxed code runs, under a wall-clock limit enforced from outside.

A `sys.settrace` time limit cannot stop work inside C code (a backtracking regex, `hash()` of a huge tuple,
strftime with huge widths), and that work holds the GIL: one script froze every request and the scheduler. So
every script and expression runs in a worker process (engine.sandbox.worker). This process sends the request
and waits on the pipe until the script's limit plus KILL_MARGIN_SECONDS; waiting releases the GIL, so other
requests and the scheduler run on. When the deadline passes it kills the worker (SIGKILL), raises
ScriptTimeout, and a replacement starts at once in the background.

A pool belongs to the process that made it: after a fork (gunicorn loads the app, then forks its workers) the
child forgets the parent's workers and starts its own. Workers start lazily, at most `size` per process, and
are killed at exit. A script checks out a worker of its own for its whole run; other threads wait for one.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from pathlib import Path

from engine.errors import ScriptError, ScriptTimeout
from engine.sandbox.wire import loads_reply

DEFAULT_WORKERS = 2
DEFAULT_MEMORY_BYTES = 512 * 2**20
# Beyond the script's own limit: the worker's tracer stops Python-level loops at the limit itself (and answers),
# so the margin only covers passing the data both ways on a loaded machine before the kill.
KILL_MARGIN_SECONDS = 0.5
START_TIMEOUT_SECONDS = 60  # a worker imports the sandbox and the holidays: well under a second, unless loaded
MAX_REPLY_BYTES = 16 * 2**20  # what a script may send back is checked to be far smaller (engine.values)
_ROOT = Path(__file__).resolve().parent.parent
# The worker's environment: no database URL, SMTP password or secret key, should a script ever get past the
# first wall. Locale and timezone stay, so strftime() and datetime.now() in scripts are as before.
_ENV_KEPT = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_TIME", "TZ", "TMPDIR", "SYSTEMROOT",
             "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")


def _worker_env() -> dict:
    env = {k: os.environ[k] for k in _ENV_KEPT if k in os.environ}
    env["PYTHONPATH"] = str(_ROOT)
    return env


class Worker:
    """One worker process and the two ends of its pipes."""

    def __init__(self, memory_bytes: int):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-s", "-m", "engine.sandbox.worker", str(to_child_r), str(from_child_w),
                 str(memory_bytes)], pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=_worker_env(), cwd=_ROOT, start_new_session=True)
        except BaseException:
            os.close(to_child_w)
            os.close(from_child_r)
            raise
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.outgoing = Connection(to_child_w, readable=False)
        self.incoming = Connection(from_child_r, writable=False)
        self.office_versions: set[int] = set()  # helper data this worker was sent (engine.sandbox.restricted)

    def wait_ready(self, timeout: float) -> None:
        try:
            if not self.incoming.poll(timeout):
                raise ScriptError(f"a script worker did not start within {timeout:g} s")
            reply = loads_reply(self.incoming.recv_bytes(1024))
        except (EOFError, OSError):
            raise ScriptError(f"a script worker could not start (exit code {self.process.poll()})") from None
        if reply[0] != "ready":
            raise ScriptError("a script worker answered nonsense at start")

    def kill(self) -> int | None:
        """Kill the process (SIGKILL) and return its exit code."""
        with suppress(OSError):
            self.process.kill()
        self.close()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        return self.process.returncode

    def close(self) -> None:
        for conn in (self.outgoing, self.incoming):
            with suppress(OSError):
                conn.close()


class WorkerPool:
    """At most `size` workers of this process; `run` gives a request one of its own."""

    def __init__(self, size: int, memory_bytes: int):
        self.size = max(1, int(size))
        self.memory_bytes = int(memory_bytes)
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._count = 0  # started or starting
        self._closed = False
        self.kills = 0  # workers killed because a script ran over its time (for tests and the benchmark)

    def run(self, build: Callable[[Worker, bool], bytes], limit: float, on_call: Callable[[tuple], bytes]) -> tuple:
        """Send `build(worker, with_payload)` to a worker and return its reply (an "ok" or "error" tuple).

        A reply ("call", ...) asks this process to run a helper: `on_call` answers it. A reply ("need_office",)
        asks for the helpers' data: the request is sent again with it. Raises ScriptTimeout after
        `limit` + KILL_MARGIN_SECONDS (the worker is killed), ScriptError if the worker fails or runs out of
        memory.
        """
        worker = self._checkout()
        try:
            request = build(worker, False)
        except BaseException:
            self._checkin(worker)
            raise
        deadline = time.monotonic() + limit + KILL_MARGIN_SECONDS
        try:
            worker.outgoing.send_bytes(request)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not worker.incoming.poll(remaining):
                    reply = ("timeout",)
                    break
                reply = loads_reply(worker.incoming.recv_bytes(MAX_REPLY_BYTES))
                if reply[0] == "call":
                    worker.outgoing.send_bytes(on_call(reply))
                elif reply[0] == "need_office":
                    worker.outgoing.send_bytes(build(worker, True))
                else:
                    break
        except BaseException as exc:
            code = self._discard(worker)
            if isinstance(exc, ScriptError) or not isinstance(exc, Exception):
                raise
            # EOF (the worker died), a reply too long or not plain data
            raise ScriptError(f"the script's worker process failed ({type(exc).__name__}; exit code {code})") \
                from None
        if reply[0] == "timeout":
            self.kills += 1
            self._discard(worker)
            raise ScriptTimeout(f"script exceeded the time limit of {limit:g} s", limit_seconds=limit)
        if reply[0] == "memory":
            self._discard(worker)
            raise ScriptError(f"the script ran out of memory (the limit is {self.memory_bytes // 2**20} MiB)")
        self._checkin(worker)
        return reply

    def busy(self) -> int:
        """Workers running a script (or starting) now."""
        with self._cond:
            return self._count - len(self._idle)

    def _checkout(self) -> Worker:
        while True:
            with self._cond:
                while not self._idle and self._count >= self.size:
                    self._cond.wait()
                if not self._idle:
                    self._count += 1
                    break
                worker = self._idle.pop()
            if worker.process.poll() is None:
                return worker
            self._discard(worker, replace=False)  # died while idle (killed from outside): take another
        return self._start()

    def _start(self) -> Worker:
        try:
            worker = Worker(self.memory_bytes)
        except BaseException:
            self._release()
            raise
        with self._cond:
            self._all.add(worker)
        try:
            worker.wait_ready(START_TIMEOUT_SECONDS)
        except BaseException:
            self._discard(worker)
            raise
        return worker

    def _checkin(self, worker: Worker) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
        self._discard(worker, replace=False)

    def _release(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def _discard(self, worker: Worker, replace: bool = True) -> int | None:
        code = worker.kill()
        with self._cond:
            self._all.discard(worker)
            replace = replace and not self._closed
        self._release()
        if replace:  # start the next one now, so the next script does not wait for it
            threading.Thread(target=self._prestart, name="script-worker-start", daemon=True).start()
        return code

    def _prestart(self) -> None:
        with self._cond:
            if self._closed or self._idle or self._count >= self.size:
                return
            self._count += 1
        try:
            worker = self._start()
        except Exception:  # noqa: BLE001 - the next script will try again, and report it
            return
        self._checkin(worker)

    def close(self) -> None:
        """Kill every worker; scripts still running get ScriptError."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
        for worker in workers:
            worker.kill()

    def abandon(self) -> None:
        """In a forked child: let go of the parent's workers (close our copies of their pipes, kill nothing)."""
        for worker in list(self._all):
            worker.close()


_lock = threading.Lock()
_pools: dict[tuple[int, int], WorkerPool] = {}
_pid = os.getpid()


def get_pool(size: int = DEFAULT_WORKERS, memory_bytes: int = DEFAULT_MEMORY_BYTES) -> WorkerPool:
    """This process's pool for these settings."""
    if os.getpid() != _pid:  # forked without our hook (it runs for os.fork(), so this is belt and braces)
        _forget_parent_pools()
    with _lock:
        pool = _pools.get((size, memory_bytes))
        if pool is None:
            pool = _pools[(size, memory_bytes)] = WorkerPool(size, memory_bytes)
        return pool


def _forget_parent_pools() -> None:
    global _lock, _pid
    _lock, _pid = threading.Lock(), os.getpid()
    for pool in _pools.values():
        pool.abandon()
    _pools.clear()


def shutdown() -> None:
    """Kill the workers of this process (at exit)."""
    if os.getpid() != _pid:
        return
    for pool in list(_pools.values()):
        pool.close()


os.register_at_fork(after_in_child=_forget_parent_pools)
atexit.register(shutdown)
