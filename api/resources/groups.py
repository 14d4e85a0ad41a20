"""Groups of users (a lane's tasks go to one group)."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.accounts import GroupCreateSchema, GroupSchema
from api.schemas.admin_log import MemberSchema
from api.security import calls, principal, services
from engine.accounts import admin, auth
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
    @blp.arguments(GroupCreateSchema())
    @blp.response(201, GroupSchema)
    def post(self, args):
        """Create a group."""
        return auth.create_group(services(), principal(), args["name"], args["description"])


@blp.route("/<name:group>/members")
class Members(MethodView):
    @calls(admin.add_member)
    @blp.arguments(MemberSchema())
    @blp.response(204)
    def post(self, args, group):
        """Put an account in the group (409 if it is already a member)."""
        admin.add_member(services(), principal(), group, args["username"])


@blp.route("/<name:group>/members/<name:username>")
class Member(MethodView):
    @calls(admin.remove_member)
    @blp.response(204)
    def delete(self, group, username):
        """Take an account out of the group."""
        admin.remove_member(services(), principal(), group, username)
