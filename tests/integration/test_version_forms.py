"""A process version keeps the forms it was deployed with: changing a form makes a new version, and the cases
already running go on with the form they started with (shown and validated), while new cases get the new one.
Versions stored before versions kept their forms have the forms of that time (forms/snapshots)."""
from __future__ import annotations

import json

from engine.forms_gate import office_forms
from engine.usecases import cases, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import linear
from tests.conftest import make_services, principal_for
from tests.task_rows import task_rows

BPMN = linear('<bpmn:userTask id="{id}" name="Registrar"><bpmn:extensionElements><spiffworkflow:properties>'
              '<spiffworkflow:property name="form" value="registro"/></spiffworkflow:properties>'
              '</bpmn:extensionElements></bpmn:userTask>')
OLD = {"type": "object", "properties": {"numero": {"type": "string"}}, "required": ["numero"],
       "additionalProperties": False}
NEW = {"type": "object", "properties": {"hora": {"type": "string"}}, "required": ["hora"],
       "additionalProperties": False}


def services(database_url, clock, forms_dir, schema):
    """The office after a deploy of its forms directory holding `schema` as the form "registro" (a restart)."""
    (forms_dir / "registro.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    return make_services(database_url, clock, forms=office_forms(lambda: clock(), forms_dir))


def test_running_cases_keep_their_form_and_new_cases_get_the_new_one(database_url, clock, tmp_path):
    before = services(database_url, clock, tmp_path, OLD)
    [first] = deploy_files(before, {"p.bpmn": BPMN})
    running = cases.start_case(before, principal_for("oficial1"), "p", {})
    before.db.dispose()

    after = services(database_url, clock, tmp_path, NEW)
    try:
        assert deploy_files(after, {"p.bpmn": BPMN})[0].version == first.version + 1  # the form changed
        assert deploy_files(after, {"p.bpmn": BPMN})[0].created is False  # nothing changed since
        [old_task] = task_rows(after, running.id)
        clerk = principal_for("oficial1")
        assert tasks.task_form(after, clerk, old_task["id"])["schema"]["required"] == ["numero"]
        tasks.complete_task(after, clerk, old_task["id"], {"numero": "12"})  # validated by the form it started with
        assert cases.get_case(after, clerk, running.id)["state"] == "completed"

        new_case = cases.start_case(after, clerk, "p", {})
        [new_task] = task_rows(after, new_case.id)
        assert tasks.task_form(after, clerk, new_task["id"])["schema"]["required"] == ["hora"]
        tasks.complete_task(after, clerk, new_task["id"], {"hora": "10:00"})
    finally:
        after.db.dispose()


def test_a_version_stored_before_versions_kept_forms_has_the_forms_of_that_time(svc):
    """The previo once asked for a typed number; today the system numbers it. A case of such a version shows the
    form it started with."""
    bpmn = linear('<bpmn:userTask id="{id}" name="Previo"><bpmn:extensionElements><spiffworkflow:properties>'
                  '<spiffworkflow:property name="form" value="previo"/></spiffworkflow:properties>'
                  '</bpmn:extensionElements></bpmn:userTask>')
    deploy_files(svc, {"p.bpmn": bpmn})
    with svc.uow() as uow:  # as migration 0011 left a version stored before it (versions never change after)
        uow.conn.exec_driver_sql("UPDATE process_versions SET forms_json = NULL")
        uow.commit()
    started = cases.start_case(svc, principal_for("oficial1"), "p", {})
    [task] = task_rows(svc, started.id)
    schema = tasks.task_form(svc, principal_for("oficial1"), task["id"])["schema"]
    assert "previo_numero" in schema["properties"]
    assert "previo_numero" not in svc.forms.get("previo")["properties"]
