"""The administrator's changes to accounts, groups and lanes (engine/accounts/admin.py), each logged, on SQLite and
PostgreSQL."""
from __future__ import annotations

import threading

import pytest

from engine.accounts import admin, auth
from engine.accounts.login_throttle import LoginPolicy, note_failure
from engine.accounts.users import add_user, get_user, list_users
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.usecases.admin_log import list_admin_log
from engine.usecases.lanes import apply_lane_files, list_lanes, set_lane
from tests.conftest import make_services, principal_for

ADMIN = principal_for("jefa")
PASSWORD = "clave-de-prueba-1"
POLICY = LoginPolicy(max_failures=3, lock_seconds=600, first_delay_seconds=0)


@pytest.fixture
def svc(database_url, clock):
    services = make_services(database_url, clock)
    add_user(services, "jefa", "admin", PASSWORD)
    add_user(services, "ana", "clerk", PASSWORD, display_name="Ana López", groups=["ventanilla"])
    yield services
    services.db.dispose()


def log_of(svc, **filters) -> list[tuple]:
    return [(e["actor"], e["action"], e["target"], e["detail"])
            for e in reversed(list_admin_log(svc, ADMIN, **filters)["items"])]


def test_a_new_account_gets_a_generated_password_that_logs_in_and_a_log_row(svc):
    created = admin.create_account(svc, ADMIN, "beto", "clerk", display_name="Beto Sic", email="beto@example.gt",
                                   groups=["juridico", "ventanilla", "juridico"])
    assert len(created["password"]) >= admin.MIN_PASSWORD_CHARS
    assert (created["groups"], created["active"]) == (["juridico", "ventanilla"], True)
    user, _tag = auth.login(svc, "beto", created["password"])
    assert user.groups == ("juridico", "ventanilla")
    assert log_of(svc) == [("jefa", "user.create", "beto", {"role": "clerk", "display_name": "Beto Sic",
                                                            "email": "beto@example.gt",
                                                            "groups": ["juridico", "ventanilla"]})]


def test_bad_input_names_the_field_and_creates_nothing(svc):
    for kwargs, field in (({"username": "con espacio"}, "username"), ({"role": "jefe"}, "role"),
                          ({"email": "no-es-correo"}, "email"), ({"password": "corta"}, "password")):
        args = {"username": "nuevo", "role": "clerk", **kwargs}
        with pytest.raises(InvalidInput) as refused:
            admin.create_account(svc, ADMIN, args.pop("username"), args.pop("role"), **args)
        assert [e["field"] for e in refused.value.errors] == [field]
    with pytest.raises(Conflict):
        admin.create_account(svc, ADMIN, "ana", "clerk")
    assert [u["username"] for u in auth_users(svc)] == ["ana", "jefa"] and log_of(svc) == []


def auth_users(svc):
    return list_users(svc, ADMIN)


def test_the_last_active_admin_is_neither_deactivated_nor_demoted(svc):
    other = principal_for("otro")
    for change in (lambda: admin.set_active(svc, other, "jefa", False),
                   lambda: auth.update_user(svc, other, "jefa", role="supervisor"),
                   lambda: auth.update_user(svc, other, "jefa", active=False)):
        with pytest.raises(admin.LastAdmin, match="último administrador activo"):
            change()
    assert (get_user(svc, ADMIN, "jefa")["role"], get_user(svc, ADMIN, "jefa")["active"]) == ("admin", True)
    add_user(svc, "segundo", "admin", PASSWORD)
    admin.set_active(svc, other, "jefa", False)
    with pytest.raises(admin.LastAdmin):
        auth.update_user(svc, other, "segundo", role="clerk")
    assert [a for _, a, t, _ in log_of(svc)] == ["user.deactivate"]


def test_an_admin_cannot_deactivate_himself(svc):
    add_user(svc, "segundo", "admin", PASSWORD)
    with pytest.raises(Conflict, match="su propia cuenta"):
        admin.set_active(svc, ADMIN, "jefa", False)


def test_a_deactivated_account_cannot_log_in_and_its_sessions_end(svc):
    user, tag = auth.login(svc, "ana", PASSWORD)
    assert auth.load_principal(svc, user.user_id, tag) is not None
    admin.set_active(svc, ADMIN, "ana", False)
    assert auth.load_principal(svc, user.user_id, tag) is None
    with pytest.raises(auth.LoginFailed):
        auth.login(svc, "ana", PASSWORD)
    admin.set_active(svc, ADMIN, "ana", True)
    assert auth.login(svc, "ana", PASSWORD)[0].username == "ana"
    assert [(a, t) for _, a, t, _ in log_of(svc)] == [("user.deactivate", "ana"), ("user.reactivate", "ana")]


def test_unlock_clears_the_lock_and_is_logged(svc):
    for _ in range(POLICY.max_failures):
        note_failure(svc, "ana", POLICY)
    assert get_user(svc, ADMIN, "ana")["locked_until"] is not None
    with pytest.raises(auth.AccountLocked):
        auth.login(svc, "ana", PASSWORD, POLICY)
    unlocked = admin.unlock_account(svc, ADMIN, "ana")
    assert (unlocked["failed_logins"], unlocked["locked_until"]) == (0, None)
    assert auth.login(svc, "ana", PASSWORD, POLICY)[0].username == "ana"
    assert log_of(svc) == [("jefa", "user.unlock", "ana", {"failed_logins": POLICY.max_failures})]


def test_a_password_reset_ends_sessions_and_only_the_new_password_works(svc):
    user, tag = auth.login(svc, "ana", PASSWORD)
    reset = admin.reset_password(svc, ADMIN, "ana")
    assert auth.load_principal(svc, user.user_id, tag) is None
    with pytest.raises(auth.LoginFailed):
        auth.login(svc, "ana", PASSWORD)
    assert auth.login(svc, "ana", reset["password"])[0].username == "ana"
    assert log_of(svc) == [("jefa", "user.reset_password", "ana", None)]
    assert reset["password"] not in str(list_admin_log(svc, ADMIN))


def test_an_edit_from_a_stale_form_is_refused_and_changes_nothing(svc):
    form = admin.fingerprint(get_user(svc, ADMIN, "ana"))
    admin.edit_account(svc, ADMIN, "ana", expected=form, role="supervisor", display_name="Ana López de Paz",
                       email="ana@example.gt", groups=["ventanilla", "tramite"])
    with pytest.raises(admin.StaleForm, match="Otra persona modificó la cuenta ana"):
        admin.edit_account(svc, ADMIN, "ana", expected=form, role="clerk", display_name="Ana",
                           email="", groups=[])
    ana = get_user(svc, ADMIN, "ana")
    assert (ana["role"], ana["display_name"], ana["groups"]) == ("supervisor", "Ana López de Paz",
                                                                 ["tramite", "ventanilla"])
    assert log_of(svc) == [("jefa", "user.update", "ana", {
        "role": ["clerk", "supervisor"], "display_name": ["Ana López", "Ana López de Paz"],
        "email": [None, "ana@example.gt"], "groups": [["ventanilla"], ["tramite", "ventanilla"]]})]


def test_group_members_and_lanes_are_changed_and_logged(svc):
    auth.create_group(svc, ADMIN, "caja", "Cobros")
    admin.add_member(svc, ADMIN, "caja", "ana")
    with pytest.raises(Conflict):
        admin.add_member(svc, ADMIN, "caja", "ana")
    groups = {g["name"]: g for g in admin.groups_and_members(svc, ADMIN)}
    assert groups["caja"] == {"name": "caja", "description": "Cobros", "members": ["ana"]}
    admin.remove_member(svc, ADMIN, "caja", "ana")
    set_lane(svc, ADMIN, "Caja", "caja", "licencia")
    set_lane(svc, ADMIN, "Caja", "ventanilla", "licencia")
    set_lane(svc, ADMIN, "Caja", "ventanilla", "licencia")  # no change: no row
    assert {(r["process_key"], r["lane"], r["group"]) for r in list_lanes(svc, ADMIN)} >= {
        ("licencia", "Caja", "ventanilla")}
    assert log_of(svc) == [
        ("jefa", "group.create", "caja", {"description": "Cobros"}),
        ("jefa", "group.add_member", "caja", {"username": "ana"}),
        ("jefa", "group.remove_member", "caja", {"username": "ana"}),
        ("jefa", "lane.set", "licencia / Caja", {"process_key": "licencia", "lane": "Caja", "group": "caja",
                                                  "previous": None}),
        ("jefa", "lane.set", "licencia / Caja", {"process_key": "licencia", "lane": "Caja", "group": "ventanilla",
                                                  "previous": "caja"})]


def test_only_an_admin_changes_accounts(svc):
    for role in ("clerk", "supervisor", "auditor"):
        with pytest.raises(Forbidden):
            admin.unlock_account(svc, principal_for("x", role), "ana")


def test_two_admins_demoting_each_other_at_once_leave_one_admin(svc):
    """Each removes the other's admin role at the same moment: one wins, the other is refused, one admin remains."""
    add_user(svc, "segundo", "admin", PASSWORD)
    barrier, outcomes = threading.Barrier(2), {}

    def demote(actor: str, target: str) -> None:
        barrier.wait()
        try:
            auth.update_user(svc, principal_for(actor), target, role="clerk")
            outcomes[target] = "demoted"
        except Conflict as exc:
            outcomes[target] = type(exc).__name__
    threads = [threading.Thread(target=demote, args=pair) for pair in (("jefa", "segundo"), ("segundo", "jefa"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["LastAdmin", "demoted"], outcomes
    admins = [u["username"] for u in list_users(svc, ADMIN) if u["role"] == "admin" and u["active"]]
    assert len(admins) == 1 and outcomes[admins[0]] == "LastAdmin"


def test_a_lanes_file_logs_the_rows_it_changes_once(svc, tmp_path):
    (tmp_path / "lanes.json").write_text('{"*": {"Ventanilla": "ventanilla"}, "licencia": {"Caja": "caja"}}')
    assert apply_lane_files(svc, [tmp_path]) == [("Ventanilla", "ventanilla"), ("Caja", "caja")]
    apply_lane_files(svc, [tmp_path])  # deployed again: nothing changes, nothing is logged
    assert [(actor, action, target) for actor, action, target, _ in log_of(svc)] == [
        (None, "lane.set", "* / Ventanilla"), (None, "lane.set", "licencia / Caja")]
