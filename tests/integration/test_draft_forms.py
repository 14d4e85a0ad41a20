"""Forms edited within a process draft: started from the draft's base version, checked on save, refused when stale,
pinned into the version the draft is published as (new cases use them, running cases keep theirs), discarded with
the draft."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, FormInvalid, InvalidInput, NotFound
from engine.forms_gate import office_forms
from engine.storage import models
from engine.usecases import cases, draft_forms, drafts, tasks
from engine.usecases.deploy import deploy_files
from engine.accounts.users import map_lane
from tests.bpmn import definitions
from tests.conftest import make_services, principal_for
from tests.task_rows import task_rows

BPMN = definitions("""
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane" name="Ventanilla">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>task</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task"/>
    <bpmn:userTask id="task" name="Registrar"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="registro"/></spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end"/>
    <bpmn:endEvent id="end"/>""")
REGISTRO = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Registro", "type": "object",
            "properties": {"numero": {"title": "Número", "type": "string"},
                           "dpi": {"title": "DPI", "type": "string", "format": "cui"}},
            "required": ["numero"], "additionalProperties": False}
SUPERVISOR = principal_for("supervisor1", "supervisor")
CLERK = principal_for("oficial1")
VALID_DPI = "2456 78905 0401"


@pytest.fixture
def office(database_url, clock, tmp_path):
    (tmp_path / "registro.schema.json").write_text(json.dumps(REGISTRO), encoding="utf-8")
    svc = make_services(database_url, clock, forms=office_forms(lambda: clock(), tmp_path))
    map_lane(svc, "Ventanilla", "ventanilla")
    deploy_files(svc, {"p.bpmn": BPMN})
    drafts.create_draft(svc, SUPERVISOR, "p")
    yield svc
    svc.db.dispose()


def _edited() -> dict:
    schema = json.loads(json.dumps(REGISTRO))
    schema["properties"]["numero"]["title"] = "Número de registro"
    schema["properties"]["hora"] = {"title": "Hora", "type": "string", "description": "HH:MM"}
    schema["required"] = ["numero", "hora", "dpi"]
    return schema


def test_a_form_is_listed_and_starts_as_the_base_versions_copy(office):
    listed = draft_forms.draft_form_list(office, SUPERVISOR, "p")
    assert [(f["form_key"], f["tasks"], f["edited"]) for f in listed["forms"]] == [("registro", ["Registrar"], False)]
    shown = draft_forms.get_draft_form(office, SUPERVISOR, "p", "registro")
    assert shown["source"] == "version" and shown["revision"] == 0 and shown["schema"] == REGISTRO
    with pytest.raises(NotFound):
        draft_forms.get_draft_form(office, SUPERVISOR, "p", "no_existe")
    with pytest.raises(NotFound):
        draft_forms.get_draft_form(office, SUPERVISOR, "otro", "registro")  # no draft


def test_save_then_a_stale_save_is_refused_and_nothing_is_lost(office):
    saved = draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", _edited(), revision=0)
    assert saved["revision"] == 1 and saved["source"] == "borrador"
    assert saved["schema"]["properties"]["numero"]["title"] == "Número de registro"
    again = draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", REGISTRO, revision=1)
    assert again["revision"] == 2
    with pytest.raises(Conflict):  # built on revision 1, but the form is at 2 now
        draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", _edited(), revision=1)
    with pytest.raises(Conflict):  # expected no edit yet
        draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", _edited(), revision=0)
    assert draft_forms.get_draft_form(office, SUPERVISOR, "p", "registro")["schema"] == REGISTRO
    assert draft_forms.draft_form_list(office, SUPERVISOR, "p")["forms"][0]["edited"] is True


def test_a_bad_schema_is_refused_naming_its_fields(office):
    bad = _edited()
    bad["properties"]["mal campo"] = {"title": "X", "type": "string"}
    bad["properties"]["tipo"] = {"title": "Tipo", "type": "string", "enum": []}
    bad["properties"]["dpi"]["format"] = "dpi"
    with pytest.raises(InvalidInput) as refused:
        draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", bad, revision=0)
    fields = {p["field"] for p in refused.value.details["errors"]}
    assert {"mal campo", "tipo", "dpi"} <= fields
    assert draft_forms.get_draft_form(office, SUPERVISOR, "p", "registro")["revision"] == 0  # nothing written


def test_two_first_saves_of_a_form_race_one_wins_the_other_is_told(office):
    """Both editors opened the unedited form (revision 0): one save lands, the other is a Conflict, not an error."""
    def save(label):
        edited = _edited()
        edited["title"] = label
        try:
            return draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", edited, revision=0)["revision"]
        except Conflict:
            return "conflict"
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(map(str, pool.map(save, ["Uno", "Dos"])))
    assert outcomes == ["1", "conflict"]
    assert draft_forms.get_draft_form(office, SUPERVISOR, "p", "registro")["schema"]["title"] in ("Uno", "Dos")


def test_a_number_past_64_bits_is_a_problem_of_the_form_not_a_server_error(office):
    huge = _edited()
    huge["properties"]["dpi"]["maxLength"] = 2 ** 70
    problems = draft_forms.preview_problems(office, SUPERVISOR, huge)
    assert [p["field"] for p in problems] == ["(formulario)"]
    with pytest.raises(InvalidInput):
        draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", huge, revision=0)
    assert draft_forms.get_draft_form(office, SUPERVISOR, "p", "registro")["revision"] == 0


def test_publishing_pins_the_edited_form_and_running_cases_keep_theirs(office):
    running = cases.start_case(office, CLERK, "p", {})
    [old_task] = task_rows(office, running.id)
    draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", _edited(), revision=0)
    deployed = drafts.publish_draft(office, SUPERVISOR, "p", "hora obligatoria")
    assert deployed.version == 2 and deployed.created
    with office.uow(write=False) as uow:
        left = uow.conn.execute(select(models.draft_forms.c.id)).all()
        pinned = json.loads(uow.conn.execute(select(models.process_versions.c.forms_json)
                                             .where(models.process_versions.c.id == deployed.version_id)).scalar())
    assert left == [] and pinned["registro"] == _edited()
    assert office.forms.get("registro") == REGISTRO  # forms/ did not change

    new_case = cases.start_case(office, CLERK, "p", {})
    [new_task] = task_rows(office, new_case.id)
    with pytest.raises(FormInvalid) as refused:
        tasks.complete_task(office, CLERK, new_task["id"], {"numero": "1", "dpi": "1234"})
    assert {p["field"] for p in refused.value.details["errors"]} == {"hora", "dpi"}
    tasks.complete_task(office, CLERK, new_task["id"], {"numero": "1", "hora": "10:00", "dpi": VALID_DPI})

    assert tasks.task_form(office, CLERK, old_task["id"])["schema"] == REGISTRO
    tasks.complete_task(office, CLERK, old_task["id"], {"numero": "7"})  # "hora" is not required for it
    assert cases.get_case(office, CLERK, running.id)["state"] == "completed"


def test_discarding_the_draft_discards_its_forms(office):
    draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", _edited(), revision=0)
    drafts.discard_draft(office, SUPERVISOR, "p")
    drafts.create_draft(office, SUPERVISOR, "p")
    assert draft_forms.get_draft_form(office, SUPERVISOR, "p", "registro")["revision"] == 0
    assert drafts.publish_draft(office, SUPERVISOR, "p", "igual").created is False


def test_undoing_a_forms_changes_goes_back_to_the_version(office):
    draft_forms.save_draft_form(office, SUPERVISOR, "p", "registro", _edited(), revision=0)
    draft_forms.discard_draft_form(office, SUPERVISOR, "p", "registro")
    assert draft_forms.get_draft_form(office, SUPERVISOR, "p", "registro")["source"] == "version"


def test_a_clerk_may_not_edit_forms(office):
    with pytest.raises(Forbidden):
        draft_forms.save_draft_form(office, principal_for("oficial1", "clerk"), "p", "registro", _edited(), revision=0)


def test_a_field_a_document_needs_cannot_be_removed(sqlite_svc):
    from tests.api.probes import CERTIFICATE
    map_lane(sqlite_svc, "Ventanilla", "ventanilla")
    deploy_files(sqlite_svc, {"certificado_probe.bpmn": CERTIFICATE})
    drafts.create_draft(sqlite_svc, SUPERVISOR, "certificado_probe")
    schema = draft_forms.get_draft_form(sqlite_svc, SUPERVISOR, "certificado_probe", "licencia_certificado")["schema"]
    del schema["properties"]["certificado_vigencia_hasta"]
    schema["required"] = [k for k in schema.get("required", []) if k != "certificado_vigencia_hasta"]
    with pytest.raises(InvalidInput) as refused:
        draft_forms.save_draft_form(sqlite_svc, SUPERVISOR, "certificado_probe", "licencia_certificado", schema)
    [problem] = refused.value.details["errors"]
    assert "certificado_vigencia_hasta" in problem["message"] and "Emitir certificado" in problem["message"]
