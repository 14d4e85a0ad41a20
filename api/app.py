"""Flask application factory."""
from __future__ import annotations

from flask import Flask, jsonify

from engine.config import Settings
from engine.services import Services, build_services


def create_app(test_config: dict | None = None, services: Services | None = None) -> Flask:
    """Build the app; tests pass their own services (database, clock) or config."""
    app = Flask(__name__)
    app.config.from_mapping(SECRET_KEY=None, JSON_SORT_KEYS=False)
    app.config.from_prefixed_env("EXPEDIENTE")
    if test_config:
        app.config.update(test_config)
    app.extensions["expediente"] = services or build_services(Settings.from_env())

    from api.errors import register_error_handlers
    register_error_handlers(app)

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    return app
