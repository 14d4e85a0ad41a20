"""Compare two BPMN documents element by element (by id): what was added, removed or changed."""
from __future__ import annotations

from engine.specs import elements_of


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
        if a["values"].get(key) != b["values"].get(key):
            out.append({"field": key, "old": a["values"].get(key), "new": b["values"].get(key)})
    return out


def diff_versions(svc, process_key: str, old: int, new: int) -> dict:
    """The differences between two versions (by number) of one process's own diagram."""
    from engine import deploy, queries  # use cases on top of the pure comparison above
    xml = [deploy.version_diagram(svc, queries.version_id(svc, process_key, n)) for n in (old, new)]
    return {"process_key": process_key, "old": old, "new": new, **diff_xml(*xml)}
