"""Web fixtures: the whole office (every procedure deployed, lanes mapped, one clerk per group) behind the app."""
from __future__ import annotations

import re
import shutil
from datetime import datetime

import pytest

from api.app import create_app
from engine.accounts.users import add_user
from tests.conftest import FakeClock
from tests.processes.driver import office
from tests.processes.licencia_walk import GT, local

PASSWORD = "contraseña-segura-1"
# username -> (display name, groups); every account is a clerk.
CLERKS = {
    "ventanilla1": ("Marta Ixcoy", ["ventanilla"]),
    "ventanilla2": ("Pedro Sicajau", ["ventanilla"]),
    "tramite1": ("Rosa Cumes", ["tramite"]),
    "juridico1": ("Lic. Julio Tubac", ["juridico"]),
    "gobernador": ("Gobernador Departamental", ["despacho"]),
    "notificador1": ("Carlos Chiroy", ["notificador"]),
    "mediador1": ("Elena Sotz", ["mediador"]),
    "codede1": ("Mario Saquic", ["codede"]),
}
# Monday 30 March 2026, 09:00 office time: a working day, so deadlines land where the walks expect.
START = local(2026, 3, 30, 9)


def build_office(sqlite_template, directory, clock):
    """A migrated SQLite file with every procedure deployed and the clerks of CLERKS; returns services."""
    path = directory / "expediente.db"
    shutil.copy(sqlite_template, path)
    svc = office(f"sqlite:///{path}", clock, audit_key=str(directory / "audit.pem"))  # not the repository's var/
    for username, (name, groups) in CLERKS.items():
        add_user(svc, username, "clerk", PASSWORD, display_name=name, groups=groups)
    add_user(svc, "auditor1", "auditor", PASSWORD, display_name="Auditoría")
    return svc


def build_app(svc, directory):
    return create_app(test_config={"SECRET_KEY": "web-test-secret", "TESTING": True, "VAR_DIR": str(directory),
                                   "LOGIN_FIRST_DELAY_SECONDS": 0.0}, services=svc)


@pytest.fixture(scope="module")
def web_office(sqlite_template, tmp_path_factory):
    """One office per test module (deploying every procedure is the slow part)."""
    directory = tmp_path_factory.mktemp("web")
    clock = FakeClock(START)
    svc = build_office(sqlite_template, directory, clock)
    yield svc, build_app(svc, directory)
    svc.db.dispose()


@pytest.fixture
def app(web_office):
    return web_office[1]


@pytest.fixture
def office_svc(web_office):
    return web_office[0]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client, username: str, password: str = PASSWORD):
    """Log a test client in through the login page; returns the response to the POST."""
    page = client.get("/entrar").get_data(as_text=True)
    return client.post("/entrar", data={"username": username, "password": password, "csrf_token": csrf_of(page)})


def as_form(data: dict, prefix: str = "") -> dict:
    """A JSON object as the page's form posts it (paths for groups, one line per item for lists of text)."""
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= as_form(value, f"{name}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value):
                out |= as_form(row, f"{name}.{i}.")
        elif isinstance(value, list):
            out[name] = "\n".join(map(str, value))
        elif isinstance(value, bool):
            out[f"{name}.present"] = "1"
            if value:
                out[name] = "on"
        elif isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", value):
            # datetime-local inputs take office time to the minute
            out[name] = datetime.fromisoformat(value).astimezone(GT).strftime("%Y-%m-%dT%H:%M")
        else:
            out[name] = str(value)
    return out
