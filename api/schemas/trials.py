"""Shapes of trial runs of drafts and of the guided fixes for diagrams from other tools."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Text
from api.schemas.processes import SpecProblemSchema


class FlowSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    target = fields.String(required=True, metadata={"description": "name (or id) of the element it leads to"})
    condition = fields.String(required=True)


class GatewaySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "exclusiveGateway or inclusiveGateway"})
    default = fields.String(allow_none=True)
    flows = fields.List(fields.Nested(FlowSchema), required=True)
    line = fields.Integer(allow_none=True)


class TrialSetupSchema(Schema):
    process_key = fields.String(required=True)
    gateways = fields.List(fields.Nested(GatewaySchema), required=True)
    start_form = fields.String(allow_none=True)
    start_example = fields.Dict(required=True, metadata={"description": "example data shaped like the start form"})
    problems = fields.List(fields.Nested(SpecProblemSchema), required=True)
    step_limit = fields.Integer(required=True)


class StartTrialSchema(Schema):
    process_key = Text(required=True, validate=validate.Length(1, 100))
    data = fields.Dict(load_default=dict, metadata={"description": "the start form's data"})
    choices = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict,
                          metadata={"description": "gateway id -> flow id (several, comma-separated, for an "
                                                   "inclusive gateway), or 'datos' to let the data decide"})
    step_limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 1000))


class TrialTaskSchema(Schema):
    id = fields.String(required=True)
    element_id = fields.String(required=True)
    title = fields.String(required=True)
    form_key = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    candidate_group = fields.String(allow_none=True)
    schema = fields.Dict(allow_none=True, metadata={"description": "the task's form (JSON Schema)"})
    example = fields.Dict(required=True, metadata={"description": "example data: the form's required fields"})


class TrialTimerSchema(Schema):
    id = fields.String(required=True)
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    due_at = fields.DateTime(required=True)


class TrialWaitSchema(Schema):
    id = fields.String(required=True)
    element_id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    keys = fields.Dict(required=True, metadata={"description": "the correlation a message needs"})


class TrialProblemSchema(Schema):
    element_id = fields.String(allow_none=True)
    message = fields.String(required=True)


class TrialStateSchema(Schema):
    token = fields.String(required=True)
    process_key = fields.String(required=True)
    case_state = fields.String(required=True)
    finished = fields.Boolean(required=True)
    ready_tasks = fields.List(fields.Nested(TrialTaskSchema), required=True)
    timers = fields.List(fields.Nested(TrialTimerSchema), required=True)
    waits = fields.List(fields.Nested(TrialWaitSchema), required=True)
    path = fields.Dict(required=True, metadata={"description": "done, active, failed (element ids), flows taken"})
    data = fields.Dict(required=True)
    steps = fields.List(fields.Dict(), required=True)
    choices = fields.Dict(required=True)
    step_limit = fields.Integer(required=True)
    limit_reached = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(TrialProblemSchema), required=True)
    message = fields.Dict(metadata={"description": "how a simulated message went"})
    replayed = fields.Integer(metadata={"description": "choosing again: the older trial's steps replayed"})
    replay_total = fields.Integer(metadata={"description": "choosing again: the older trial's steps"})


class TrialChoicesSchema(Schema):
    choices = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                          metadata={"description": "gateway id -> flow id(s), or 'datos'"})


class TrialCompleteSchema(Schema):
    data = fields.Dict(load_default=dict)


class TrialMessageSchema(Schema):
    name = Text(required=True, validate=validate.Length(1, 200))
    correlation = fields.Dict(load_default=dict)
    payload = fields.Dict(load_default=dict)


class ImportFixesQuerySchema(Schema):
    xml = Text(required=True, validate=validate.Length(1, 2 * 1024 * 1024))


class FixOptionSchema(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)


class ImportFixSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "process_id, task_type, lane_group, no_lane, form, "
                                                                 "expression or unsupported"})
    element_id = fields.String(allow_none=True)
    element_name = fields.String(allow_none=True)
    element = fields.String(required=True, metadata={"description": "the element named in Spanish"})
    message = fields.String(required=True)
    options = fields.List(fields.Nested(FixOptionSchema), required=True)
    suggestion = fields.String(allow_none=True)
    applicable = fields.Boolean(required=True)


class ImportFixesSchema(Schema):
    process_key = fields.String(required=True)
    fixes = fields.List(fields.Nested(ImportFixSchema), required=True)
    xml = fields.String(metadata={"description": "the diagram with the chosen fixes applied (apply only)"})


class ChosenFixSchema(Schema):
    id = Text(required=True, validate=validate.Length(1, 300))
    value = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ApplyImportFixesSchema(Schema):
    xml = Text(required=True, validate=validate.Length(1, 2 * 1024 * 1024))
    fixes = fields.List(fields.Nested(ChosenFixSchema), required=True, validate=validate.Length(1, 2000))
