"""Shapes of cases, tasks, forms and attachments."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import File, JsonObject, Text
from engine.usecases.paging import MAX_PAGE_SIZE

CASE_STATES = ("running", "completed", "error", "suspended", "cancelled")
TASK_STATES = ("ready", "completed", "cancelled")
CASE_SORTS = tuple(f"{sign}{key}" for key in ("created_at", "updated_at", "number", "state") for sign in ("", "-"))


class CaseQuerySchema(Schema):
    process_key = Text(validate=validate.Length(1, 100))
    state = fields.String(validate=validate.OneOf(CASE_STATES))
    municipality = Text(validate=validate.Length(1, 100))
    created_from = fields.Date(metadata={"description": "First day (office time), inclusive"})
    created_to = fields.Date(metadata={"description": "Last day (office time), inclusive"})
    overdue = fields.Boolean(metadata={"description": "Only cases with (true) or without (false) a late task"})
    page = fields.Integer(validate=validate.Range(1, 100_000), load_default=1)
    per_page = fields.Integer(validate=validate.Range(1, 100), load_default=25)
    sort = fields.String(validate=validate.OneOf(CASE_SORTS), load_default="-created_at")


class CaseItemSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    tracking_code = fields.String(required=True)
    process_key = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(CASE_STATES))
    title = fields.String(allow_none=True)
    applicant_name = fields.String(allow_none=True)
    municipality = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    created_by = fields.String(allow_none=True)


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseItemSchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "Counted up to 1000 (see total_more)"})
    total_more = fields.Boolean(metadata={"description": "More than `total` cases match (counting stops there)"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class StartCaseSchema(Schema):
    process_key = Text(required=True, validate=validate.Length(1, 100))
    data = JsonObject(load_default=dict)


class TaskBriefSchema(Schema):
    id = fields.String(required=True)
    element_id = fields.String(required=True)
    title = fields.String(required=True)


class StartedCaseSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    tracking_code = fields.String(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    process_version = fields.Integer(required=True)
    ready_tasks = fields.List(fields.Nested(TaskBriefSchema), required=True)


class TaskSchema(Schema):
    id = fields.String(required=True)
    case_id = fields.Integer(required=True)
    element_id = fields.String(required=True)
    title = fields.String(required=True)
    lane = fields.String(allow_none=True)
    candidate_group = fields.String(allow_none=True)
    form_key = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(TASK_STATES))
    created_at = fields.DateTime(required=True)
    claimed_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class InboxTaskSchema(TaskSchema):
    case_number = fields.String(required=True)
    case_title = fields.String(allow_none=True)
    process_key = fields.String(required=True)
    case_state = fields.String(required=True)


class CaseDetailSchema(CaseItemSchema):
    version = fields.Integer(required=True)
    process_version = fields.Integer(required=True)
    applicant_dpi = fields.String(allow_none=True)
    error_element = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    tasks = fields.List(fields.Nested(TaskSchema), required=True)


class EventSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    element_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True)


class CaseDataSchema(Schema):
    data = JsonObject(required=True)


class ReasonSchema(Schema):
    reason = Text(required=True, validate=validate.Length(1, 1000))


class CaseStateSchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(CASE_STATES))
    version = fields.Integer(required=True)
    error_element = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)


class DataSchema(Schema):
    data = JsonObject(load_default=dict)


class InboxQuerySchema(Schema):
    group = Text(validate=validate.Length(1, 64), metadata={"description": "One group (default: all of mine)"})
    unassigned = fields.Boolean(load_default=False, metadata={"description": "Only tasks nobody holds"})
    limit = fields.Integer(validate=validate.Range(1, MAX_PAGE_SIZE), load_default=100)
    after = fields.String(validate=validate.Length(1, 500), metadata={
        "description": "The cursor the previous page's `X-Next-Cursor` header gave: the page after it"})


class AssignSchema(Schema):
    username = Text(required=True, validate=validate.Length(1, 64))


class IssuedBriefSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    number = fields.String(allow_none=True)
    code = fields.String(required=True, metadata={"description": "verification code (/verificar/<code>)"})


class CompletedSchema(Schema):
    case_id = fields.Integer(required=True)
    case_state = fields.String(required=True)
    case_version = fields.Integer(required=True)
    error_element = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    ready_tasks = fields.List(fields.Nested(TaskBriefSchema), required=True)
    documents = fields.List(fields.Nested(IssuedBriefSchema), required=True,
                            metadata={"description": "documents the task issued (numbered, signed, stored)"})


class IssuedDocumentSchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    task_id = fields.String(allow_none=True)
    kind = fields.String(required=True)
    number = fields.String(allow_none=True)
    verification_code = fields.String(required=True)
    sha256 = fields.String(required=True)
    size_bytes = fields.Integer(allow_none=True)
    pages = fields.Integer(allow_none=True)
    issued_at = fields.DateTime(required=True)
    issued_by = fields.String(allow_none=True)
    signature = fields.String(allow_none=True, metadata={"description": "\"pades\" when signed electronically"})
    corrects_id = fields.Integer(allow_none=True)
    correction_reason = fields.String(allow_none=True)
    citizen_facing = fields.Boolean(required=True)


class CorrectionRequestSchema(Schema):
    changes = JsonObject(load_default=dict, metadata={
        "description": "field -> new value (a text, or a list of texts where the field is a list); only the fields "
                       "the correction form lists; the others keep the values the original was filled with"})
    reason = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "why the document is corrected (required; printed on it)"})


class CorrectableFieldSchema(Schema):
    name = fields.String(required=True)
    label = fields.String(allow_none=True, metadata={"description": "the issuing form's title for the field"})
    list = fields.Boolean(required=True, metadata={"description": "a list of texts (else a text)"})
    required = fields.Boolean(required=True, metadata={"description": "the document's template needs it"})
    value = fields.Raw(required=True, metadata={"description": "the value the original was filled with"})
    schema = fields.Dict(allow_none=True, metadata={"description": "the issuing form's JSON Schema for the field"})


class CorrectedDocumentSchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    number = fields.String(allow_none=True)
    issued_at = fields.DateTime(required=True)
    code = fields.String(required=True)


class CorrectorSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(allow_none=True)


class CorrectionFormSchema(Schema):
    document = fields.Nested(CorrectedDocumentSchema, required=True)
    fields_ = fields.List(fields.Nested(CorrectableFieldSchema), required=True, data_key="fields",
                          attribute="fields", metadata={"description": "what a correction may change"})
    corrected_by = fields.Nested(CorrectorSchema, allow_none=True, metadata={
        "description": "the document that already corrects this one (correct that one instead), or null"})


class DraftSchema(Schema):
    task_id = fields.String(required=True)
    data = JsonObject(required=True)
    saved_by = fields.String(required=True)
    saved_at = fields.DateTime(required=True)


class FormSchema(Schema):
    form_key = fields.String(allow_none=True, required=True)
    schema = JsonObject(allow_none=True, required=True, metadata={"description": "JSON Schema of the form"})
    ui = JsonObject(required=True, metadata={"description": "x-* hints by field (labels, messages, ...)"})
    data = JsonObject(required=True, metadata={"description": "The draft if there is one, else the case data"})
    draft_saved_at = fields.DateTime(allow_none=True, required=True)


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = fields.String(allow_none=True)
    uploaded_at = fields.DateTime(required=True)


class UploadSchema(Schema):
    file = File(required=True, metadata={"description": "PDF, PNG or JPEG"})
