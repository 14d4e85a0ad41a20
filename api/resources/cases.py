"""Cases: start, list, read, history; supervisors suspend, resume, cancel and retry."""
from __future__ import annotations

from flask.views import MethodView

from api.idempotency import idempotent
from api.openapi import ApiBlueprint
from api.schemas.work import (
    CaseDataSchema, CaseDetailSchema, CasePageSchema, CaseQuerySchema, CaseStateSchema, DataSchema, EventSchema,
    ReasonSchema, StartCaseSchema, StartedCaseSchema,
)
from api.security import principal, requires, services
from engine.usecases import cases

blp = ApiBlueprint("cases", __name__, url_prefix="/api/cases", description="Expedientes")


@blp.route("")
class Cases(MethodView):
    @requires("case.read")
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """A page of the cases you may see, filtered and sorted."""
        return cases.list_cases(services(), principal(), **args)

    @requires("case.start")
    @idempotent
    @blp.arguments(StartCaseSchema)
    @blp.response(201, StartedCaseSchema)
    def post(self, args):
        """Start a case on the latest version of a process."""
        return cases.start_case(services(), args["process_key"], args["data"], actor=principal().username)


@blp.route("/<id:case_id>")
class Case(MethodView):
    @requires("case.read")
    @blp.response(200, CaseDetailSchema)
    def get(self, case_id):
        """A case with its tasks."""
        return cases.case_detail(services(), principal(), case_id)


@blp.route("/<id:case_id>/history")
class History(MethodView):
    @requires("case.read")
    @blp.response(200, EventSchema(many=True))
    def get(self, case_id):
        """Everything that happened to the case, oldest first."""
        cases.visible_case(services(), principal(), case_id)
        return cases.case_history(services(), case_id)


@blp.route("/<id:case_id>/data")
class Data(MethodView):
    @requires("case.read")
    @blp.response(200, CaseDataSchema)
    def get(self, case_id):
        """The case's current data."""
        cases.visible_case(services(), principal(), case_id)
        return {"data": cases.case_data(services(), case_id)}


@blp.route("/<id:case_id>/suspend")
class Suspend(MethodView):
    @requires("case.manage")
    @blp.arguments(ReasonSchema)
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Suspend a running case, with the reason; its tasks cannot be completed until resumed."""
        return cases.change_case_state(services(), case_id, "suspend", args["reason"], principal().username)


@blp.route("/<id:case_id>/resume")
class Resume(MethodView):
    @requires("case.manage")
    @blp.arguments(ReasonSchema)
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Resume a suspended case, with the reason."""
        return cases.change_case_state(services(), case_id, "resume", args["reason"], principal().username)


@blp.route("/<id:case_id>/cancel")
class Cancel(MethodView):
    @requires("case.manage")
    @blp.arguments(ReasonSchema)
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Cancel a case for good, with the reason; its open tasks and timers close."""
        return cases.change_case_state(services(), case_id, "cancel", args["reason"], principal().username)


@blp.route("/<id:case_id>/retry")
class Retry(MethodView):
    @requires("case.manage")
    @blp.arguments(DataSchema)
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Run the failed step of an errored case again, optionally with corrected data."""
        return cases.retry_case(services(), case_id, principal().username, args["data"])
