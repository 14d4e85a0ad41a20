"""Flask application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify

from api import config, security
from engine.ops import health as engine_health
from engine.usecases.attachments import AttachmentStore
from engine.accounts.auth import LoginPolicy
from engine.config import PROJECT_ROOT, Settings
from engine.services import Services, build_services


def create_app(test_config: dict | None = None, services: Services | None = None) -> Flask:
    """Build the app; tests pass their own services (database, clock) or config."""
    # web/static holds the npm-built vendor files, the API docs' viewer among them.
    app = Flask(__name__, static_folder=str(PROJECT_ROOT / "web" / "static"))
    app.config.from_mapping(config.DEFAULTS, SECRET_KEY=None)
    app.config.from_prefixed_env("EXPEDIENTE")
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = config.load_secret_key(app.config["VAR_DIR"])
    # from_prefixed_env parses values as JSON: a numeric secret would arrive as an int.
    app.config["SECRET_KEY"] = str(app.config["SECRET_KEY"])
    max_bytes = int(app.config["ATTACHMENT_MAX_BYTES"])
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = max_bytes + config.REQUEST_OVERHEAD_BYTES
    app.extensions["expediente"] = services or build_services(Settings.from_env())
    app.extensions["expediente.attachments"] = AttachmentStore(
        Path(app.config["ATTACHMENTS_DIR"] or Path(app.config["VAR_DIR"]) / "attachments"), max_bytes)
    app.extensions["expediente.login_policy"] = LoginPolicy(
        int(app.config["LOGIN_MAX_FAILURES"]), int(app.config["LOGIN_LOCK_SECONDS"]),
        float(app.config["LOGIN_FIRST_DELAY_SECONDS"]))

    from api.errors import register_error_handlers
    from api.openapi import make_api
    from api.resources import BLUEPRINTS
    api = make_api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    # After smorest's init_app, so our problem+json handlers replace its HTTPException handler.
    register_error_handlers(app)
    security.init_app(app)
    from web import modeler_pages, pages  # the pages share this app, its session and its services
    pages.init_app(app)
    modeler_pages.register(app)

    @app.get("/health")
    def health():
        """Database reachable, migrations current, scheduler heartbeat fresh: 200, else 503 (for monitors)."""
        ok, checks = engine_health.report(app.extensions["expediente"],
                                          float(app.config["HEALTH_SCHEDULER_STALE_SECONDS"]),
                                          bool(app.config["HEALTH_REQUIRE_SCHEDULER"]))
        return jsonify(status="ok" if ok else "fail", checks=checks), 200 if ok else 503

    return app
