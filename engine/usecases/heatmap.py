"""The diagram as a heat map (/informes/mapa-de-calor, GET /api/reports/heatmap): for a procedure's version (or
every version of it) and a period, per element how many cases passed it and the time they spent there (median, p90,
total), and per sequence flow how often it was taken.

Read from element_visits (engine/storage/visits.py: one row per element a case passed, written by its step) by the
(process_version_id, ended_at) index: a visit counts in the period when it ended in it. Flows are the diagram's
sequenceFlow elements, read from the version's stored XML (files_json), matched to the visits' (previous element,
element) pairs; never a workflow. Time spent is the time from the previous element's end to the element's (zero for
what passes at once: gateways, scripts); the median and the p90 are nearest-rank over the visits whose start is
known (visits backfilled from cases stored before migration 0025 have none).
"""
from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING

from lxml import etree
from sqlalchemy import Float, bindparam, cast, func, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY

from engine.accounts.permissions import Principal, use_case
from engine.errors import InvalidInput, ProcessNotFound
from engine.messages import msg
from engine.storage import models
from engine.timekeeping.calendar import office_midnight
from engine.usecases.deploy import version_diagram
from engine.usecases.reports_sql import seconds_between

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

MODES = ("tiempo", "casos")
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
FIRST_YEAR, LAST_YEAR = 2000, 2100
# A sequential scale, light to dark (fills keep black labels readable); an element nobody passed keeps no fill.
SCALE = ("#fff7bc", "#fee391", "#fec44f", "#fe9929", "#ec7014")
FLOW_COLOURS = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c")
MAX_FLOW_WIDTH = 8
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NODE_KINDS = frozenset({
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "startEvent", "endEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway"})
_v, _visits = models.process_versions, models.element_visits
_inbox, _timers, _cases = models.inbox_items, models.timers, models.cases


def period(svc: Services, date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The period asked for, or the last DEFAULT_DAYS days to today (office time); InvalidInput naming the field."""
    for name, day in (("from", date_from), ("to", date_to)):
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidInput("the date is out of range",
                               errors=[{"field": name, "message": f"a date from {FIRST_YEAR} to {LAST_YEAR}"}])
    date_to = date_to or svc.calendar.local_date(svc.clock())
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise InvalidInput("the period starts after it ends",
                           errors=[{"field": "from", "message": "must be on or before 'to'"}])
    if (date_to - date_from).days >= MAX_DAYS:
        raise InvalidInput("the period is too long",
                           errors=[{"field": "from", "message": f"at most {MAX_DAYS} days before 'to'"}])
    return date_from, date_to


def _versions(conn, process_key: str, version: int | None, all_versions: bool) -> tuple[dict, list[int]]:
    rows = conn.execute(select(_v.c.id, _v.c.version, _v.c.name).where(_v.c.process_key == process_key)
                        .order_by(_v.c.version)).all()
    if not rows:
        raise ProcessNotFound(msg("El procedimiento «%(process_key)s» no existe.", process_key=process_key),
                              process_key=process_key)
    if version is None:
        chosen = rows[-1]
    else:
        chosen = next((r for r in rows if r.version == version), None)
        if chosen is None:
            raise ProcessNotFound(msg("El procedimiento «%(process_key)s» no tiene versión %(number)s.",
                                      process_key=process_key, number=version), process_key=process_key)
    ids = [r.id for r in rows] if all_versions else [chosen.id]
    return {"id": chosen.id, "version": chosen.version, "name": chosen.name,
            "versions": [r.version for r in rows]}, ids


def diagram_parts(xml: str) -> tuple[dict, list[dict]]:
    """The diagram's flow nodes (id -> {name, kind}) and sequence flows ({id, name, source, target}), in order."""
    root = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    nodes, flows = {}, []
    for el in root.iter(f"{{{BPMN_NS}}}*"):
        kind = etree.QName(el).localname
        if kind in NODE_KINDS and el.get("id"):
            nodes[el.get("id")] = {"name": (el.get("name") or "").strip(), "kind": kind}
        elif kind == "sequenceFlow" and el.get("id"):
            flows.append({"id": el.get("id"), "name": (el.get("name") or "").strip(),
                          "source": el.get("sourceRef"), "target": el.get("targetRef")})
    return nodes, flows


def nearest_rank(zeros: int, positives: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `zeros` zero values and the sorted `positives`."""
    n = zeros + len(positives)
    if n == 0:
        return None
    rank = max(1, math.ceil(share * n))
    return 0.0 if rank <= zeros else positives[rank - zeros - 1]


def _bucket(value: float, top: float, steps: int) -> int:
    """0 .. steps-1: where value falls on [0, top] cut in equal parts."""
    if top <= 0:
        return 0
    return min(steps - 1, int(value / top * steps))


@use_case("report.read")
def heatmap(svc: Services, principal: Principal, process_key: str, *, version: int | None = None,
            all_versions: bool = False, date_from: date | None = None, date_to: date | None = None,
            mode: str = "tiempo") -> dict:
    """Per element of the version's diagram: cases passing, visits, median/p90/total seconds spent, what waits there
    now and for how long the oldest, and the heat (colour) for `mode` ("tiempo": median time; "casos": cases); per
    sequence flow: times taken."""
    if mode not in MODES:
        raise InvalidInput("unknown mode", errors=[{"field": "mode", "message": "tiempo or casos"}])
    date_from, date_to = period(svc, date_from, date_to)
    start, end = office_midnight(date_from), office_midnight(date_to + timedelta(days=1))
    with svc.uow(write=False) as uow:
        conn = uow.conn
        chosen, ids = _versions(conn, process_key, version, all_versions)
        where = (_visits.c.process_version_id.in_(ids), _visits.c.ended_at >= start, _visits.c.ended_at < end)
        counts = conn.execute(select(_visits.c.element_id, func.count(), func.count(func.distinct(_visits.c.case_id)),
                                     func.count(_visits.c.started_at))
                              .where(*where).group_by(_visits.c.element_id)).all()
        spent = _time_spent(conn, where)
        pairs = conn.execute(select(_visits.c.previous_element_id, _visits.c.element_id, func.count())
                             .where(*where, _visits.c.previous_element_id.is_not(None))
                             .group_by(_visits.c.previous_element_id, _visits.c.element_id)).all()
        waiting = _waiting_now(conn, ids)
    now = svc.clock()
    nodes, flows = diagram_parts(version_diagram(svc, chosen["id"]))
    elements = []
    counted = {element_id: rest for element_id, *rest in counts}
    for element_id in [*counted, *(e for e in waiting if e not in counted)]:
        visits, passing, timed = counted.get(element_id, (0, 0, 0))
        median, p90, total = spent.get(element_id, (None, None, 0.0))
        held, oldest = waiting.get(element_id, (0, None))
        node = nodes.get(element_id, {})
        elements.append({"element_id": element_id, "name": node.get("name") or element_id,
                         "kind": node.get("kind"), "in_diagram": element_id in nodes, "cases": passing,
                         "visits": visits, "timed": timed, "median_seconds": median, "p90_seconds": p90,
                         "total_seconds": total, "waiting_now": held,
                         "waiting_longest_seconds": (now - oldest).total_seconds() if oldest else None})
    elements.sort(key=lambda e: (not e["in_diagram"], -e["cases"], e["element_id"]))
    taken = {(source, target): n for source, target, n in pairs}
    flow_rows, seen = [], set()
    for flow in flows:
        pair = (flow["source"], flow["target"])
        count = 0 if pair in seen else taken.get(pair, 0)  # two flows between the same pair: the first takes it
        seen.add(pair)
        flow_rows.append({"flow_id": flow["id"], "name": flow["name"], "source": flow["source"],
                          "target": flow["target"], "count": count})
    legend = _paint(elements, flow_rows, mode)
    return {"process_key": process_key, "version": chosen["version"], "version_id": chosen["id"],
            "name": chosen["name"], "versions": chosen["versions"], "all_versions": all_versions,
            "from": date_from, "to": date_to, "mode": mode, "elements": elements, "flows": flow_rows,
            "legend": legend}


def _waiting_now(conn, ids: list[int]) -> dict[str, tuple[int, object]]:
    """Per element, what waits there now whatever the period (its visit is written when it is done): the human
    tasks open (inbox_items) and the timers waiting, of the versions' cases; how many and since when the oldest."""
    found: dict[str, tuple[int, object]] = {}
    for table, condition in ((_inbox, None), (_timers, _timers.c.state == "waiting")):
        query = (select(table.c.element_id, func.count(), func.min(table.c.created_at))
                 .join(_cases, _cases.c.id == table.c.case_id).where(_cases.c.process_version_id.in_(ids))
                 .group_by(table.c.element_id))
        for element_id, n, oldest in conn.execute(query if condition is None else query.where(condition)):
            held, first = found.get(element_id, (0, None))
            found[element_id] = (held + n, oldest if first is None or oldest < first else first)
    return found


def _time_spent(conn, where: tuple) -> dict[str, tuple]:
    """Per element: (median, p90, total) seconds spent over its visits whose start is known. PostgreSQL sorts each
    element's durations itself (percentile_disc: nearest rank); SQLite has no percentile function, so the durations
    that are not zero come back and the zeros are only counted."""
    seconds = seconds_between(conn, _visits.c.started_at, _visits.c.ended_at)
    timed = (*where, _visits.c.started_at.is_not(None))
    if conn.dialect.name == "postgresql":
        shares = cast(bindparam("shares", [0.5, 0.9], type_=ARRAY(Float)), ARRAY(Float))
        rows = conn.execute(select(_visits.c.element_id,
                                   type_coerce(func.percentile_disc(shares).within_group(seconds), ARRAY(Float)),
                                   func.sum(seconds))
                            .where(*timed).group_by(_visits.c.element_id)).all()
        return {e: (float(p[0]), float(p[1]), float(total or 0)) for e, p, total in rows}
    zeros = dict(conn.execute(select(_visits.c.element_id, func.count())
                              .where(*timed, _visits.c.started_at >= _visits.c.ended_at)
                              .group_by(_visits.c.element_id)).all())
    positives: dict[str, list[float]] = {}
    for element_id, value in conn.execute(select(_visits.c.element_id, seconds)
                                          .where(*timed, _visits.c.started_at < _visits.c.ended_at)):
        positives.setdefault(element_id, []).append(round(float(value), 3))
    found = {}
    for element_id in zeros.keys() | positives.keys():
        values = sorted(positives.get(element_id, ()))
        z = zeros.get(element_id, 0)
        found[element_id] = (nearest_rank(z, values, 0.5), nearest_rank(z, values, 0.9), float(sum(values)))
    return found


def _paint(elements: list[dict], flows: list[dict], mode: str) -> list[dict]:
    """Give each element its heat colour and each flow its width and colour; return the legend's bins."""
    key = "median_seconds" if mode == "tiempo" else "cases"
    top = max((e[key] or 0 for e in elements), default=0)
    steps = len(SCALE)
    for e in elements:
        value = e[key] or 0
        e["heat"] = value
        e["fill"] = SCALE[_bucket(value, top, steps)] if e["visits"] else None
    most = max((f["count"] for f in flows), default=0)
    for f in flows:
        f["width"] = 1 + round((MAX_FLOW_WIDTH - 1) * f["count"] / most) if most and f["count"] else 1
        f["stroke"] = FLOW_COLOURS[_bucket(f["count"], most, len(FLOW_COLOURS))] if f["count"] else None
    return [{"fill": colour, "low": top * i / steps, "high": top * (i + 1) / steps} for i, colour in enumerate(SCALE)]
