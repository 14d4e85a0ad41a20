"""Groups of users (a lane's tasks go to one group)."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.accounts import GroupCreateSchema, GroupSchema
from api.security import calls, principal, services
from engine.accounts import auth
from engine.accounts import users

blp = ApiBlueprint("groups", __name__, url_prefix="/api/groups", description="Grupos")


@blp.route("")
class Groups(MethodView):
    @calls(users.list_groups)
    @blp.response(200, GroupSchema(many=True))
    def get(self):
        """Every group with its number of members."""
        return users.list_groups(services(), principal())

    @calls(auth.create_group)
    @blp.arguments(GroupCreateSchema)
    @blp.response(201, GroupSchema)
    def post(self, args):
        """Create a group."""
        return auth.create_group(services(), principal(), args["name"], args["description"])
