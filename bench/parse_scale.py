"""Parse + lint time as a diagram grows: 500, 1,000, 2,000 and 6,000 user tasks in sequence.

The diagram is tests/bpmn_scale.py's: every task in a lane mapped to a group and with a form, grouped in stages
(sub-processes) of 100 tasks, as the engine asks of long procedures; it is accepted at every size. For each size:
the median of --samples runs of `specs.parse_bundle` (safety checks, schema validation, SpiffWorkflow's parser,
lint), every sample a different document (a comment added) so the parse cache never answers; the floor measured
in the same run, lxml parsing the same bytes alone; and the same tasks as one flat chain, the issue's diagram,
which SpiffWorkflow gives up on after about 490 steps in a row (refused with one problem) while lint still reads
every task. Growth: the time of each doubling (linear: 2x) and from 500 to 6,000 tasks (linear: 12x), also
normalised by size (linear: 1.0) and as the exponent of the size (linear: 1, quadratic: 2).
Wall and CPU time are both given: on a busy machine the wall time grows, the CPU time much less.
Last line: JSON with the medians, the growth and whether 6,000 tasks validate within the target (2 s, wall).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from engine.errors import SpecInvalid  # noqa: E402
from engine.language.specs import parse_bundle  # noqa: E402
from tests.bpmn_scale import sequence  # noqa: E402

SIZES = (500, 1_000, 2_000, 6_000)
TARGET_MS = 2_000


def variants(xml: bytes, samples: int):
    """The document with a different comment each time: new to the parse cache, as every real upload is."""
    for n in range(samples):
        yield xml.replace(b"</bpmn:definitions>", f"<!-- {n} {time.perf_counter_ns()} --></bpmn:definitions>".encode())


def median_ms(fn, xml: bytes, samples: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of fn on `samples` variants (CPU: what a busy machine inflates less)."""
    wall, cpu = [], []
    for variant in variants(xml, samples):
        gc.collect()  # no sample pays for the garbage of the one before
        t0, c0 = time.perf_counter(), time.process_time()
        fn(variant)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def growth(times: dict[int, float]) -> tuple[list[float], float, float]:
    """(time ratio of each doubling, ratio from the smallest size to the largest, exponent of the size)."""
    doublings = [times[b] / times[a] for a, b in zip(SIZES, SIZES[1:]) if b == 2 * a]
    total = times[SIZES[-1]] / times[SIZES[0]]
    return doublings, total, math.log(total) / math.log(SIZES[-1] / SIZES[0])


def validate(xml: bytes) -> list:
    """What a save or a deploy learns about the diagram: its problems (none when it is accepted)."""
    try:
        return list(parse_bundle({"secuencia.bpmn": xml}).warnings)
    except SpecInvalid as exc:
        return exc.problems


def lxml_alone(xml: bytes) -> None:
    etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    validate(sequence(10))  # warm up: imports, this thread's schema validator
    rows = []
    for tasks in SIZES:
        staged, flat = sequence(tasks), sequence(tasks, stage_tasks=None)
        problems = validate(staged)
        if problems:
            raise SystemExit(f"{tasks} tasks: the diagram should be accepted, but: {problems[:3]}")
        floor, _cpu = median_ms(lxml_alone, staged, args.samples)
        ms, cpu = median_ms(validate, staged, args.samples)
        flat_ms, _cpu = median_ms(validate, flat, args.samples)
        rows.append((tasks, len(staged), floor, ms, cpu, flat_ms))
    times = {tasks: ms for tasks, _size, _floor, ms, _cpu, _flat in rows}
    cpu_times = {tasks: cpu for tasks, _size, _floor, _ms, cpu, _flat in rows}
    scale = SIZES[-1] / SIZES[0]
    wall_growth, cpu_growth = growth(times), growth(cpu_times)
    print(f"parse + lint (specs.parse_bundle), median of {args.samples}; floor: lxml parsing the same bytes")
    print(f"{'tasks':>6}{'KB':>8}{'lxml ms':>10}{'parse+lint ms':>15}{'cpu ms':>9}{'x floor':>9}{'us/task':>9}"
          f"{'flat ms':>10}")
    for tasks, size, floor, ms, cpu, flat_ms in rows:
        print(f"{tasks:>6}{size / 1024:>8.0f}{floor:>10.1f}{ms:>15.1f}{cpu:>9.1f}{ms / floor:>9.1f}"
              f"{ms * 1000 / tasks:>9.0f}{flat_ms:>10.1f}")
    for label, (doublings, total, exponent) in (("wall", wall_growth), ("cpu", cpu_growth)):
        print(f"growth ({label}) per doubling: {', '.join(f'{g:.2f}x' for g in doublings)} (linear: 2x); "
              f"{SIZES[0]:,} to {SIZES[-1]:,} tasks: {total:.1f}x (linear: {scale:.0f}x), normalised "
              f"{total / scale:.2f}, exponent {exponent:.2f}")
    print(json.dumps({"ms": {str(t): round(ms, 1) for t, ms in times.items()},
                      "cpu_ms": {str(t): round(cpu, 1) for t, _s, _fl, _m, cpu, _f in rows},
                      "lxml_ms": {str(t): round(floor, 1) for t, _s, floor, _m, _c, _f in rows},
                      "flat_ms": {str(t): round(flat_ms, 1) for t, _s, _fl, _m, _c, flat_ms in rows},
                      "per_doubling": [round(g, 2) for g in wall_growth[0]], "growth": round(wall_growth[1], 2),
                      "growth_linear": scale, "normalised": round(wall_growth[1] / scale, 2),
                      "exponent": round(wall_growth[2], 2), "cpu_per_doubling": [round(g, 2) for g in cpu_growth[0]],
                      "cpu_growth": round(cpu_growth[1], 2), "cpu_exponent": round(cpu_growth[2], 2), "target_ms": TARGET_MS, "ok": times[SIZES[-1]] <= TARGET_MS}))


if __name__ == "__main__":
    main()
