"""A diagram from another tool in Debian's Chromium: the supervisor uploads it into a new procedure's draft, the
modeler lists the guided fixes (plain tasks, lanes no group works, a JUEL condition, the process id), he chooses
and applies them, then the forms the user tasks now need, and the procedure publishes."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.accounts.users import add_user
from engine.usecases import deploy, drafts
from tests.conftest import principal_for
from tests.e2e.chromium import SCREENSHOTS, new_page
from tests.e2e.test_phone_and_accessibility import axe_source, violations  # noqa: F401 (axe_source: a fixture)
from tests.web.conftest import PASSWORD

FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign" / "a10_carriles_juel.bpmn"
KEY = "importado_de_otra_herramienta"


@pytest.fixture(scope="module")
def supervisor(server):
    _base, svc = server
    add_user(svc, "supervisor_importa", "supervisor", PASSWORD, display_name="Iris Importa", groups=["ventanilla"])
    return "supervisor_importa"


def choose(page, kind: str, value: str) -> int:
    """Choose `value` in every listed fix of `kind`; how many."""
    items = page.locator(f'#fixes-list li[data-kind="{kind}"] select.fix-value')
    for i in range(items.count()):
        items.nth(i).select_option(value)
    return items.count()


def apply_chosen(page) -> None:
    with page.expect_response(lambda r: r.url.endswith(f"/api/drafts/{KEY}") and r.request.method == "PUT"):
        with page.expect_response(lambda r: r.url.endswith("/import-fixes/apply")):
            page.click("#fixes-apply")
    page.wait_for_function("() => /^Arreglos aplicados/.test(document.getElementById('status').textContent)")


def test_a_foreign_diagram_uploaded_fixed_and_published(server, browser, supervisor, axe_source):  # noqa: F811
    base, svc = server
    drafts.create_draft(svc, principal_for(supervisor, "supervisor"), KEY, "Importado de otra herramienta")
    page = new_page(browser, base, supervisor, f"/modelador/{KEY}")
    page.on("dialog", lambda dialog: dialog.accept())  # «parts the modeler does not know would be lost»
    page.wait_for_selector("#problems li")
    with page.expect_response(lambda r: r.url.endswith(f"/api/drafts/{KEY}/import-fixes")):
        page.set_input_files("#upload", str(FOREIGN))
    page.wait_for_selector("#import-fixes:not([hidden]) #fixes-list li")
    listed = page.inner_text("#fixes-list")
    assert "«Task 1»" in listed and "tarea sin tipo" in listed
    assert "«Lane 1» (lane_1)" in listed
    assert "${monto > 5000 && !urgente}" in listed and "monto > 5000 and not urgente" in listed
    assert "http://" not in listed and "semantic:" not in listed
    assert page.locator('#fixes-list li[data-kind="expression"] input.fix-value').input_value() \
        == "monto > 5000 and not urgente"
    assert violations(page, axe_source) == []  # the page with its list of fixes
    assert choose(page, "task_type", "userTask") == 3
    assert choose(page, "lane_group", "Ventanilla") == 2
    apply_chosen(page)
    # User tasks now: each needs its form.
    page.wait_for_selector('#fixes-list li[data-kind="form"]')
    assert page.locator('#fixes-list li[data-kind="task_type"]').count() == 0
    assert choose(page, "form", "notificacion") == 3
    apply_chosen(page)
    page.wait_for_selector("#import-fixes[hidden]", state="attached")
    assert "Sin errores" in page.inner_text("#status")
    assert page.locator('.djs-element[data-element-id="_ec59e164-68b4-4f94-98de-ffb1c58a84af"]').count() == 1
    page.fill("#comment", "Importado de Trisotech y arreglado")
    with page.expect_response(lambda r: r.url.endswith(f"/api/drafts/{KEY}/publish")):
        page.click("#publish")
    page.wait_for_function("() => /^Publicada la versión 1/.test(document.getElementById('status').textContent)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import-fixes-published.png"), full_page=True)
    [version] = deploy.list_versions(svc, KEY)
    xml = deploy.version_diagram(svc, version["id"])
    assert "monto &gt; 5000 and not urgente" in xml and "userTask" in xml
    page.context.close()
