"""The diagram as a heat map: per element cases passing and time spent, per flow times taken."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.heatmap import HeatmapQuerySchema, HeatmapSchema
from api.security import calls, principal, services
from engine.usecases import heatmap

blp = ApiBlueprint("heatmap", __name__, url_prefix="/api/reports/heatmap", description="Informes: mapa de calor")


@blp.route("")
class Heatmap(MethodView):
    @calls(heatmap.heatmap)
    @blp.arguments(HeatmapQuerySchema(), location="query")
    @blp.response(200, HeatmapSchema)
    def get(self, args):
        """Per element of a procedure version's diagram, the cases that passed it and the time spent there (median,
        p90, total); per sequence flow, how often it was taken; in a period of office days."""
        key = args.pop("process_key")
        result = heatmap.heatmap(services(), principal(), key, **args)
        return {**result, "date_from": result["from"], "date_to": result["to"]}
