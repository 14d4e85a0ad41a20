"""The diagram as a heat map (GET /api/reports/heatmap)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.usecases.heatmap import MODES


class HeatmapQuerySchema(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                metadata={"description": "The procedure's key (e.g. solicitud_ciudadana)."})
    version = fields.Integer(load_default=None, validate=validate.Range(min=1),
                             metadata={"description": "The version drawn and counted; the latest when absent."})
    all_versions = fields.Boolean(load_default=False,
                                  metadata={"description": "Count the visits of every version of the procedure "
                                                           "(drawn on the version chosen)."})
    date_from = fields.Date(data_key="from", load_default=None,
                            metadata={"description": "First day (office time, YYYY-MM-DD); 90 days before `to` "
                                                     "when absent."})
    date_to = fields.Date(data_key="to", load_default=None,
                          metadata={"description": "Last day (office time, YYYY-MM-DD); today when absent."})
    mode = fields.String(load_default="tiempo", validate=validate.OneOf(MODES),
                         metadata={"description": "What colours the elements: median time spent or cases."})


class HeatElementSchema(Schema):
    element_id = fields.String()
    name = fields.String()
    kind = fields.String(allow_none=True, metadata={"description": "The BPMN element type, e.g. userTask."})
    in_diagram = fields.Boolean(metadata={"description": "False for elements of another version or process."})
    cases = fields.Integer(metadata={"description": "Cases that passed the element in the period."})
    visits = fields.Integer(metadata={"description": "Times it was passed (a loop passes it again)."})
    timed = fields.Integer(metadata={"description": "Visits whose start is known (counted in the times)."})
    median_seconds = fields.Float(allow_none=True)
    p90_seconds = fields.Float(allow_none=True)
    total_seconds = fields.Float()
    waiting_now = fields.Integer(metadata={"description": "Open human tasks and waiting timers there now (any period)."})
    waiting_longest_seconds = fields.Float(allow_none=True,
                                           metadata={"description": "How long the oldest of them has waited."})
    heat = fields.Float(metadata={"description": "The value coloured: median seconds or cases."})
    fill = fields.String(allow_none=True, metadata={"description": "The fill colour (#rrggbb); none if unvisited."})


class HeatFlowSchema(Schema):
    flow_id = fields.String()
    name = fields.String()
    source = fields.String()
    target = fields.String()
    count = fields.Integer(metadata={"description": "Times the flow was taken in the period."})
    width = fields.Integer()
    stroke = fields.String(allow_none=True)


class LegendBinSchema(Schema):
    fill = fields.String()
    low = fields.Float()
    high = fields.Float()


class HeatmapSchema(Schema):
    process_key = fields.String()
    version = fields.Integer()
    version_id = fields.Integer()
    name = fields.String()
    versions = fields.List(fields.Integer())
    all_versions = fields.Boolean()
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    mode = fields.String()
    elements = fields.List(fields.Nested(HeatElementSchema))
    flows = fields.List(fields.Nested(HeatFlowSchema))
    legend = fields.List(fields.Nested(LegendBinSchema))
