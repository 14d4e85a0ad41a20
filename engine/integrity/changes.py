"""What a step changed in the case data, for the history: {field: [before, after]} over the top-level fields."""
from __future__ import annotations

import orjson


def _json(value) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS)


def data_changes(before: dict, after: dict) -> dict:
    """Fields whose value differs (a field that appears or disappears has None on the missing side), in key order."""
    changed = {}
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        if (key in before) != (key in after) or _json(old) != _json(new):
            changed[str(key)] = [old, new]
    return changed
