"""Decision tables edited within a draft (engine.usecases.decisions): opened from the version, saved only when
SpiffWorkflow parses them and every cell compiles in the sandbox (409 when stale), tried with sample inputs through
the workflow's DMN engine, discarded with the draft, and pinned by the version the draft publishes."""
from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases, drafts
from tests.conftest import SYSTEM, principal_for
from tests.processes import licencia_walk as lic
from tests.web.conftest import PASSWORD

KEY, FILE = "licencia", "requisitos_licencia.dmn"
API = f"/api/drafts/{KEY}/decisions/{FILE}"
SUPERVISOR = principal_for("supervisor1", "supervisor", ("ventanilla", "tramite"))
# Each rule of requisitos_licencia.dmn, the input that hits it and what it gives.
RULES = {
    "espectaculo_publico": ("regla_espectaculo_publico", 3, True, True),
    "actividad_via_publica": ("regla_actividad_via_publica", 1, True, True),
    "rifa_sorteo": ("regla_rifa_sorteo", 2, True, False),
    "colecta_publica": ("regla_colecta_publica", 1, True, False),
}
NEW_REQUIREMENT = '["Croquis del recorrido", "Permiso de la municipalidad"]'


@pytest.fixture(scope="module")
def office(web_office):
    svc, app = web_office
    add_user(svc, "supervisor1", "supervisor", PASSWORD, groups=["ventanilla", "tramite"])
    return svc, app


@pytest.fixture
def supervisor(office):
    """A supervisor's cookie session (with its CSRF header) on a fresh draft of the licence, discarded after."""
    svc, app = office
    client = app.test_client()
    response = client.post("/api/session", json={"username": "supervisor1", "password": PASSWORD})
    headers = {"X-CSRF-Token": response.get_json()["csrf_token"]}
    drafts.create_draft(svc, SUPERVISOR, KEY)
    yield _Session(client, headers)
    if drafts._has_draft(svc, KEY):
        drafts.discard_draft(svc, SUPERVISOR, KEY)


class _Session:
    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path):
        return self.client.get(path)

    def put(self, path, body):
        return self.client.put(path, json=body, headers=self.headers)

    def post(self, path, body):
        return self.client.post(path, json=body, headers=self.headers)


def _edited_rows(svc):
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(models.draft_decisions.c.file_name, models.draft_decisions.c.revision)
                                .where(models.draft_decisions.c.process_key == KEY)).all()


def test_a_draft_opens_its_version_tables_with_their_input_columns(supervisor):
    listed = supervisor.get(f"/api/drafts/{KEY}/decisions").get_json()
    assert [t["file_name"] for t in listed] == ["requisitos_licencia.dmn"]
    assert listed[0]["edited"] is False and listed[0]["revision"] == 0
    table = supervisor.get(API).get_json()
    assert table["revision"] == 0 and table["valid"] is True and table["problems"] == []
    assert table["decision_id"] == "requisitos_licencia" and table["hit_policy"] == "UNIQUE"
    assert table["inputs"] == [{"id": "entrada_tipo_licencia", "label": "Tipo de licencia",
                                "expression": "tipo_licencia", "type_ref": "string", "name": "tipo_licencia"}]
    assert [o["name"] for o in table["outputs"]] == ["requisitos", "requiere_opinion_pnc",
                                                     "requiere_opinion_coordinador"]
    assert supervisor.get(f"/api/drafts/{KEY}/decisions/no_existe.dmn").status_code == 404
    assert supervisor.get(f"/api/drafts/{KEY}/decisions/licencia.bpmn").status_code == 400
    assert supervisor.get("/api/drafts/mediacion_tierras/decisions/riesgo_conflicto.dmn").status_code == 404


def test_saving_refuses_cells_that_do_not_compile_naming_decision_rule_and_column(supervisor, office):
    svc, _app = office
    xml = supervisor.get(API).get_json()["xml"]
    broken = (xml.replace('<text>"rifa_sorteo"</text>', "<text>&gt;= = 3</text>")
              .replace('<text>["Acta municipal de registro del comité"]</text>', '<text>["Acta" +</text>')
              .replace("<text>tipo_licencia</text>", "<text>tipo licencia</text>"))
    refused = supervisor.put(API, {"xml": broken, "revision": 0})
    assert refused.status_code == 422
    messages = [e["message"] for e in refused.get_json()["errors"]]
    assert any(m.startswith("Decisión «Requisitos por tipo de licencia», columna de entrada «Tipo de licencia»: "
                            "la expresión «tipo licencia» no es válida") for m in messages), messages
    assert any(m.startswith("Decisión «Requisitos por tipo de licencia», regla 3 («Rifas y sorteos: fianza y "
                            "listado de premios»), columna «Tipo de licencia»: la condición «>= = 3» no es válida")
               for m in messages), messages
    assert any("regla 4 («Colectas públicas por comités»), columna «Requisitos»: el resultado" in m
               for m in messages), messages
    assert {e["element_id"] for e in refused.get_json()["errors"]} >= {"regla_rifa_sorteo_tipo",
                                                                        "regla_colecta_publica_requisitos"}
    assert _edited_rows(svc) == []  # nothing written
    priority = supervisor.put(API, {"xml": xml.replace('hitPolicy="UNIQUE"', 'hitPolicy="PRIORITY"'), "revision": 0})
    assert priority.status_code == 422
    assert priority.get_json()["errors"][0]["message"] == (
        "Decisión «Requisitos por tipo de licencia»: el motor no admite la política de coincidencia «PRIORITY»; use "
        "Única, Primera o Reunir todas (sin suma, mínimo, máximo ni cuenta).")
    not_dmn = supervisor.put(API, {"xml": drafts.get_draft(svc, SUPERVISOR, KEY)["xml"], "revision": 0})
    assert not_dmn.status_code == 422
    assert supervisor.put(API, {"xml": "<definitions", "revision": 0}).status_code == 422


def test_a_save_builds_on_the_revision_it_opened(supervisor, office):
    svc, _app = office
    xml = supervisor.get(API).get_json()["xml"]
    changed = xml.replace('<text>["Croquis del recorrido"]</text>', f"<text>{NEW_REQUIREMENT}</text>")
    first = supervisor.put(API, {"xml": changed, "revision": 0})
    assert first.status_code == 200
    assert first.get_json()["revision"] == 1 and first.get_json()["edited"] is True
    assert first.get_json()["updated_by"] == "supervisor1"
    stale = supervisor.put(API, {"xml": xml, "revision": 0})
    assert stale.status_code == 409 and "supervisor1 guardó la tabla" in stale.get_json()["detail"]
    assert supervisor.get(API).get_json()["xml"] == changed  # the stale save wrote nothing
    assert supervisor.put(API, {"xml": xml, "revision": 1}).get_json()["revision"] == 2
    assert [tuple(r) for r in _edited_rows(svc)] == [(FILE, 2)]
    # Discarding the draft discards its tables: a new draft opens the version's again.
    assert supervisor.client.delete(f"/api/drafts/{KEY}", headers=supervisor.headers).status_code == 204
    assert _edited_rows(svc) == []
    drafts.create_draft(svc, SUPERVISOR, KEY)
    assert supervisor.get(API).get_json()["revision"] == 0


@pytest.mark.parametrize("kind", sorted(RULES))
def test_trying_each_rule_of_the_licence_table(supervisor, kind):
    rule, requirements, pnc, coordinator = RULES[kind]
    tried = supervisor.post(f"{API}/try", {"values": {"entrada_tipo_licencia": kind}})
    assert tried.status_code == 200
    body = tried.get_json()
    assert [m["id"] for m in body["matched"]] == [rule] and body["error"] is None
    outputs = {o["name"]: o["value"] for o in body["outputs"]}
    assert len(outputs["requisitos"]) == requirements
    assert outputs["requiere_opinion_pnc"] is pnc and outputs["requiere_opinion_coordinador"] is coordinator


def test_a_try_without_a_matching_rule_or_with_a_failing_cell_is_said_in_spanish(supervisor):
    none = supervisor.post(f"{API}/try", {"values": {"entrada_tipo_licencia": "otra_cosa"}}).get_json()
    assert none["matched"] == [] and none["outputs"] == []
    assert none["error"].startswith("Ninguna regla se cumple con estos datos")
    xml = supervisor.get(API).get_json()["xml"]
    failing = xml.replace('<text>"rifa_sorteo"</text>', "<text>tipo_licencia / 0</text>")
    body = supervisor.post(f"{API}/try", {"values": {"entrada_tipo_licencia": "rifa_sorteo"}, "xml": failing})
    assert body.status_code == 200
    assert body.get_json()["error"].startswith("La regla 3 no se pudo evaluar: ")
    unknown = supervisor.post(f"{API}/try", {"values": {"tipo": "rifa_sorteo"}})
    assert unknown.status_code == 400 and unknown.get_json()["errors"][0]["field"] == "tipo"


def test_trying_unsaved_changes_and_typed_inputs_of_the_risk_table(supervisor, office):
    svc, _app = office
    xml = supervisor.get(API).get_json()["xml"]
    edited = xml.replace('<text>["Croquis del recorrido"]</text>', f"<text>{NEW_REQUIREMENT}</text>")
    body = supervisor.post(f"{API}/try", {"values": {"entrada_tipo_licencia": "actividad_via_publica"},
                                          "xml": edited}).get_json()
    assert {o["name"]: o["value"] for o in body["outputs"]}["requisitos"] == orjson.loads(NEW_REQUIREMENT)
    assert supervisor.get(API).get_json()["revision"] == 0  # trying saved nothing
    # The mediation's risk table has a boolean and an integer column: the form's text is read by their types.
    drafts.create_draft(svc, SUPERVISOR, "mediacion_tierras")
    try:
        risk = "/api/drafts/mediacion_tierras/decisions/riesgo_conflicto.dmn"
        values = {"entrada_violencia": "no", "entrada_personas": "60", "entrada_tipo": "ocupacion"}
        body = supervisor.post(f"{risk}/try", {"values": values}).get_json()
        assert body["inputs"] == {"hubo_violencia": False, "personas_afectadas": 60, "tipo_conflicto": "ocupacion"}
        assert body["matched"][0]["id"] == "regla_ocupacion_grande"
        assert {o["name"]: o["value"] for o in body["outputs"]}["riesgo"] == "alto"
        bad = supervisor.post(f"{risk}/try", {"values": {**values, "entrada_personas": "muchas"}})
        assert bad.status_code == 400
        assert bad.get_json()["errors"] == [{"field": "entrada_personas", "message": "un número entero"}]
        assert "«entrada_personas» no es un número entero" in bad.get_json()["detail"]
        bad = supervisor.post(f"{risk}/try", {"values": {**values, "entrada_violencia": "quizá"}})
        assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "entrada_violencia"
    finally:
        drafts.discard_draft(svc, SUPERVISOR, "mediacion_tierras")


def test_the_editor_pages(supervisor):
    listing = supervisor.get(f"/modelador/{KEY}/decisiones").get_data(as_text=True)
    assert f'/modelador/{KEY}/decisiones/{FILE}"' in listing and "sin cambios" in listing
    page = supervisor.get(f"/modelador/{KEY}/decisiones/{FILE}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Probar con estos datos" in html
    assert "vendor/dmn-js/dmn-modeler.js" in html and "js/decision-editor.js" in html
    assert '"entrada_tipo_licencia"' in html and "<script>" not in html  # config as JSON, no inline script
    assert supervisor.get(f"/modelador/{KEY}/decisiones/no_existe.dmn").status_code == 404
    assert supervisor.get(f"/modelador/{KEY}/decisiones/x.bpmn").status_code == 404
    editor = supervisor.get(f"/modelador/{KEY}").get_data(as_text=True)
    assert f'href="/modelador/{KEY}/decisiones"' in editor


def _requirements(svc, case_id: int) -> list[str]:
    return cases.case_data(svc, SYSTEM, case_id)["requisitos"]


def test_publishing_pins_the_edited_table_in_the_new_version_and_running_cases_keep_theirs(supervisor, office):
    svc, _app = office
    older = lic.start(svc, "actividad_via_publica")  # on version 1, before its decision runs
    version = cases.get_case(svc, SYSTEM, older.id)["process_version"]
    xml = supervisor.get(API).get_json()["xml"]
    changed = xml.replace('<text>["Croquis del recorrido"]</text>', f"<text>{NEW_REQUIREMENT}</text>")
    assert supervisor.put(API, {"xml": changed, "revision": 0}).status_code == 200
    published = supervisor.post(f"/api/drafts/{KEY}/publish", {"comment": "Se pide el permiso municipal"})
    assert published.status_code == 201, published.get_json()
    assert published.get_json()["version"] == version + 1
    assert _edited_rows(svc) == [] and not drafts._has_draft(svc, KEY)
    with svc.uow(write=False) as uow:
        files = orjson.loads(uow.conn.execute(select(models.process_versions.c.files_json).where(
            models.process_versions.c.process_key == KEY,
            models.process_versions.c.version == version + 1)).scalar())
    assert NEW_REQUIREMENT in files[FILE]

    newer = lic.receive(lic.start(svc, "actividad_via_publica"))
    assert cases.get_case(svc, SYSTEM, newer.id)["process_version"] == version + 1
    assert _requirements(svc, newer.id) == orjson.loads(NEW_REQUIREMENT)
    lic.receive(older)  # its decision runs now, on the table of its own version
    assert _requirements(svc, older.id) == ["Croquis del recorrido"]
