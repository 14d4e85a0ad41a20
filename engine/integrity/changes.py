"""What a step changed in the case data, for the history: {field: [before, after]} over the top-level fields."""
from __future__ import annotations

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS


def _json(value) -> bytes:
    """The value as JSON, or its repr quoted when JSON cannot hold it (an integer past 64 bits in a case stored
    before such values were refused)."""
    try:
        return orjson.dumps(value, default=str, option=_OPTIONS)
    except TypeError:
        return orjson.dumps(repr(value))


def data_changes(before: dict, after: dict) -> dict:
    """Fields whose value differs (a field that appears or disappears has None on the missing side), in key order;
    values as JSON holds them."""
    changed = {}
    for key in sorted(set(before) | set(after), key=str):
        old, new = _json(before.get(key)), _json(after.get(key))
        if (key in before) != (key in after) or old != new:
            changed[str(key)] = [orjson.loads(old), orjson.loads(new)]
    return changed
