"""Decision tables of a draft: open, save (checked; 409 when stale) and try with sample inputs."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.decisions import (DecisionSchema, DecisionSummarySchema, SaveDecisionSchema, TryDecisionSchema,
                                   TryResultSchema)
from api.security import calls, principal, services
from engine.usecases import decisions

blp = ApiBlueprint("draft_decisions", __name__, url_prefix="/api/drafts",
                   description="Tablas de decisión de los borradores")


@blp.route("/<name:process_key>/decisions")
class Decisions(MethodView):
    @calls(decisions.list_decisions)
    @blp.response(200, DecisionSummarySchema(many=True))
    def get(self, process_key):
        """The draft's decision tables: its version's DMN files and those edited in the draft."""
        return decisions.list_decisions(services(), principal(), process_key)


@blp.route("/<name:process_key>/decisions/<name:file_name>")
class Decision(MethodView):
    @calls(decisions.get_decision)
    @blp.response(200, DecisionSchema)
    def get(self, process_key, file_name):
        """The draft's table (its copy, else the version's file), its input columns and its problems."""
        return decisions.get_decision(services(), principal(), process_key, file_name)

    @calls(decisions.save_decision)
    @blp.arguments(SaveDecisionSchema())
    @blp.response(200, DecisionSchema)
    def put(self, body, process_key, file_name):
        """Save the draft's copy; refused (422) unless SpiffWorkflow parses it and every cell compiles in the
        sandbox; 409 when somebody saved it since `revision`. Publishing the draft publishes it."""
        return decisions.save_decision(services(), principal(), process_key, file_name, body["xml"],
                                       body["revision"])


@blp.route("/<name:process_key>/decisions/<name:file_name>/try")
class TryDecision(MethodView):
    @calls(decisions.try_decision)
    @blp.arguments(TryDecisionSchema())
    @blp.response(200, TryResultSchema)
    def post(self, body, process_key, file_name):
        """Evaluate the table on sample inputs as a case would: the matched rules and the outputs, or the error
        (400 naming the input whose value does not fit its column)."""
        return decisions.try_decision(services(), principal(), process_key, file_name, body["values"], body["xml"])
