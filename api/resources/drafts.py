"""Drafts: supervisors edit process diagrams, see their problems, and publish them as versions."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.drafts import (DiffSchema, DraftDiffQuerySchema, NewProcessDraftSchema, ProcessDraftSchema,
                                ProcessDraftSummarySchema, PublishSchema, SaveProcessDraftSchema)
from api.schemas.processes import DeployedSchema
from api.security import calls, principal, services
from engine.usecases import drafts

blp = ApiBlueprint("drafts", __name__, url_prefix="/api/drafts", description="Borradores de procedimientos")


@blp.route("")
class Drafts(MethodView):
    @calls(drafts.list_drafts)
    @blp.response(200, ProcessDraftSummarySchema(many=True))
    def get(self):
        """Every draft in progress."""
        return drafts.list_drafts(services(), principal())

    @calls(drafts.create_draft)
    @blp.arguments(NewProcessDraftSchema())
    @blp.response(201, ProcessDraftSchema)
    def post(self, body):
        """Open a draft: a copy of the latest version, or the template for a new procedure."""
        return drafts.create_draft(services(), principal(), body["process_key"], body["name"])


@blp.route("/<name:process_key>")
class Draft(MethodView):
    @calls(drafts.get_draft)
    @blp.response(200, ProcessDraftSchema)
    def get(self, process_key):
        """The draft's XML and the problems found in it."""
        return drafts.get_draft(services(), principal(), process_key)

    @calls(drafts.save_draft)
    @blp.arguments(SaveProcessDraftSchema())
    @blp.response(200, ProcessDraftSchema)
    def put(self, body, process_key):
        """Save the draft (any number of times); the answer lists its problems by element."""
        return drafts.save_draft(services(), principal(), process_key, body["xml"], body["base_version"],
                                 body["revision"])

    @calls(drafts.discard_draft)
    @blp.response(204)
    def delete(self, process_key):
        """Discard the draft."""
        drafts.discard_draft(services(), principal(), process_key)


@blp.route("/<name:process_key>/bpmn")
class DraftDiagram(MethodView):
    @calls(drafts.draft_diagram)
    @blp.response(200, {"type": "string"}, content_type="application/xml")
    def get(self, process_key):
        """Download the draft as a .bpmn file."""
        return Response(drafts.draft_diagram(services(), principal(), process_key), mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{process_key}.bpmn"'})


@blp.route("/<name:process_key>/diff")
class DraftDiff(MethodView):
    @calls(drafts.diff_draft)
    @blp.arguments(DraftDiffQuerySchema(), location="query")
    @blp.response(200, DiffSchema)
    def get(self, query, process_key):
        """What the draft changes from the version it started from (or from version `against`)."""
        return drafts.diff_draft(services(), principal(), process_key, query["against"])


@blp.route("/<name:process_key>/publish")
class Publish(MethodView):
    @calls(drafts.publish_draft)
    @blp.arguments(PublishSchema())
    @blp.response(201, DeployedSchema)
    def post(self, body, process_key):
        """Publish the draft as the next version; refused (422) while it has errors. Running cases keep theirs."""
        return drafts.publish_draft(services(), principal(), process_key, body["comment"], body["revision"])
