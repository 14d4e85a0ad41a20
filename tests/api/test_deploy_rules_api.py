"""The office's rules on the API's deploy: a diagram from another tool is refused naming what to fix, in the request's
language, and nothing is deployed; the five-step fixture (lanes mapped by the seed) still deploys."""
from __future__ import annotations

import io

from tests.unit.test_problem_messages import foreign


def upload(name: str, content: bytes) -> dict:
    return {"data": {"files": [(io.BytesIO(content), name)]}, "content_type": "multipart/form-data"}


PLAIN_TASK = ("La tarea «Revisar solicitud» (Task_1) es una tarea sin tipo: nadie la atendería (el motor la da por "
              "hecha en cuanto llega el expediente); conviértala en tarea de usuario o manual y asígnele un carril y "
              "un formulario.")


def test_a_plain_task_diagram_is_refused_naming_the_task_and_nothing_is_deployed(as_user):
    supervisor = as_user("supervisor1")
    refused = supervisor.post("/api/processes", **upload("importado.bpmn", foreign(process_id="importado")))
    assert refused.status_code == 422
    doc = refused.get_json()
    assert doc["code"] == "spec_invalid"
    assert [(e["file"], e["element_id"], e["message"]) for e in doc["errors"]] == [
        ("importado.bpmn", "Task_1", PLAIN_TASK)]
    english = supervisor.post("/api/processes", **upload("importado.bpmn", foreign(process_id="importado")),
                              headers={"Accept-Language": "en"}).get_json()
    assert english["errors"][0]["message"].startswith("The task 'Revisar solicitud' (Task_1) is a task without a type")
    assert supervisor.get("/api/processes/importado/versions").status_code == 404


def test_a_user_task_without_lane_is_refused_on_the_api(as_user):
    doc = foreign(('<bpmn:task id="Task_1" name="Revisar solicitud">', '<bpmn:userTask id="Task_1" '
                                                                       'name="Revisar solicitud">'),
                  ("</bpmn:task>", "</bpmn:userTask>"), process_id="sin_carril")
    refused = as_user("supervisor1").post("/api/processes", **upload("sin_carril.bpmn", doc))
    assert refused.status_code == 422
    messages = [e["message"] for e in refused.get_json()["errors"]]
    assert messages == ["La tarea de usuario «Revisar solicitud» (Task_1) no está en ningún carril: colóquela en el "
                        "carril del grupo que la atiende."]


def test_validate_reports_what_the_deploy_would_refuse(as_user):
    body = as_user("supervisor1").post("/api/processes/validate",
                                       **upload("importado.bpmn", foreign(process_id="importado"))).get_json()
    assert body["valid"] is False
    assert [(p["element_id"], p["message"]) for p in body["problems"]] == [("Task_1", PLAIN_TASK)]
