"""Office closure days, managed by admins; deadlines computed afterwards skip them."""
from __future__ import annotations

from datetime import date

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.calendar import ClosureCreateSchema, ClosureQuerySchema, ClosureSchema
from api.security import calls, principal, services
from engine.usecases import closures

blp = ApiBlueprint("closures", __name__, url_prefix="/api/closures", description="Días de cierre de la oficina")


@blp.route("")
class Closures(MethodView):
    @calls(closures.list_closures)
    @blp.arguments(ClosureQuerySchema(), location="query")
    @blp.response(200, ClosureSchema(many=True))
    def get(self, args):
        """Closure days, earliest first."""
        return closures.list_closures(services(), principal(), args["year"])

    @calls(closures.add_closure)
    @blp.arguments(ClosureCreateSchema())
    @blp.response(201, ClosureSchema)
    def post(self, args):
        """Declare a closure day."""
        return closures.add_closure(services(), principal(), args["day"], args["description"])


@blp.route("/<isodate:day>")
class Closure(MethodView):
    @calls(closures.remove_closure)
    @blp.response(204)
    def delete(self, day: date):
        """Reopen a day; deadlines already computed keep their dates."""
        closures.remove_closure(services(), principal(), day)
