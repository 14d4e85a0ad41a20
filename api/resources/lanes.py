"""The lane→group table: which group works each BPMN lane."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.accounts import LaneSchema
from api.security import calls, principal, services
from engine.usecases import lanes

blp = ApiBlueprint("lanes", __name__, url_prefix="/api/lanes", description="Carriles y grupos")


@blp.route("")
class Lanes(MethodView):
    @calls(lanes.list_lanes)
    @blp.response(200, LaneSchema(many=True))
    def get(self):
        """Every lane mapping ("*" applies to every process without its own)."""
        return lanes.list_lanes(services(), principal())

    @calls(lanes.set_lane)
    @blp.arguments(LaneSchema())
    @blp.response(200, LaneSchema)
    def put(self, args):
        """Say which group works a lane (creates the group if needed); applies to tasks created from now on."""
        return lanes.set_lane(services(), principal(), args["lane"], args["group"], args["process_key"])
