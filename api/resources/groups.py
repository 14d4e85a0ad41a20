"""Groups of users (a lane's tasks go to one group)."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.accounts import GroupCreateSchema, GroupSchema
from api.security import requires, services
from engine.accounts import auth
from engine.accounts import users

blp = ApiBlueprint("groups", __name__, url_prefix="/api/groups", description="Grupos")


@blp.route("")
class Groups(MethodView):
    @requires("user.read")
    @blp.response(200, GroupSchema(many=True))
    def get(self):
        """Every group with its number of members."""
        return users.list_groups(services())

    @requires("user.manage")
    @blp.arguments(GroupCreateSchema)
    @blp.response(201, GroupSchema)
    def post(self, args):
        """Create a group."""
        auth.create_group(services(), args["name"], args["description"])
        return next(g for g in users.list_groups(services()) if g["name"] == args["name"])
