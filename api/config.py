"""The Flask side of the settings: defaults, EXPEDIENTE_* overrides, and the per-install secret."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from engine.config import PROJECT_ROOT

SECRET_FILE = "secret_key"
DEFAULTS = {
    "API_TITLE": "Expediente",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Served from the npm package swagger-ui-dist copied into web/static/vendor (never a CDN).
    "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
    "JSON_SORT_KEYS": False,
    "SESSION_COOKIE_NAME": "expediente_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # The cookie is Secure on requests that came over HTTPS anyway (api.security.SessionInterface); true marks
    # it Secure always, for a TLS-terminating proxy that does not say so (see PROXY_FIX).
    "SESSION_COOKIE_SECURE": False,
    # Number of reverse proxies whose X-Forwarded-* headers to trust (0: none, the client talks to us directly).
    "PROXY_FIX": 0,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    "VAR_DIR": str(PROJECT_ROOT / "var"),
    "ATTACHMENTS_DIR": None,                        # default: VAR_DIR/attachments
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_SECONDS": 15 * 60,
    "LOGIN_FIRST_DELAY_SECONDS": 1.0,
    # /health answers 503 when no scheduler has stamped its heartbeat for this long (a pass every 5 s;
    # a pass of 2,000 timers may take a minute). False: a server that runs without a scheduler on purpose.
    "HEALTH_SCHEDULER_STALE_SECONDS": 120,
    "HEALTH_REQUIRE_SCHEDULER": True,
}
# Room for multipart framing around the largest file we accept; bigger bodies get 413 unread.
REQUEST_OVERHEAD_BYTES = 1024 * 1024


def load_secret_key(var_dir: str | Path) -> str:
    """The install's own secret in var/secret_key, created (readable by its owner only) on first use."""
    path = Path(var_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # atomic: of two processes starting together, exactly one secret wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
