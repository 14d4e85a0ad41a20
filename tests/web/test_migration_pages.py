"""The migration pages through Flask's client: the mapping table pre-filled by id, a simulation refused in Spanish
naming what was wrong (nothing planned), one batch applied without JavaScript, then undone, and the refused cases
listed with their reason (web/migration_pages.py)."""
from __future__ import annotations

import re

import pytest

from engine.accounts.users import add_user
from engine.usecases import case_migration, cases
from engine.usecases.deploy import list_versions
from tests.conftest import principal_for
from tests.migration_cases import deploy_v2, walk_bases
from tests.processes.licencia_walk import intake
from tests.web.conftest import PASSWORD, csrf_of, login

FILER = principal_for("ventanilla2", "clerk", ("ventanilla",))
CHIEF = principal_for("jefe_migracion", "supervisor")


@pytest.fixture(scope="module")
def versions(web_office) -> tuple[int, int, list[int], dict[str, int]]:
    svc, _app = web_office
    add_user(svc, "jefe_migracion", "supervisor", PASSWORD, display_name="Jefe de migración")
    ids = [cases.start_case(svc, FILER, "licencia", intake()).id for _ in range(2)]
    walked = walk_bases(svc)  # one case at each step a licence waits at
    deploy_v2(svc)
    rows = list_versions(svc, "licencia")
    return rows[0]["id"], rows[-1]["id"], ids, walked


def chief(app):
    client = app.test_client()
    assert login(client, "jefe_migracion").status_code == 302
    return client


def test_mapping_table_is_prefilled_by_id_and_a_bad_simulation_is_refused_in_spanish(app, versions, office_svc):
    old, new, ids, _walked = versions
    client = chief(app)
    page = client.get(f"/migraciones/licencia/nueva?desde={old}&hacia={new}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'id="paso-emitir_constancia".*?<option value="emitir_constancia" selected>', html, re.S)
    renamed = re.search(r'id="paso-elaborar_dictamen".*?</select>', html, re.S).group(0)
    assert "selected" not in renamed and 'value="redactar_dictamen"' in renamed  # chosen by hand
    before = len(case_migration.list_migrations(office_svc, CHIEF, "licencia"))
    refused = client.post("/migraciones/licencia/nueva", data={
        "csrf_token": csrf_of(html), "desde": str(old), "hacia": str(new), "paso-elaborar_dictamen": "no_existe"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "No se pudo simular (mapping.elaborar_dictamen)" in text and "no_existe" in text
    bad_ids = client.post("/migraciones/licencia/nueva", data={
        "csrf_token": csrf_of(html), "desde": str(old), "hacia": str(new), "expedientes": "12, abc"})
    assert bad_ids.status_code == 400
    assert "Los expedientes se indican por su número interno" in bad_ids.get_data(as_text=True)
    assert len(case_migration.list_migrations(office_svc, CHIEF, "licencia")) == before


def test_simulate_then_apply_one_batch_without_javascript(app, versions):
    old, new, ids, _walked = versions
    client = chief(app)
    html = client.get(f"/migraciones/licencia/nueva?desde={old}&hacia={new}").get_data(as_text=True)
    done = client.post("/migraciones/licencia/nueva", data={
        "csrf_token": csrf_of(html), "desde": str(old), "hacia": str(new), "expedientes": ", ".join(map(str, ids)), "estado": "running"})
    assert done.status_code == 302
    page = client.get(done.location).get_data(as_text=True)
    assert page.count('data-state="planned"') == 2
    applied = client.post(f"{done.location}/aplicar", data={"csrf_token": csrf_of(page)})
    assert applied.status_code == 302
    page = client.get(done.location).get_data(as_text=True)
    assert page.count('data-state="migrated"') == 2 and "2 migrados" in page
    undone = client.post(f"{done.location}/deshacer", data={"csrf_token": csrf_of(page)})
    assert undone.status_code == 302
    page = client.get(done.location).get_data(as_text=True)
    assert page.count('data-state="undone"') == 2 and "2 deshechos" in page


def test_refused_cases_are_listed_with_their_reason(app, versions):
    old, new, _ids, walked = versions
    client = chief(app)
    html = client.get(f"/migraciones/licencia/nueva?desde={old}&hacia={new}").get_data(as_text=True)
    done = client.post("/migraciones/licencia/nueva", data={
        "csrf_token": csrf_of(html), "desde": str(old), "hacia": str(new),
        "expedientes": ", ".join(map(str, walked.values()))})  # the renamed step left without its hand mapping
    assert done.status_code == 302
    page = client.get(f"{done.location}?ver=refused").get_data(as_text=True)
    refused = set(map(int, re.findall(r'<tr data-case="(\d+)" data-state="refused">', page)))
    assert refused == {walked[p] for p in ("elaborar_dictamen", "emitir_certificado")}
    assert ("el paso «Elaborar dictamen y proyecto de resolución» (elaborar_dictamen) no tiene correspondencia en "
            "la nueva versión; indíquela a mano") in page
    assert "2 rechazados" in page
    # Waiting in parallel branches (an opinion and the join): kept where it waits, its spec swapped for v2's.
    page = client.get(f"{done.location}?ver=planned").get_data(as_text=True)
    row = re.search(rf'<tr data-case="{walked["recibir_opinion_pnc"]}" data-state="planned">.*?</tr>', page, re.S)
    assert row and "sigue donde espera, en la nueva versión" in row.group(0)
    assert "sigue: " in row.group(0) and "Recibir la opinión de la PNC" in row.group(0)
