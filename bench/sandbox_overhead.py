"""What the script sandbox costs the office's helpers: each helper called plainly and from a sandboxed script.

Warm rows: the helper called REPEAT times in a loop, plainly and by one sandboxed script (the same loop under
RestrictedPython, its guards and the time-limit tracer, in a script worker where the helpers are rebuilt), medians
of SAMPLES runs; "sandboxed" is that script less the same script without the calls (the script's own cost and the
worker's round trip, shown apart), so the ratio compares the helper calls alone. The cold row is the first helper
call of a fresh process: plainly, the holidays package is imported and computes the year inside the helper; in
the sandbox, a fresh worker (which loads this year's holidays as it starts) after its first script (whole script,
median of COLD_SAMPLES processes). "old tracer" is the plain
loop under a tracer that follows every frame line by line, as the sandbox did before helpers ran untraced.
Target (issue 11): add_working_days over a year, sandboxed, within 3x of plain; other rows are for reference
(a helper of a microsecond is dominated by the wrapper's fixed cost per call, shown as "+us/call").
Last line: JSON with plain_ms, sandboxed_ms and ratio per row, and whether the target is met.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.timekeeping.calendar import WorkingCalendar, script_helpers  # noqa: E402
from engine.sandbox.restricted import RestrictedEnvironment  # noqa: E402
from engine.sandbox.helpers import OfficeHelpers  # noqa: E402

SAMPLES = 15
COLD_SAMPLES = 5
REPEAT = 20
TARGET_RATIO = 3.0
LIMIT_SECONDS = 600.0  # out of reach: this measures cost, not the limit
CALLS = {  # row -> helper, arguments
    "add_working_days, 250 days (a year)": ("add_working_days", ("2026-01-05", 250)),
    "working_days_between, one year": ("working_days_between", ("2026-01-01", "2026-12-31")),
    "working_deadline, 10 days + cut-off": ("working_deadline", ("2026-03-20T17:00:00", 10, True)),
    "is_working_day": ("is_working_day", ("2026-04-03",)),
}
COLD = """
import sys, time
sys.path.insert(0, {root!r})
from datetime import datetime, timezone
from engine.timekeeping.calendar import WorkingCalendar, script_helpers
from engine.sandbox.restricted import RestrictedEnvironment
from engine.sandbox.helpers import OfficeHelpers
calendar = WorkingCalendar()
helpers = script_helpers(calendar)
env = RestrictedEnvironment(OfficeHelpers(lambda: calendar, {{}}, lambda: datetime.now(timezone.utc)), {limit})
if {mode!r} == "sandboxed":
    env.execute("x = 1", {{}})  # the worker started (it loads the holidays of this year as it starts)
def old_tracer(frame, event, arg):
    time.monotonic()
    return old_tracer
t0 = time.perf_counter()
if {mode!r} == "sandboxed":
    env.execute("due = add_working_days('2026-01-05', 250)", {{}})
else:
    sys.settrace(old_tracer if {mode!r} == "old" else None)
    helpers["add_working_days"]("2026-01-05", 250)
    sys.settrace(None)
print((time.perf_counter() - t0) * 1000)
"""


def old_tracer(frame, event, arg):
    """The sandbox's tracer before this change: a deadline check on every call and every line, everywhere."""
    time.monotonic()
    return old_tracer


def median_ms(run) -> float:
    run()  # warm up: compile cache, holidays of the year
    samples = []
    for _ in range(SAMPLES):
        t0 = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def warm_row(helpers: dict, env: RestrictedEnvironment, helper: str, args: tuple) -> tuple:
    fn = helpers[helper]

    def plain():
        for _ in range(REPEAT):
            fn(*args)

    def traced():
        sys.settrace(old_tracer)
        try:
            plain()
        finally:
            sys.settrace(None)

    script = f"for i in range({REPEAT}):\n    due = {helper}({', '.join(map(repr, args))})"
    empty = f"for i in range({REPEAT}):\n    due = [{', '.join(map(repr, args))}]"
    whole, own = median_ms(lambda: env.execute(script, {})), median_ms(lambda: env.execute(empty, {}))
    return median_ms(plain), max(whole - own, 0.0), own, median_ms(traced)


def cold_ms(mode: str) -> float:
    code = COLD.format(root=str(ROOT), limit=LIMIT_SECONDS, mode=mode)
    runs = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                 text=True).stdout) for _ in range(COLD_SAMPLES)]
    return statistics.median(runs)


def main() -> None:
    calendar = WorkingCalendar()
    helpers = script_helpers(calendar)
    env = RestrictedEnvironment(OfficeHelpers(lambda: calendar, {}, lambda: datetime.now(timezone.utc)),
                                LIMIT_SECONDS)
    rows = {}  # name -> plain, sandboxed, script's own cost, old tracer, under the target
    for name, (helper, args) in CALLS.items():
        rows[f"{name} x{REPEAT}"] = (*warm_row(helpers, env, helper, args), helper == "add_working_days")
    rows["add_working_days, a year, first call in a process"] = (
        cold_ms("plain"), cold_ms("sandboxed"), None, cold_ms("old"), True)

    print(f"helpers called plainly and from a sandboxed script; medians of {SAMPLES} runs "
          f"({COLD_SAMPLES} processes for the first call); target: sandboxed <= {TARGET_RATIO:g}x plain")
    print(f"{'helper':<50}{'plain ms':>10}{'sandboxed ms':>14}{'script ms':>11}{'ratio':>8}{'+us/call':>10}"
          f"{'old tracer ms':>15}  target met")
    out = {}
    for name, (plain, sandboxed, own, traced, targeted) in rows.items():
        ratio = sandboxed / plain
        per_call = f"{(sandboxed - plain) * 1000 / REPEAT:>10.1f}" if own is not None else f"{'-':>10}"
        own_text = f"{own:>11.3f}" if own is not None else f"{'-':>11}"
        old = f"{traced:>15.2f}" if traced is not None else f"{'-':>15}"
        met = ("yes" if ratio <= TARGET_RATIO else "NO") if targeted else "-"
        print(f"{name:<50}{plain:>10.3f}{sandboxed:>14.3f}{own_text}{ratio:>8.2f}{per_call}{old}  {met}")
        out[name] = {"plain_ms": round(plain, 3), "sandboxed_ms": round(sandboxed, 3), "ratio": round(ratio, 2)}
        if traced is not None:
            out[name]["old_tracer_ms"] = round(traced, 3)
    met = all(out[name]["ratio"] <= TARGET_RATIO for name, row in rows.items() if row[-1])
    print(json.dumps({"rows": out, "target_ratio": TARGET_RATIO, "target_met": met}, ensure_ascii=False))


if __name__ == "__main__":
    main()
