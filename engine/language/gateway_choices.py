"""Choosing a gateway's outcome in a trial run (engine/usecases/trial.py): the throwaway copy of a draft gets its
exclusive and inclusive gateways' conditions rewritten so that the chosen flow is taken whatever the data say.

A choice is a gateway id -> a flow id (or, for an inclusive gateway, several separated by commas); DATA, or no
choice at all, leaves the gateway to its conditions.
"""
from __future__ import annotations

from lxml import etree

from engine.errors import InvalidInput
from engine.language.lint import BPMN_NS
from engine.messages import msg

DATA = "datos"
CHOOSABLE = ("exclusiveGateway", "inclusiveGateway")
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


def _tree(xml: str | bytes):
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    return etree.fromstring(data, _PARSER)


def _q(local: str) -> str:
    return "{%s}%s" % (BPMN_NS, local)


def gateways(xml: str | bytes) -> list[dict]:
    """The choosable gateways of every process in the diagram, with their outgoing flows: [{id, name, type,
    default, flows: [{id, name, target, condition}]}], in document order. Gateways with a single way out are left
    out (there is nothing to choose)."""
    root = _tree(xml)
    by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    found = []
    for local in CHOOSABLE:
        for gw in root.iter(_q(local)):
            flows = [f for f in root.iter(_q("sequenceFlow")) if f.get("sourceRef") == gw.get("id")]
            if len(flows) < 2:
                continue
            rows = []
            for f in flows:
                target = by_id.get(f.get("targetRef"))
                cond = f.find(_q("conditionExpression"))
                rows.append({"id": f.get("id"), "name": f.get("name") or "",
                             "target": (target.get("name") or target.get("id")) if target is not None else "",
                             "condition": (cond.text or "").strip() if cond is not None else ""})
            found.append({"id": gw.get("id"), "name": gw.get("name") or "", "type": local,
                          "default": gw.get("default"), "flows": rows, "line": gw.sourceline})
    return sorted(found, key=lambda g: g["line"] or 0)


def check_choices(xml: str | bytes, choices: dict | None) -> dict[str, list[str]]:
    """The choices as gateway id -> chosen flow ids (DATA and empty ones dropped); InvalidInput naming the field
    for a gateway or flow the diagram does not have, or several flows for an exclusive gateway."""
    known = {g["id"]: g for g in gateways(xml)}
    chosen: dict[str, list[str]] = {}
    for gw_id, value in (choices or {}).items():
        if value in (None, "", DATA):
            continue
        gw = known.get(gw_id)
        if gw is None:
            raise InvalidInput(msg("No hay ninguna compuerta «%(id)s» con varias salidas en el diagrama.", id=gw_id),
                               errors=[{"field": f"choices.{gw_id}", "message": "unknown gateway"}])
        flows = [v.strip() for v in (value if isinstance(value, list) else str(value).split(",")) if v.strip()]
        outgoing = {f["id"] for f in gw["flows"]}
        for flow in flows:
            if flow not in outgoing:
                raise InvalidInput(msg("El flujo «%(flow)s» no sale de la compuerta «%(gateway)s».", flow=flow,
                                       gateway=gw["name"] or gw_id),
                                   errors=[{"field": f"choices.{gw_id}", "message": "not an outgoing flow"}])
        if gw["type"] == "exclusiveGateway" and len(flows) > 1:
            raise InvalidInput(msg("La compuerta exclusiva «%(gateway)s» toma un solo camino.",
                                   gateway=gw["name"] or gw_id),
                               errors=[{"field": f"choices.{gw_id}", "message": "one flow only"}])
        if flows:
            chosen[gw_id] = flows
    return chosen


def force_choices(xml: str | bytes, choices: dict[str, list[str]]) -> bytes:
    """The diagram with each chosen gateway's outgoing conditions replaced: True on the chosen flows, False on the
    others (a chosen default flow is taken because every other condition is False)."""
    root = _tree(xml)
    for flow in root.iter(_q("sequenceFlow")):
        chosen = choices.get(flow.get("sourceRef"))
        if chosen is None:
            continue
        gateway = next((g for g in root.iter(_q("exclusiveGateway"), _q("inclusiveGateway"))
                        if g.get("id") == flow.get("sourceRef")), None)
        if gateway is not None and gateway.get("default") == flow.get("id"):
            continue  # the default flow keeps no condition; it is taken when no other is
        cond = flow.find(_q("conditionExpression"))
        if cond is None:
            cond = etree.SubElement(flow, _q("conditionExpression"))
            cond.set("{%s}type" % XSI, "bpmn:tFormalExpression")
        cond.text = "True" if flow.get("id") in chosen else "False"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
