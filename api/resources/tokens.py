"""Personal API tokens for integrations: shown once, stored hashed."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.accounts import NewTokenSchema, TokenCreateSchema, TokenSchema
from api.security import calls, principal, services
from engine.accounts import auth

blp = ApiBlueprint("tokens", __name__, url_prefix="/api/tokens", description="Tokens personales")


@blp.route("")
class Tokens(MethodView):
    @calls(auth.list_tokens)
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """Your tokens (their first characters only)."""
        return auth.list_tokens(services(), principal())

    @calls(auth.create_token)
    @blp.arguments(TokenCreateSchema())
    @blp.response(201, NewTokenSchema)
    def post(self, args):
        """Create a token; the response is the only time it is shown. It acts with your role."""
        return auth.create_token(services(), principal(), args["name"], args["expires_in_days"])


@blp.route("/<id:token_id>")
class Token(MethodView):
    @calls(auth.revoke_token)
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of your tokens."""
        auth.revoke_token(services(), principal(), token_id)
