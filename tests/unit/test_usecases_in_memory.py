"""Use cases end to end on SQLite in memory: the app's services (build_services, real forms, real migrations).

Which database to use when:
- `make_services(IN_MEMORY_URL, clock)` (this module): behaviour of the use cases that does not depend on the
  database (who may do what, what a form refuses, what a step records). No file, migrated in a few hundredths of a
  second. Its one connection is shared by every unit of work, so use it from one thread, one use case at a time.
- the `svc` fixture (a SQLite file and PostgreSQL, tests/integration): anything the database decides (locks,
  concurrent writers, optimistic versions under races, SQL that differs between backends, durability, backups).
- `tests/processes` (a SQLite file with every procedure deployed): the office's diagrams, path by path.
"""
from __future__ import annotations

import pytest

from engine.accounts.permissions import NotAuthenticated
from engine.accounts.users import map_lane
from engine.errors import CaseNotFound, FormInvalid, Forbidden, TaskNotFound
from engine.forms_gate import FORM_INVALID_MESSAGE, FormsGate
from engine.usecases import cases, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions
from tests.conftest import IN_MEMORY_URL, make_services, principal_for

# Agendar (Ventanilla, the real form codede_agenda) → Revisar (Trámite, no form) → end.
AGENDA = definitions("""
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_ventanilla" name="Ventanilla">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>agendar</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_tramite" name="Trámite">
        <bpmn:flowNodeRef>revisar</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="agendar"/>
    <bpmn:userTask id="agendar" name="Agendar la sesión"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="codede_agenda"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="agendar" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar la agenda"/>
    <bpmn:sequenceFlow id="f3" sourceRef="revisar" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "agenda", "Agenda de sesión")
# The fake clock starts on Monday 2 March 2026, 09:00 in Guatemala.
VALID = {"codede_fecha_sesion": "2026-03-09", "codede_hora_sesion": "09:30", "codede_lugar": "Salón municipal",
         "codede_puntos_agenda": [{"titulo": "Aprobación del acta anterior"}]}
CLERK = principal_for("oficial1", "clerk", ("ventanilla",))
REVIEWER = principal_for("oficial2", "clerk", ("tramite",))
OUTSIDER = principal_for("juridico1", "clerk", ("juridico",))
AUDITOR = principal_for("auditor1", "auditor")


@pytest.fixture
def svc(clock):
    services = make_services(IN_MEMORY_URL, clock)
    map_lane(services, "Ventanilla", "ventanilla")
    map_lane(services, "Trámite", "tramite")
    deploy_files(services, {"agenda.bpmn": AGENDA}, actor="tests")
    yield services
    services.db.dispose()


def _started(svc) -> tuple[int, str]:
    started = cases.start_case(svc, CLERK, "agenda")
    assert [t["element_id"] for t in started.ready_tasks] == ["agendar"]
    return started.id, started.ready_tasks[0]["id"]


def _events(svc, case_id: int) -> list[tuple]:
    return [(e["kind"], e["element_id"], e["actor"]) for e in cases.case_history(svc, AUDITOR, case_id)]


def test_the_services_are_the_apps_with_the_forms_checked(svc):
    assert isinstance(svc.forms, FormsGate) and "codede_agenda" in svc.forms.keys()
    assert svc.mailer is None  # mail stays in the outbox: nothing read from the developer's environment


def test_start_claim_complete_and_the_history_records_each_step(svc):
    case_id, task_id = _started(svc)
    assert tasks.claim_task(svc, CLERK, task_id)["assignee"] == "oficial1"
    done = tasks.complete_task(svc, CLERK, task_id, VALID)
    assert done["case_state"] == "running" and [t["element_id"] for t in done["ready_tasks"]] == ["revisar"]
    review = done["ready_tasks"][0]["id"]
    assert tasks.get_task(svc, REVIEWER, review)["candidate_group"] == "tramite"
    finished = tasks.complete_task(svc, REVIEWER, review, {})  # no claim needed for an unclaimed task
    assert finished["case_state"] == "completed" and finished["ready_tasks"] == []
    assert cases.get_case(svc, CLERK, case_id)["state"] == "completed"
    assert _events(svc, case_id) == [
        ("case_started", "agenda", "oficial1"), ("task_claimed", "agendar", "oficial1"),
        ("task_completed", "agendar", "oficial1"), ("task_completed", "revisar", "oficial2"),
        ("case_completed", None, None)]
    history = cases.case_history(svc, CLERK, case_id)
    assert history[2]["data"] == VALID and cases.case_data(svc, CLERK, case_id)["codede_lugar"] == "Salón municipal"


def test_a_refused_form_names_each_field_and_leaves_the_case_as_it_was(svc, clock):
    case_id, task_id = _started(svc)
    tasks.claim_task(svc, CLERK, task_id)
    case_before, events_before = cases.get_case(svc, CLERK, case_id), _events(svc, case_id)
    task_before = tasks.get_task(svc, CLERK, task_id)
    wrong = {**VALID, "codede_fecha_sesion": "2026-03-01", "codede_hora_sesion": "9:30", "codede_lugar": "X"}
    with pytest.raises(FormInvalid) as refused:
        tasks.complete_task(svc, CLERK, task_id, wrong)
    assert refused.value.message == FORM_INVALID_MESSAGE and refused.value.details["form"] == "codede_agenda"
    assert {e["field"]: e["keyword"] for e in refused.value.errors} == {
        "codede_fecha_sesion": "format", "codede_hora_sesion": "pattern", "codede_lugar": "minLength"}
    assert cases.get_case(svc, CLERK, case_id) == case_before and _events(svc, case_id) == events_before
    assert tasks.get_task(svc, CLERK, task_id) == task_before and task_before["state"] == "ready"
    clock.advance(days=8)  # Tuesday 10 March: the session date that was fine a week ago is now in the past
    with pytest.raises(FormInvalid) as late:
        tasks.complete_task(svc, CLERK, task_id, VALID)
    assert [e["field"] for e in late.value.errors] == ["codede_fecha_sesion"]
    assert cases.get_case(svc, CLERK, case_id)["version"] == case_before["version"]
    assert tasks.complete_task(svc, CLERK, task_id, {**VALID, "codede_fecha_sesion": "2026-03-10"})["case_state"] \
        == "running"


def test_roles_without_the_action_are_refused_before_anything_changes(svc):
    with pytest.raises(NotAuthenticated):
        cases.start_case(svc, None, "agenda")
    with pytest.raises(Forbidden):
        cases.start_case(svc, AUDITOR, "agenda")
    case_id, task_id = _started(svc)
    with pytest.raises(Forbidden):
        tasks.claim_task(svc, AUDITOR, task_id)
    with pytest.raises(Forbidden):
        tasks.complete_task(svc, AUDITOR, task_id, VALID)
    assert tasks.get_task(svc, AUDITOR, task_id)["assignee"] is None  # the auditor reads, and changed nothing
    assert [kind for kind, _, _ in _events(svc, case_id)] == ["case_started"]


def test_a_clerk_of_another_group_finds_neither_the_task_nor_the_case(svc):
    case_id, task_id = _started(svc)
    for attempt in (lambda: tasks.claim_task(svc, OUTSIDER, task_id),
                    lambda: tasks.complete_task(svc, OUTSIDER, task_id, VALID),
                    lambda: tasks.get_task(svc, OUTSIDER, task_id),
                    lambda: tasks.complete_task(svc, REVIEWER, task_id, VALID)):  # Trámite's clerk: not yet his
        with pytest.raises(TaskNotFound):
            attempt()
    with pytest.raises(CaseNotFound):
        cases.case_history(svc, OUTSIDER, case_id)
    with pytest.raises(CaseNotFound):
        cases.get_case(svc, OUTSIDER, case_id)
    assert tasks.get_task(svc, CLERK, task_id)["state"] == "ready"
    assert [kind for kind, _, _ in _events(svc, case_id)] == ["case_started"]
