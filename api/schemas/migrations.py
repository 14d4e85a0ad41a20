"""Shapes of migrating running cases to another version (engine/usecases/case_migration*.py)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import LocalizedText, Text

ITEM_STATES = ("planned", "migrated", "refused", "skipped", "undone", "kept")
MIGRATION_STATES = ("planned", "applying", "applied", "undone")


class MigrationFiltersSchema(Schema):
    states = fields.List(fields.String(validate=validate.OneOf(("running", "suspended"))), load_default=None)
    element = Text(load_default=None, allow_none=True, validate=validate.Length(0, 200))
    municipality = Text(load_default=None, allow_none=True, validate=validate.Length(0, 100))
    created_after = fields.DateTime(load_default=None, allow_none=True)
    created_before = fields.DateTime(load_default=None, allow_none=True)
    case_ids = fields.List(fields.Integer(validate=validate.Range(1, 2**63 - 1)), load_default=None,
                           validate=validate.Length(0, 5000))


class PlanMigrationSchema(Schema):
    from_version_id = fields.Integer(required=True, validate=validate.Range(1, 2**63 - 1))
    to_version_id = fields.Integer(required=True, validate=validate.Range(1, 2**63 - 1))
    mapping = fields.Dict(keys=Text(validate=validate.Length(1, 200)), values=Text(validate=validate.Length(0, 200)),
                          load_default=dict)
    filters = fields.Nested(MigrationFiltersSchema, load_default=dict)


class ChoicesQuerySchema(Schema):
    from_version_id = fields.Integer(required=True, validate=validate.Range(1, 2**63 - 1))
    to_version_id = fields.Integer(required=True, validate=validate.Range(1, 2**63 - 1))


class ListQuerySchema(Schema):
    process_key = Text(load_default=None, validate=validate.Length(1, 100))


class ReadQuerySchema(Schema):
    state = fields.String(load_default=None, validate=validate.OneOf(ITEM_STATES))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1))
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class BatchSchema(Schema):
    batch = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class OldElementSchema(Schema):
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    auto = fields.String(allow_none=True)


class NewElementSchema(Schema):
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)


class ChoicesSchema(Schema):
    process_key = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    from_version_id = fields.Integer(required=True)
    to_version_id = fields.Integer(required=True)
    cases = fields.Integer(required=True)
    old_elements = fields.List(fields.Nested(OldElementSchema), required=True)
    new_elements = fields.List(fields.Nested(NewElementSchema), required=True)


class StepSchema(Schema):
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    what = fields.String(required=True)


class CasePlanSchema(Schema):
    case_id = fields.Integer(required=True)
    number = fields.String()
    version = fields.Integer()
    state = fields.String()
    positions = fields.List(fields.String())
    way = fields.String(allow_none=True, metadata={
        "description": "move: rebuilt at its one position; swap: its live tasks kept, on the new version's spec"})
    mapping = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "each position's element in the new version"})
    target = fields.String(allow_none=True)
    problem = LocalizedText(allow_none=True)
    close = fields.List(fields.Nested(StepSchema))
    open = fields.List(fields.Nested(StepSchema))
    keep = fields.List(fields.Nested(StepSchema), metadata={"description": "what keeps waiting (a swap)"})
    data_kept = fields.Integer()
    fields_not_in_forms = fields.List(fields.String())
    due = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))


class MigrationSchema(Schema):
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    from_version_id = fields.Integer(required=True)
    to_version_id = fields.Integer(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(MIGRATION_STATES))
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    planned = fields.Integer(required=True, metadata={"description": "cases still to apply"})
    migrated = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    undone = fields.Integer(required=True)
    remaining = fields.Integer(required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String())
    filters = fields.Dict()


class PlannedMigrationSchema(MigrationSchema):
    cases = fields.List(fields.Nested(CasePlanSchema), required=True)


class MigrationItemSchema(Schema):
    case_id = fields.Integer(required=True)
    number = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(ITEM_STATES))
    problem = LocalizedText(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    plan = fields.Nested(CasePlanSchema, allow_none=True)


class MigrationDetailSchema(MigrationSchema):
    items = fields.List(fields.Nested(MigrationItemSchema), required=True)


class BatchResultSchema(Schema):
    case_id = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(ITEM_STATES))
    problem = LocalizedText(allow_none=True)
    version = fields.Integer()
    target = fields.String(allow_none=True)


class BatchDoneSchema(MigrationSchema):
    results = fields.List(fields.Nested(BatchResultSchema), required=True)
    left = fields.Boolean()
