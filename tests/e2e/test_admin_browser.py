"""The administrator in Debian's Chromium, one walk: creates an account with a group (its password shown once),
whose owner logs in elsewhere; resets its password (that session ends); the owner locks it with wrong passwords and
the administrator unlocks it; deactivates it; creates a group and adds a member, maps a lane, adds and removes a
closure day with its reason, and finds each change in the administration log. Every page passes axe-core."""
from __future__ import annotations

import re

import pytest

from engine.accounts.users import add_user
from tests.e2e.chromium import CSP_VIOLATIONS, TIMEOUT_MS, new_page
from tests.e2e.test_phone_and_accessibility import (VIEWPORTS, axe_source, overflow,  # noqa: F401 (axe_source)
                                                    violations)
from tests.web.conftest import PASSWORD

ADMIN = "jefa"


@pytest.fixture(scope="module")
def base(server):
    base_url, svc = server
    add_user(svc, ADMIN, "admin", PASSWORD, display_name="Jefa de Informática")
    return base_url


def other_context(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="es-GT")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None)
    return context.new_page()


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/entrar")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():  # the answer to the form (a failed login stays at /entrar)
        page.click("button[type=submit]")


def expect_flash(page, text: str) -> None:
    """Wait for the page the last click led to, with its message (a click does not wait for the next page)."""
    page.locator(".flash", has_text=text).first.wait_for()


def test_the_administrator_walks_accounts_groups_lanes_and_closures(browser, base, axe_source):
    page = new_page(browser, base, ADMIN, "/admin")
    problems = []

    def check(path: str) -> None:
        problems.extend(f"{path}: {v}" for v in violations(page, axe_source))

    check("/admin")
    page.click("nav[aria-label='Principal'] >> text=Administración")
    page.click("#admin-sections >> text=Usuarios")
    page.wait_for_url(re.compile(r"/admin/usuarios$"))
    check("/admin/usuarios")
    page.fill("#f-usuario", "lucia")
    page.fill("#f-nombre", "Lucía Xocop")
    page.fill("#f-correo", "lucia@example.gt")
    page.select_option("#f-rol", "clerk")
    page.check("#create-user input[name=grupos][value=ventanilla]")
    page.click("#create")
    first_password = page.inner_text("#new-password")
    assert page.inner_text("h1") == "Cuenta creada: lucia" and len(first_password) >= 10
    check("created")

    # Lucía logs in with it in another browser; the reset ends her session there.
    lucia = other_context(browser)
    log_in(lucia, base, "lucia", first_password)
    assert lucia.url.endswith("/bandeja")
    page.click("text=Ver la cuenta")
    page.wait_for_url(re.compile(r"/admin/usuarios/lucia$"))
    assert "ventanilla" in page.inner_text("#account")
    check("/admin/usuarios/lucia")
    page.click("#reset")
    second_password = page.inner_text("#new-password")
    assert page.inner_text("h1") == "Contraseña restablecida: lucia" and second_password != first_password
    lucia.goto(f"{base}/bandeja")
    assert "/entrar" in lucia.url

    # Wrong passwords lock her name; the administrator sees the lock and lifts it.
    for _ in range(10):  # the policy's failures, and one more that is answered with the lock
        log_in(lucia, base, "lucia", "no-es-la-clave")
        if "bloqueada" in lucia.inner_text("main"):
            break
    assert "La cuenta está bloqueada" in lucia.inner_text("main")
    page.goto(f"{base}/admin/usuarios/lucia")
    assert "Bloqueada hasta" in page.inner_text("#account-failures")
    page.click("#unlock")
    expect_flash(page, "Se borraron los intentos fallidos de lucia")
    assert page.inner_text("#account-failures").strip() == "0"
    log_in(lucia, base, "lucia", second_password)
    assert lucia.url.endswith("/bandeja")

    # Deactivated: her session ends and she cannot log in again.
    page.click("#deactivate")
    expect_flash(page, "fue desactivada")
    assert page.inner_text("#account-state") == "Desactivada"
    lucia.goto(f"{base}/bandeja")
    assert "/entrar" in lucia.url
    log_in(lucia, base, "lucia", second_password)
    assert "Usuario o contraseña incorrectos." in lucia.inner_text("main")

    # A group with a member, and a lane for it.
    page.click("nav.tabs >> text=Grupos")
    page.wait_for_url(re.compile(r"/admin/grupos$"))
    page.fill("#f-grupo", "caja")
    page.fill("#f-descripcion", "Cobros y pagos")
    page.click("#create-group-button")
    expect_flash(page, "Se creó el grupo caja.")
    caja = page.locator("section[data-group=caja]")
    caja.locator("input[name=usuario]").fill("ventanilla2")
    caja.locator("button[type=submit]").click()
    expect_flash(page, "ventanilla2 ahora es miembro de caja.")
    assert "ventanilla2" in page.locator("section[data-group=caja] table.members").inner_text()
    check("/admin/grupos")
    page.click("nav.tabs >> text=Carriles")
    page.wait_for_url(re.compile(r"/admin/carriles$"))
    page.fill("#f-procedimiento", "licencia")
    page.fill("#f-carril", "Caja")
    page.fill("#f-grupo", "caja")
    page.click("#set-lane-button")
    expect_flash(page, "lo trabaja ahora el grupo caja")
    assert page.locator("#lanes tr", has_text="Caja").inner_text().split("\t") == ["licencia", "Caja", "caja"]
    check("/admin/carriles")

    # A closure day with its reason, then removed.
    page.click("nav.tabs >> text=Días de cierre")
    page.wait_for_url(re.compile(r"/admin/cierres"))
    page.fill("#f-dia", "2026-12-10")
    page.fill("#f-motivo", "Emergencia declarada por lluvias")
    page.click("#add-closure-button")
    expect_flash(page, "El 10/12/2026 es día de cierre")
    row = page.locator("#closures tr[data-day='2026-12-10']")
    assert "Emergencia declarada por lluvias" in row.inner_text() and ADMIN in row.inner_text()
    check("/admin/cierres")
    row.locator("button").click()
    expect_flash(page, "El 10/12/2026 ya no es día de cierre.")
    assert page.locator("#closures tr[data-day='2026-12-10']").count() == 0

    # Every change is in the administration log, newest first, with who made it.
    page.click("nav.tabs >> text=Registro")
    page.wait_for_url(re.compile(r"/admin/registro$"))
    rows = [r.split("\t") for r in page.locator("#admin-log tbody tr").all_inner_texts()]
    walked = [(r[3], r[4]) for r in rows if r[2] == ADMIN]
    assert walked == [
        ("Día de cierre quitado", "2026-12-10"), ("Día de cierre agregado", "2026-12-10"),
        ("Carril asignado", "licencia / Caja"), ("Miembro agregado", "caja"), ("Grupo creado", "caja"),
        ("Cuenta desactivada", "lucia"), ("Cuenta desbloqueada", "lucia"), ("Contraseña restablecida", "lucia"),
        ("Cuenta creada", "lucia")], rows
    assert first_password not in page.inner_text("main") and second_password not in page.inner_text("main")
    page.select_option("#f-accion", "user.deactivate")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"accion=user.deactivate"))
    assert page.locator("#admin-log tbody tr").count() == 1
    check("/admin/registro")
    assert problems == []

    # On a phone every section fits the screen's width (wide tables scroll in their own box).
    phone = page.context.browser.new_context(viewport=VIEWPORTS["phone"], locale="es-GT")
    phone.on("console", lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None)
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    wide = []
    for path in ("/admin", "/admin/usuarios", "/admin/usuarios/lucia", "/admin/grupos", "/admin/carriles",
                 "/admin/cierres", "/admin/registro"):
        small.goto(f"{base}{path}")
        assert small.url.endswith(path), small.url
        wide += [f"{path}: {found}" for found in [overflow(small, path)] if found]
    phone.close()
    assert wide == []
