"""End-to-end fixtures: the whole office behind the app (as tests/web), Chromium, and the app on a port."""
from tests.e2e.chromium import browser, server  # noqa: F401 (fixtures)
from tests.web.conftest import app, office_svc, web_office  # noqa: F401 (fixtures)
