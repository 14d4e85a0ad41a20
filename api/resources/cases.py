"""Cases: start, list, read, history, the electronic case file (index and whole PDF); supervisors suspend,
resume, cancel, retry and move a case to another step."""
from __future__ import annotations

import io

from flask import current_app, send_file
from flask.views import MethodView

from api.idempotency import idempotent
from api.openapi import ApiBlueprint
from api.schemas.case_moves import MoveCaseSchema, MovedCaseSchema
from api.schemas.casefile import CaseFileSchema
from api.schemas.deadlines import LegalDeadlineSchema
from api.schemas.work import (
    CaseDataSchema, CaseDetailSchema, CasePageSchema, CaseQuerySchema, CaseStateSchema, DataSchema, EventSchema,
    ReasonSchema, StartCaseSchema, StartedCaseSchema,
)
from api.security import calls, principal, services
from engine.usecases import case_moves, casefile, cases, legal_deadlines

blp = ApiBlueprint("cases", __name__, url_prefix="/api/cases", description="Expedientes")


@blp.route("")
class Cases(MethodView):
    @calls(cases.list_cases)
    @blp.arguments(CaseQuerySchema(), location="query")
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """A page of the cases you may see, filtered and sorted."""
        return cases.list_cases(services(), principal(), **args)

    @calls(cases.start_case)
    @idempotent
    @blp.arguments(StartCaseSchema())
    @blp.response(201, StartedCaseSchema)
    def post(self, args):
        """Start a case on the latest version of a process."""
        return cases.start_case(services(), principal(), args["process_key"], args["data"])


@blp.route("/<id:case_id>")
class Case(MethodView):
    @calls(cases.case_detail)
    @blp.response(200, CaseDetailSchema)
    def get(self, case_id):
        """A case with its tasks."""
        return cases.case_detail(services(), principal(), case_id)


@blp.route("/<id:case_id>/history")
class History(MethodView):
    @calls(cases.case_history)
    @blp.response(200, EventSchema(many=True))
    def get(self, case_id):
        """Everything that happened to the case, oldest first."""
        return cases.case_history(services(), principal(), case_id)


@blp.route("/<id:case_id>/data")
class Data(MethodView):
    @calls(cases.case_data)
    @blp.response(200, CaseDataSchema)
    def get(self, case_id):
        """The case's current data."""
        return {"data": cases.case_data(services(), principal(), case_id)}


@blp.route("/<id:case_id>/deadlines")
class Deadlines(MethodView):
    @calls(legal_deadlines.list_case_deadlines)
    @blp.response(200, LegalDeadlineSchema(many=True))
    def get(self, case_id):
        """The case's legal deadlines (basis, owner, start, due moment, outcome), open ones first."""
        return legal_deadlines.list_case_deadlines(services(), principal(), case_id)


@blp.route("/<id:case_id>/case-file")
class CaseFile(MethodView):
    @calls(casefile.case_file_index)
    @blp.response(200, CaseFileSchema)
    def get(self, case_id):
        """The electronic case file's foliated index: documents and attachments in the order added, with pages,
        SHA-256 and folios in the compiled file (the index's own pages first)."""
        return casefile.case_file_index(services(), principal(), case_id)


@blp.route("/<id:case_id>/case-file.pdf")
class CaseFilePdf(MethodView):
    @calls(casefile.case_file_pdf)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf")
    def get(self, case_id):
        """The whole case file as one PDF, compiled on demand: the foliated index, then every document and
        attachment, each page stamped "Folio N de M"."""
        made = casefile.case_file_pdf(services(), principal(), current_app.extensions["expediente.attachments"],
                                      case_id)
        return send_file(io.BytesIO(made["pdf"]), mimetype="application/pdf", download_name=made["filename"])


@blp.route("/<id:case_id>/suspend")
class Suspend(MethodView):
    @calls(cases.change_case_state)
    @blp.arguments(ReasonSchema())
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Suspend a running case, with the reason; its tasks cannot be completed until resumed."""
        return cases.change_case_state(services(), principal(), case_id, "suspend", args["reason"])


@blp.route("/<id:case_id>/resume")
class Resume(MethodView):
    @calls(cases.change_case_state)
    @blp.arguments(ReasonSchema())
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Resume a suspended case, with the reason."""
        return cases.change_case_state(services(), principal(), case_id, "resume", args["reason"])


@blp.route("/<id:case_id>/cancel")
class Cancel(MethodView):
    @calls(cases.change_case_state)
    @blp.arguments(ReasonSchema())
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Cancel a case for good, with the reason; its open tasks and timers close."""
        return cases.change_case_state(services(), principal(), case_id, "cancel", args["reason"])


@blp.route("/<id:case_id>/retry")
class Retry(MethodView):
    @calls(cases.retry_case)
    @blp.arguments(DataSchema())
    @blp.response(200, CaseStateSchema)
    def post(self, args, case_id):
        """Run the failed step of an errored case again, optionally with corrected data."""
        return cases.retry_case(services(), principal(), case_id, args["data"])


@blp.route("/<id:case_id>/move")
class Move(MethodView):
    @calls(case_moves.move_case)
    @blp.arguments(MoveCaseSchema())
    @blp.response(200, MovedCaseSchema)
    def post(self, args, case_id):
        """Move the case to another step (closing its open tasks and waits, with a reason; `version`: the one you
        saw, else 409); with `dry_run`, only say what would close and open."""
        return case_moves.move_case(services(), principal(), case_id, args["element_id"], args["reason"],
                                    args["version"], dry_run=args["dry_run"])
