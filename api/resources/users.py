"""Users (admins manage them; supervisors and auditors read them)."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.accounts import UserCreateSchema, UserSchema, UserUpdateSchema
from api.schemas.admin_log import PasswordResetResultSchema, PasswordResetSchema
from api.security import calls, principal, services
from engine.accounts import admin, auth
from engine.accounts import users

blp = ApiBlueprint("users", __name__, url_prefix="/api/users", description="Usuarios")


@blp.route("")
class Users(MethodView):
    @calls(users.list_users)
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """Every account with its role and groups."""
        return users.list_users(services(), principal())

    @calls(users.create_user)
    @blp.arguments(UserCreateSchema())
    @blp.response(201, UserSchema)
    def post(self, args):
        """Create an account."""
        return users.create_user(services(), principal(), args["username"], args["role"], args["password"],
                                 display_name=args.get("display_name"), email=args.get("email"), groups=args["groups"])


@blp.route("/<name:username>")
class User(MethodView):
    @calls(users.get_user)
    @blp.response(200, UserSchema)
    def get(self, username):
        """One account."""
        return users.get_user(services(), principal(), username)

    @calls(auth.update_user)
    @blp.arguments(UserUpdateSchema())
    @blp.response(200, UserSchema)
    def patch(self, args, username):
        """Change role, groups, name, e-mail, password or active; `unlock` clears a login lock."""
        return auth.update_user(services(), principal(), username, **args)


@blp.route("/<name:username>/password")
class UserPassword(MethodView):
    @calls(admin.reset_password)
    @blp.arguments(PasswordResetSchema())
    @blp.response(200, PasswordResetResultSchema)
    def post(self, args, username):
        """Reset the password (the one sent, or a generated one returned once); ends the account's sessions and
        clears its login lock."""
        return admin.reset_password(services(), principal(), username, args.get("password"))
