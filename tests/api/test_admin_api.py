"""The administration's JSON routes: password reset, group members, the administration log."""
from __future__ import annotations

from tests.api.conftest import PASSWORD, Client


def test_a_password_reset_returns_the_new_password_once_and_ends_the_old_one(as_user, app):
    admin = as_user("admin")
    short = admin.post("/api/users/oficial2/password", json={"password": "corta"})
    assert short.status_code == 422 and "password" in str(short.get_json())
    reset = admin.post("/api/users/oficial2/password", json={})
    assert reset.status_code == 200 and reset.get_json()["username"] == "oficial2"
    password = reset.get_json()["password"]
    anonymous = Client(app)
    assert anonymous.post("/api/session", json={"username": "oficial2", "password": PASSWORD}).status_code == 401
    assert anonymous.post("/api/session", json={"username": "oficial2", "password": password}).status_code == 200
    typed = admin.post("/api/users/oficial2/password", json={"password": "otra-clave-larga"})
    assert typed.get_json()["password"] == "otra-clave-larga"
    assert admin.post("/api/users/nadie/password", json={}).status_code == 404
    log = admin.get("/api/admin-log?action=user.reset_password").get_json()
    assert [(e["actor"], e["target"], e["detail"]) for e in log["items"]] == [("admin", "oficial2", None)] * 2
    assert password not in str(admin.get("/api/admin-log").get_json())


def test_members_are_added_and_removed_and_logged(as_user):
    admin = as_user("admin")
    assert admin.post("/api/groups/tramite/members", json={"username": "oficial2"}).status_code == 204
    assert admin.post("/api/groups/tramite/members", json={"username": "oficial2"}).status_code == 409
    assert "tramite" in admin.get("/api/users/oficial2").get_json()["groups"]
    assert admin.post("/api/groups/nada/members", json={"username": "oficial2"}).status_code == 404
    assert admin.delete("/api/groups/tramite/members/oficial2").status_code == 204
    assert admin.delete("/api/groups/tramite/members/oficial2").status_code == 404
    assert "tramite" not in admin.get("/api/users/oficial2").get_json()["groups"]
    page = as_user("auditor1").get("/api/admin-log?action=group").get_json()
    assert [(e["action"], e["target"], e["detail"]) for e in page["items"]] == [
        ("group.remove_member", "tramite", {"username": "oficial2"}),
        ("group.add_member", "tramite", {"username": "oficial2"})]
    assert page["has_next"] is False
