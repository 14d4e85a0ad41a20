"""Messages and signals: anyone with message.send posts one (delivered to the case(s) whose waiting catch matches);
supervisors list them, read one, retry or discard those left pending or undeliverable."""
from __future__ import annotations

from flask.views import MethodView

from api.idempotency import idempotent
from api.openapi import ApiBlueprint
from api.schemas.messages import (
    DeliverySchema, DiscardSchema, MessagePageSchema, MessageQuerySchema, MessageSchema, PostMessageSchema,
    SignalSchema,
)
from api.security import calls, principal, services
from engine.usecases import messaging

blp = ApiBlueprint("messages", __name__, url_prefix="/api", description="Mensajes y señales")


@blp.route("/messages")
class Messages(MethodView):
    @calls(messaging.list_messages)
    @blp.arguments(MessageQuerySchema(), location="query")
    @blp.response(200, MessagePageSchema)
    def get(self, args):
        """Messages, newest first, filtered by state, name or a case that sent or received them."""
        return messaging.list_messages(services(), principal(), **args)

    @calls(messaging.post_message)
    @idempotent
    @blp.arguments(PostMessageSchema())
    @blp.response(202, DeliverySchema)
    def post(self, args):
        """Send a message: delivered to the case whose waiting catch matches its name and correlation keys, kept as
        pending when it arrives early, or as undeliverable (with the reason) when nothing can take it."""
        return messaging.post_message(services(), principal(), args["name"], args["correlation"], args["payload"])


@blp.route("/signals")
class Signals(MethodView):
    @calls(messaging.broadcast_signal)
    @idempotent
    @blp.arguments(SignalSchema())
    @blp.response(202, DeliverySchema)
    def post(self, args):
        """Broadcast a signal to every case waiting for it (of one procedure, when given)."""
        return messaging.broadcast_signal(services(), principal(), args["name"], args["process_key"],
                                          args["payload"])


@blp.route("/messages/<id:message_id>")
class Message(MethodView):
    @calls(messaging.get_message)
    @blp.response(200, MessageSchema)
    def get(self, message_id):
        """One message with its correlation, payload, state and reason."""
        return messaging.get_message(services(), principal(), message_id)


@blp.route("/messages/<id:message_id>/retry")
class Retry(MethodView):
    @calls(messaging.retry_message)
    @blp.response(200, MessageSchema)
    def post(self, message_id):
        """Try a pending or undeliverable message again now."""
        return messaging.retry_message(services(), principal(), message_id)


@blp.route("/messages/<id:message_id>/discard")
class Discard(MethodView):
    @calls(messaging.discard_message)
    @blp.arguments(DiscardSchema())
    @blp.response(200, MessageSchema)
    def post(self, args, message_id):
        """Discard a pending or undeliverable message for good, with the reason."""
        return messaging.discard_message(services(), principal(), message_id, args["reason"])
