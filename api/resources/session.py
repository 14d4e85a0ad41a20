"""The browser session: log in, who am I (with the CSRF token), log out."""
from __future__ import annotations

from flask import current_app, g, session
from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.accounts import LoginSchema, SessionSchema
from api.security import calls, principal, public, services
from engine.accounts import auth
from web.session import end_session, start_session

blp = ApiBlueprint("session", __name__, url_prefix="/api/session", description="Sesión del navegador")


@blp.route("")
class Session(MethodView):
    @calls(auth.current_user)
    @blp.response(200, SessionSchema)
    def get(self):
        """Who is logged in, and the CSRF token to send as X-CSRF-Token."""
        csrf = session.get("csrf") if g.via == "session" else None  # a token's caller has no session
        return {"user": auth.current_user(services(), principal()), "csrf_token": csrf}

    @public
    @blp.doc(security=[])
    @blp.arguments(LoginSchema())
    @blp.response(200, SessionSchema)
    def post(self, args):
        """Log in with username and password; failures slow down and then lock the account."""
        user, tag = auth.login(services(), args["username"], args["password"],
                               current_app.extensions["expediente.login_policy"])
        return {"user": user, "csrf_token": start_session(user, tag)}

    @public
    @blp.doc(security=[])
    @blp.response(204)
    def delete(self):
        """Log out: ends every browser session of this account (harmless without a session)."""
        end_session(principal() if g.via == "session" else None)
