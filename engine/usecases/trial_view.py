"""The path a trial's case took, to draw on its diagram: elements passed, where it is now, where it failed, and the
sequence flows taken."""
from __future__ import annotations

from lxml import etree

from engine.language.lint import BPMN_NS
from engine.runtime.runner import element_marks

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _flows(xml: str) -> dict[tuple[str, str], list[str]]:
    root = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml, _PARSER)
    pairs: dict[tuple[str, str], list[str]] = {}
    for flow in root.iter("{%s}sequenceFlow" % BPMN_NS):
        pairs.setdefault((flow.get("sourceRef"), flow.get("targetRef")), []).append(flow.get("id"))
    return pairs


def path_of(wf, xml: str) -> dict:
    """{"done", "active", "failed": element ids of the top-level process, "flows": sequence flow ids taken}."""
    marks = element_marks(wf)
    try:
        pairs = _flows(xml)
    except etree.XMLSyntaxError:
        return {**marks, "flows": []}
    # A stored case keeps only the live part of its task tree (runner.element_marks counts the pruned part as
    # done): a flow was taken when its source is done and its target was reached.
    reached = set(marks["done"]) | set(marks["active"]) | set(marks["failed"])
    taken = {flow for (source, target), ids in pairs.items() if source in marks["done"] and target in reached
             for flow in ids}
    return {**marks, "flows": sorted(taken)}
