"""A script worker process: `python -m engine.sandbox.worker READ_FD WRITE_FD MEMORY_BYTES`.

Started by engine.sandbox.pool with a clean interpreter (no Flask, no database, no secrets in its environment,
no file descriptors but its two pipes), it answers one request at a time until its parent closes the pipe.
Its address space is limited (RLIMIT_AS), so a script's huge allocation is a MemoryError here; its CPU time
per request is limited too (RLIMIT_CPU), a backstop should its parent die while a script runs in C.
"""
from __future__ import annotations

import os
import pickle
import resource
import signal
import sys
from datetime import date
from multiprocessing.connection import Connection

from engine.sandbox import executor as sandbox_exec
from engine.timekeeping.calendar import WorkingCalendar
from engine.errors import ScriptError
from engine.sandbox.wire import decode_error, dumps, encode_error

# CPU seconds a request may use beyond its time limit before the kernel stops this process. The parent kills
# a worker far sooner (limit + a fraction of a second); this only matters if the parent is gone.
CPU_BACKSTOP_SECONDS = 10


class Channel:
    """The worker's side of the pipe: a helper that lives in the parent is called through it."""

    def __init__(self, incoming: Connection, outgoing: Connection):
        self.incoming, self.outgoing = incoming, outgoing

    def call(self, name: str, args: tuple, kwargs: dict):
        self.outgoing.send_bytes(dumps(("call", name, args, kwargs)))
        reply = pickle.loads(self.incoming.recv_bytes())  # from the parent: trusted
        if reply[0] == "ret":
            return reply[1]
        raise decode_error(reply[1])


def _warm_up() -> None:
    """Load what the first script would otherwise load inside its time limit (the holidays of this year)."""
    WorkingCalendar().is_working_day(date.today())
    sandbox_exec.run({"source": "x = 1", "mode": "exec", "context": pickle.dumps({}), "external": {},
                      "limit": 60.0, "office": None, "callbacks": (), "constants": {}}, None)


def _cpu_backstop(limit_seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = int(used + limit_seconds + CPU_BACKSTOP_SECONDS) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))


def main(argv: list[str]) -> None:
    read_fd, write_fd, memory_bytes = (int(a) for a in argv[:3])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server; it closes our pipe when it stops
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    incoming, outgoing = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    _warm_up()
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    outgoing.send_bytes(dumps(("ready", os.getpid())))
    channel = Channel(incoming, outgoing)
    while True:
        try:
            request = pickle.loads(incoming.recv_bytes())
        except EOFError:
            return
        _cpu_backstop(request["limit"])
        reply = sandbox_exec.run(request, channel)
        try:
            blob = dumps(reply)
        except MemoryError:
            blob = dumps(("memory",))
        except Exception as exc:  # noqa: BLE001 - a value pickle cannot write
            blob = dumps(("error", encode_error(ScriptError(f"the script's result cannot be passed back: {exc}"),
                                                None)))
        del reply
        outgoing.send_bytes(blob)


if __name__ == "__main__":
    main(sys.argv[1:])
