"""Every use case declared with permissions.use_case refuses a role without its action, and nobody at all.

The use cases are found by walking the engine's modules for functions carrying `.action`, so a new one is
covered without a row here; the refusal must come before the use case touches its services.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import engine
from engine.accounts.permissions import RULES, NotAuthenticated, Principal
from engine.errors import Forbidden

ROLES = ("clerk", "supervisor", "auditor", "admin")
# Issue 13 declares every use case that serves a request; fewer than this means the walk lost them.
MIN_DECLARED = 20


class Untouchable:
    """Services that fail the test when a use case reaches them: its role check must have refused first."""

    def __getattr__(self, name):
        raise Reached(name)


class Reached(Exception):
    pass


def engine_functions() -> dict[str, object]:
    """Qualified name -> function, for every function defined in an engine module."""
    found = {}
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return found


def takes_svc_and_principal(fn) -> bool:
    return list(inspect.signature(inspect.unwrap(fn)).parameters)[:2] == ["svc", "principal"]


FUNCTIONS = engine_functions()
USE_CASES = {name: fn for name, fn in FUNCTIONS.items() if hasattr(fn, "action")}
WITH_A_ROLE_REFUSED = [(name, role) for name, fn in sorted(USE_CASES.items())
                       for role in ROLES if role not in RULES.get(fn.action, ())]


def principal(role: str) -> Principal:
    # Groups of every kind, so that nothing but the role can be what refuses him.
    return Principal(user_id=1, username=f"un_{role}", role=role, groups=("ventanilla", "tramite", "juridico"))


def test_the_walk_finds_the_declared_use_cases():
    assert len(USE_CASES) >= MIN_DECLARED, sorted(USE_CASES)


def test_every_public_function_taking_svc_and_principal_declares_its_action():
    """A use case that serves a request (svc, principal, ...) without the decorator would check no role."""
    assert sorted(name for name, fn in FUNCTIONS.items() if not name.rsplit(".", 1)[1].startswith("_")
                  and takes_svc_and_principal(fn) and not hasattr(fn, "action")) == []


def test_every_declared_action_is_a_rule():
    assert {name: fn.action for name, fn in USE_CASES.items() if fn.action not in RULES} == {}


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_nobody_signed_in_is_refused_before_anything_runs(name):
    with pytest.raises(NotAuthenticated):
        USE_CASES[name](Untouchable(), None)


@pytest.mark.parametrize("name,role", WITH_A_ROLE_REFUSED)
def test_a_role_without_the_action_is_forbidden_before_anything_runs(name, role):
    with pytest.raises(Forbidden) as refused:
        USE_CASES[name](Untouchable(), principal(role))
    assert refused.value.details.get("action") == USE_CASES[name].action


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_a_role_with_the_action_gets_past_the_check(name):
    """The refusal above comes from the role: an allowed role goes on into the use case (and hits its fakes)."""
    allowed = next(role for role in ROLES if role in RULES[USE_CASES[name].action])
    try:
        USE_CASES[name](Untouchable(), principal(allowed))
    except (Forbidden, NotAuthenticated) as exc:
        pytest.fail(f"{name} refused {allowed}, whose role has {USE_CASES[name].action}: {exc}")
    except Exception:  # noqa: BLE001 - reaching the services, or missing arguments: past the check either way
        pass
