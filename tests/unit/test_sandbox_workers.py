"""Scripts run in worker processes (issue 12): what is killed, what comes back, what the workers know, and `re`
over RE2. No durations are asserted: only outcomes, and what ends before what."""
from __future__ import annotations

import os
import signal
import threading
import warnings
from datetime import date, datetime, timezone

import pytest

from engine.timekeeping.calendar import WorkingCalendar
from engine.errors import ScriptError, ScriptTimeout
from engine.sandbox.restricted import RestrictedEnvironment, check_script
from engine.sandbox.fast import FALLBACK, plan
from engine.sandbox.helpers import OfficeHelpers
from engine.sandbox.pool import _worker_env, get_pool
from engine.values import ValueRejected

SHORT_LIMIT = 1.0
PATIENCE_SECONDS = 60
HASH = "t = (0,) * 999999\nh = hash((t,) * 7000)"  # 7,000,000,000 hashes inside C: only a kill stops it


def env(limit: float = PATIENCE_SECONDS, **kwargs) -> RestrictedEnvironment:
    return RestrictedEnvironment(time_limit_seconds=limit, **kwargs)


# --- the hard wall -----------------------------------------------------------------------------------------

def test_c_level_work_is_stopped_by_killing_its_worker_and_the_next_script_runs():
    sandbox = env(SHORT_LIMIT)
    kills = sandbox.pool.kills
    with pytest.raises(ScriptTimeout) as info:
        sandbox.execute(HASH, {})
    assert info.value.details["limit_seconds"] == SHORT_LIMIT and sandbox.pool.kills == kills + 1
    data = {"n": 2}
    sandbox.execute("m = n * 2", data)
    assert data == {"n": 2, "m": 4}


def test_other_scripts_run_while_one_is_stuck_in_c():
    sandbox = env(SHORT_LIMIT * 5)
    out = {}

    def hostile():
        try:
            sandbox.execute(HASH, {})
        except ScriptTimeout as exc:
            out["error"] = exc

    thread = threading.Thread(target=hostile)
    thread.start()
    while sandbox.pool.busy() == 0 and thread.is_alive():
        thread.join(0.01)
    data = {"n": 21}
    sandbox.execute("m = n * 2", data)  # the pool's other worker
    assert thread.is_alive() and data["m"] == 42
    thread.join(PATIENCE_SECONDS)
    assert isinstance(out["error"], ScriptTimeout)


def test_a_huge_allocation_fails_inside_the_worker_with_a_clear_error():
    sandbox = env(memory_bytes=256 * 2**20)
    with pytest.raises(ScriptError, match="out of memory"):
        sandbox.execute("l = [[0] * 10**6 for i in range(10**4)]", {})
    data = {}
    sandbox.execute("x = 1", data)
    assert data == {"x": 1}


def test_a_worker_killed_while_idle_is_replaced_without_failing_a_script():
    sandbox = env(workers=1)
    sandbox.execute("x = 1", {})
    [worker] = sandbox.pool._idle
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(PATIENCE_SECONDS)
    data = {}
    sandbox.execute("x = 2", data)
    assert data == {"x": 2}


def test_workers_get_no_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXPEDIENTE_SECRET_KEY", "s3cret")
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", "postgresql://u:p@h/db")
    assert not [k for k in _worker_env() if k.startswith("EXPEDIENTE")]


def test_a_forked_child_starts_its_own_workers():
    sandbox = env()
    sandbox.execute("x = 1", {})
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child only runs this
        pid = os.fork()
    if pid == 0:  # the child: a new pool, not the parent's workers
        try:
            data = {}
            RestrictedEnvironment().execute("x = 7", data)
            os.write(write, b"ok" if data == {"x": 7} and get_pool()._all else b"no")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 2)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"ok"
    data = {}
    sandbox.execute("x = 2", data)
    assert data == {"x": 2}


# --- what comes back -----------------------------------------------------------------------------------------

def test_errors_come_back_as_their_own_types_with_the_script_line():
    with pytest.raises(NameError) as info:
        env().execute("x = 1\ny = missing", {})
    assert info.value._sandbox_line == 2
    with pytest.raises(ZeroDivisionError):
        env().evaluate("1 / zero", {"zero": 0})
    data = {"x": 1}
    env().execute("try:\n    y = int('x')\nexcept ValueError:\n    y = -1\ndel x", data)
    assert data == {"y": -1}


def test_a_script_that_fails_writes_nothing():
    data = {"a": [1]}
    with pytest.raises(ZeroDivisionError):
        env().execute("a.append(2)\nb = 1\nc = 1 / 0", data)
    assert data == {"a": [1]}


def test_what_a_script_writes_must_be_storable():
    with pytest.raises(ValueRejected) as info:
        env().execute("leak = [[0] * 100000] * 300", {})
    assert info.value.path == "data.leak"
    with pytest.raises(ValueRejected):
        env().execute("m = re.match('a', 'a')", {})


def test_an_expression_that_is_not_plain_data_keeps_its_truth_value():
    assert bool(env().evaluate("re.match('a', texto)", {"texto": "abc"})) is True
    assert env().evaluate("re.match('z', texto)", {"texto": "abc"}) is None


def test_helpers_of_this_process_are_called_back_with_plain_values():
    seen = []
    sandbox = RestrictedEnvironment({"keep": lambda *a: seen.append(a) or len(seen)}, PATIENCE_SECONDS)
    data = {}
    sandbox.execute("n = keep(1, 'a', (2, 3), {4}, datetime.date(2026, 1, 2))", data)
    assert data == {"n": 1} and seen == [(1, "a", (2, 3), {4}, date(2026, 1, 2))]


def test_office_helpers_are_rebuilt_in_the_worker_from_the_calendar_plazos_and_clock():
    calendar = WorkingCalendar()
    moment = datetime(2026, 4, 6, 15, 0, tzinfo=timezone.utc)
    sandbox = RestrictedEnvironment(OfficeHelpers(lambda: calendar, {"laip_dias": 10}, lambda: moment),
                                    PATIENCE_SECONDS)
    script = "ahora = now()\nabierto = is_working_day('2026-04-07')\ndias = plazo('laip_dias')"
    data = {}
    sandbox.execute(script, data)
    assert data == {"ahora": moment.isoformat(), "abierto": True, "dias": 10}
    calendar.closures = {date(2026, 4, 7): "Emergencia"}  # as engine.usecases.closures.refresh_calendar does
    moment = datetime(2026, 4, 7, 15, 0, tzinfo=timezone.utc)
    sandbox.execute(script, data)
    assert data == {"ahora": moment.isoformat(), "abierto": False, "dias": 10}


# --- the fast path -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, data", [
    ("estado == 'aprobado' and not urgente", {"estado": "aprobado", "urgente": False}),
    ("4 < monto <= 6 or monto is None", {"monto": 5}),
    ("tipo in ('a', 'b')", {"tipo": "b"}),
    ("-1 < x", {"x": 0.5}),
    ('"PT1H"', {}),
    ('["uno", "dos"]', {}),
    ("a or b", {"a": "", "b": 0}),
])
def test_comparisons_with_literals_are_evaluated_here_as_a_worker_would(expression, data):
    fast = plan(expression)
    assert fast is not None and fast(data, {}) is not FALLBACK
    assert fast(data, {}) == env().evaluate(f"[{expression}][0]", data)  # a subscript: through a worker


@pytest.mark.parametrize("expression, data", [
    ("lista == [1]", {"lista": [1]}),          # a name bound to a container
    ("x < 1", {"x": "a"}),                   # an error: the worker reports it
    ("missing == 1", {}),
    ("n > 1", {"n": 2 ** 20000}),
])
def test_anything_else_goes_to_a_worker(expression, data):
    fast = plan(expression)
    assert fast is None or fast(data, {}) is FALLBACK
    assert plan("len(x) > 1") is None and plan("x.y == 1") is None and plan("a + 1 == 2") is None


# --- re over RE2 -----------------------------------------------------------------------------------------------

def test_re_is_linear_and_keeps_python_s_api():
    data = {"texto": "a" * 9999 + "b", "nombre": "José Ñandú-López 42"}
    env().execute(
        "m = re.match('(a+)+$', texto) is None\n"
        "palabras = re.findall(r'\\w+', nombre)\n"
        "limpio = re.sub(r'[^\\w\\s]', '', nombre)\n"
        "digitos = re.sub(r'\\D', '', nombre)\n"
        "i = re.fullmatch('josé.*', nombre, re.IGNORECASE | re.DOTALL) is not None\n"
        "p = re.compile(r'(?P<n>\\d+)$')\n"
        "g = p.search(nombre).group('n')\n"
        "partes = re.split(r'\\s+', nombre, maxsplit=1)\n"
        "s = re.sub(r'(\\w+)-(\\w+)', r'\\2 \\1', nombre)\n"
        "lineas = re.findall('^x', 'x\\nx', re.M)\n"
        "del p", data)
    assert data["m"] is True
    assert data["palabras"] == ["José", "Ñandú", "López", "42"] and data["limpio"] == "José ÑandúLópez 42"
    assert data["digitos"] == "42" and data["i"] is True and data["g"] == "42"
    assert data["partes"] == ["José", "Ñandú-López 42"] and data["s"] == "José López Ñandú 42"
    assert data["lineas"] == ["x", "x"]


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)", r"(?<!a)b", r"(?P<x>a)(?P=x)"])
def test_patterns_re2_cannot_run_are_clear_errors_and_lint_errors(pattern):
    with pytest.raises(ScriptError, match="cannot be used"):
        env().execute("m = re.search(p, 'aa')", {"p": pattern})
    assert "cannot be used" in check_script(f"m = re.search({pattern!r}, texto)")


def test_verbose_patterns_are_refused():
    with pytest.raises(ScriptError, match="VERBOSE"):
        env().execute("m = re.match('a  # comment', 'a', re.X)", {})


def test_strftime_formats_are_bounded():
    for script in ("s = datetime.date(2026, 1, 1).strftime('%9999Y' * 150000)",
                   "f = '%Y' * 1000\ns = datetime.date.strftime(datetime.date(2026, 1, 1), f)"):
        with pytest.raises(ScriptError, match="strftime"):
            env().execute(script, {})
    data = {}
    env().execute("s = datetime.date(2026, 1, 5).strftime('%d/%m/%Y')", data)
    assert data == {"s": "05/01/2026"}
