"""Compare two BPMN documents element by element (by id): what was added, removed or changed."""
from __future__ import annotations

from engine.language.specs import elements_of

# BPMN attributes at their schema default (bpmn-moddle's bpmn.json): the modeler leaves them out when it saves, so
# cancelActivity="true" and no cancelActivity at all are the same diagram, not a change.
ATTRIBUTE_DEFAULTS = {
    "gatewayDirection": "Unspecified", "instantiate": "false", "eventGatewayType": "Exclusive",
    "mustUnderstand": "false", "isReference": "false", "textFormat": "text/plain", "isInterrupting": "true",
    "parallelMultiple": "false", "cancelActivity": "true", "waitForCompletion": "true", "isCollection": "false",
    "isUnlimited": "true", "minimum": "0", "maximum": "1", "loopType": "None", "isForCompensation": "false",
    "startQuantity": "1", "completionQuantity": "1", "triggeredByEvent": "false", "isSequential": "false",
    "behavior": "All", "testBefore": "false", "cancelRemainingInstances": "true",
    "expressionLanguage": "http://www.w3.org/1999/XPath", "typeLanguage": "http://www.w3.org/2001/XMLSchema",
}


def diff_xml(old_xml: str, new_xml: str) -> dict:
    """{'added': [...], 'removed': [...], 'changed': [{id, type, name, changes: [{field, old, new}]}]}."""
    old, new = elements_of(old_xml, "old.bpmn"), elements_of(new_xml, "new.bpmn")
    changed = []
    for element_id in [i for i in new if i in old]:
        changes = _changes(old[element_id], new[element_id])
        if changes:
            changed.append({**_summary(element_id, new[element_id]), "changes": changes})
    return {"added": [_summary(i, e) for i, e in new.items() if i not in old],
            "removed": [_summary(i, e) for i, e in old.items() if i not in new],
            "changed": changed}


def _summary(element_id: str, el: dict) -> dict:
    return {"id": element_id, "type": el["type"], "name": el["name"]}


def _changes(a: dict, b: dict) -> list[dict]:
    out = [{"field": f, "old": a[f], "new": b[f]} for f in ("type", "name", "lane") if a[f] != b[f]]
    for key in sorted(a["values"].keys() | b["values"].keys()):
        old, new = _meaning(key, a["values"].get(key)), _meaning(key, b["values"].get(key))
        if old != new:
            out.append({"field": key, "old": a["values"].get(key), "new": b["values"].get(key)})
    return out


def _meaning(key: str, value: str | None) -> str | None:
    """An attribute's value, None when it only repeats the BPMN default."""
    attr = key.removeprefix("attribute:")
    if attr != key and value is not None and value.strip() == ATTRIBUTE_DEFAULTS.get(attr):
        return None
    return value
