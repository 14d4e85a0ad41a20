"""End-to-end fixtures: the whole office behind the app (as tests/web), Chromium, and the app on a port."""
import pytest

from tests.e2e.chromium import CSP_VIOLATIONS, browser, server  # noqa: F401 (fixtures)
from tests.web.conftest import app, office_svc, web_office  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def no_csp_violation():
    """A browser test fails when a page it opened broke the Content-Security-Policy."""
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, "\n".join(CSP_VIOLATIONS)
