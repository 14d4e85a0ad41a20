"""API fixtures: the app on a migrated database, seeded users of every role, clients with their tokens."""
from __future__ import annotations

import pytest

from api.app import create_app
from engine.accounts.auth import create_token, principal_by_username
from engine.usecases.deploy import deploy_files
from engine.accounts.users import add_user, map_lane
from tests.conftest import bpmn_fixture

PASSWORD = "contraseña-segura-1"
# username -> (role, groups)
ACCOUNTS = {
    "oficial1": ("clerk", ["ventanilla", "tramite"]),
    "oficial2": ("clerk", ["ventanilla"]),
    "juridico1": ("clerk", ["juridico"]),
    "supervisor1": ("supervisor", ["ventanilla", "tramite"]),
    "auditor1": ("auditor", []),
    "admin": ("admin", []),
}
ROLE_USERS = {"clerk": "oficial1", "supervisor": "supervisor1", "auditor": "auditor1", "admin": "admin"}


def seed(svc) -> None:
    """The five-step process (lanes Ventanilla/Trámite) and one account per row of ACCOUNTS."""
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    for username, (role, groups) in ACCOUNTS.items():
        add_user(svc, username, role, PASSWORD, groups=groups)


def make_app(svc, tmp_path, **config):
    return create_app(test_config={"SECRET_KEY": "test-secret", "TESTING": True, "VAR_DIR": str(tmp_path),
                                   **config}, services=svc)


class Client:
    """A test client that sends one user's bearer token (or none) with every request."""

    def __init__(self, app, token: str | None = None, cookies: bool = True):
        self.flask = app.test_client(use_cookies=cookies)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def open(self, method: str, path: str, **kwargs):
        response = self.flask.open(path, method=method, headers={**self.headers, **kwargs.pop("headers", {})},
                                   **kwargs)
        response.get_data()  # buffer the body, then close file-backed responses (downloads)
        response.close()
        return response

    def get(self, path, **kw):
        return self.open("GET", path, **kw)

    def post(self, path, **kw):
        return self.open("POST", path, **kw)

    def put(self, path, **kw):
        return self.open("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.open("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.open("DELETE", path, **kw)


def token_for(svc, username: str) -> str:
    return create_token(svc, principal_by_username(svc, username), "pruebas")["token"]


@pytest.fixture
def seeded(sqlite_svc):
    seed(sqlite_svc)
    return sqlite_svc


@pytest.fixture
def app(seeded, tmp_path):
    return make_app(seeded, tmp_path)


@pytest.fixture
def as_user(app, seeded):
    """as_user("oficial1") -> a Client authenticated with that user's token."""
    return lambda username: Client(app, token_for(seeded, username))


@pytest.fixture
def anonymous(app):
    return Client(app)
