"""What a case may hold: plain JSON within limits; what is allowed round-trips through the serializer exactly."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest

from engine.runtime import serializer
from engine.errors import InvalidInput
from engine.runtime.runner import Runtime
from engine.values import DEFAULT_LIMITS, ValueLimits, ValueRejected, check_data, check_value, value_size
from tests.bpmn import linear, user
from tests.unit.test_runtime import spec_of


def rejected(value, **kwargs) -> ValueRejected:
    with pytest.raises(ValueRejected) as info:
        check_value(value, **kwargs)
    return info.value


def test_limits_are_the_documented_ones():
    assert DEFAULT_LIMITS == ValueLimits(max_bytes=2 * 1024 * 1024, max_depth=64, max_int_bits=63,
                                         max_string_chars=1_000_000)


def test_rejection_is_invalid_input_naming_the_path():
    err = rejected({"leak": [0, {"x": b"x"}]})
    assert isinstance(err, InvalidInput)
    assert err.path == "data.leak[1].x"
    assert "bytes" in err.reason
    assert err.errors == [{"field": "data.leak[1].x", "message": err.reason}]
    assert err.message.startswith("data.leak[1].x: ")


def test_paths_quote_keys_that_are_not_names():
    assert rejected({"a b": [1j]}, path="case").path == "case['a b'][0]"


@pytest.mark.parametrize("value, word", [
    (2 ** 1100, "bits"), (2 ** 63, "bits"), (-(2 ** 63), "bits"),
    (float("nan"), "finito"), (float("inf"), "finito"),
    (Decimal("NaN"), "finito"), (Decimal("Infinity"), "finito"),
    (Decimal(10) ** Decimal(400), "decimal"), (Decimal("1." + "1" * 150), "decimal"),
    (b"x", "bytes"), (bytearray(b"x"), "bytearray"), (1j, "complex"), (ValueError("x"), "ValueError"),
    ({1, 2}, "set"), (frozenset(), "frozenset"), ((1, 2), "tuple"), (object(), "object"), (len, "builtin"),
    ("\ud800", "Unicode"), (timedelta(microseconds=1), "segundos"),
    (datetime(2026, 1, 1, tzinfo=ZoneInfo("America/Guatemala")), "zona"),
])
def test_values_json_cannot_carry_faithfully_are_refused(value, word):
    err = rejected({"v": value})
    assert err.path == "data.v"
    assert word in err.reason


def test_a_value_that_contains_itself_is_refused():
    a = []
    a.append(a)
    assert "circular" in rejected({"a": a}).reason
    d = {}
    d["me"] = {"again": d}
    assert rejected({"d": d}).path == "data.d.me.again"


def test_keys_must_be_text():
    assert "claves" in rejected({"x": {1: "a"}}).reason


def test_ints_within_63_bits_pass():
    check_value({"max": 2 ** 63 - 1, "min": -(2 ** 63 - 1), "flag": True})


def test_check_data_wants_a_dict():
    with pytest.raises(ValueRejected):
        check_data([1, 2])
    check_data({})


def test_shared_references_count_by_their_expanded_size_without_expanding():
    leak = [[0] * 100000] * 300  # 60 MB of JSON from 800 KB of memory
    err = rejected({"leak": leak})
    assert err.path == "data.leak"
    assert "KiB" in err.reason
    # 2**40 references to one list of ten ints: refused after walking 41 distinct lists.
    x = [0] * 10
    for _ in range(40):
        x = [x, x]
    assert "KiB" in rejected({"x": x}).reason


def test_shared_references_within_the_limit_are_counted_once_each():
    inner = list(range(1000))
    single = value_size({"a": inner})
    doubled = value_size({"a": inner, "b": inner})
    assert doubled - single >= value_size(inner)


def test_depth_is_bounded_without_recursion():
    deep = cur = []
    for _ in range(100_000):
        cur.append([])
        cur = cur[0]
    assert "niveles" in rejected({"deep": deep}).reason
    shallow = cur = {}
    for _ in range(62):
        cur["x"] = {}
        cur = cur["x"]
    check_value({"shallow": shallow})  # depth 64 with the outer dict


def test_depth_counts_shared_containers_where_they_are_reached_again():
    nested = cur = []
    for _ in range(40):
        cur.append([])
        cur = cur[0]
    holder = cur2 = []
    for _ in range(30):
        cur2.append([])
        cur2 = cur2[0]
    cur2.append(nested)
    assert "niveles" in rejected({"a": nested, "b": holder}).reason


def test_long_strings_are_refused():
    assert "caracteres" in rejected({"s": "x" * 1_000_001}).reason
    check_value({"s": "x" * 1_000_000})


def test_size_estimate_is_close_to_the_json_text():
    data = {"nombre": "María José Pérez", "dpi": "1234567890101", "monto": 1500.25, "n": 12, "ok": True,
            "nada": None, "lista": [{"tipo": "a", "fecha": "2026-01-01"}] * 20, "texto": "á" * 500}
    actual = len(orjson.dumps(data))
    assert actual * 0.8 <= value_size(data) <= actual * 1.5


def test_smaller_limits_apply():
    with pytest.raises(ValueRejected):
        check_value({"s": "x" * 100}, ValueLimits(max_bytes=50))
    with pytest.raises(ValueRejected):
        check_value({"n": 2 ** 60}, ValueLimits(max_int_bits=53))


ALLOWED = {
    "texto": "ñandú", "entero": 2 ** 63 - 1, "negativo": -(2 ** 63 - 1), "real": 0.1, "si": True, "nada": None,
    "lista": [1, [2, {"a": "b"}]], "monto": Decimal("1234.50"), "fecha": date(2026, 4, 7),
    "momento": datetime(2026, 4, 7, 16, 30, tzinfo=timezone(timedelta(hours=-6))),
    "utc": datetime(2026, 4, 7, 22, 30, 0, 123456, tzinfo=timezone.utc), "local": datetime(2026, 4, 7, 8),
    "hora": time(16, 30), "plazo": timedelta(days=10, seconds=5),
}


def test_every_allowed_value_round_trips_through_the_serializer_exactly():
    check_data(ALLOWED)
    rt = Runtime()
    spec, subs = spec_of(linear(user()), "p")
    wf = rt.new_workflow(spec, subs, dict(ALLOWED))
    rt.advance(wf)
    loaded = serializer.load_workflow(serializer.dump_workflow(wf), spec, subs)
    [task] = [t for t in loaded.tasks.values() if t.task_spec.bpmn_id == "e0"]
    assert task.data == ALLOWED
    assert {k: type(v) for k, v in task.data.items()} == {k: type(v) for k, v in ALLOWED.items()}
