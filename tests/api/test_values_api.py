"""What a client may send, and what a stored case answers: never a 500 (issue 12), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from engine.usecases import cases
from engine.usecases import tasks
from tests.api.conftest import Client, make_app, seed, token_for
from tests.conftest import SYSTEM
from tests.integration.test_stored_values import HUGE, store_legacy_state
from tests.task_rows import task_rows
from tests.web.conftest import login


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.content_type == "application/problem+json"
    return response.get_json()


@pytest.fixture
def both(svc, tmp_path):
    """The API on each backend, seeded like the other API tests."""
    seed(svc)
    app = make_app(svc, tmp_path)
    return svc, app, lambda username: Client(app, token_for(svc, username))


def start_body(data: str) -> str:
    return '{"process_key": "five_step", "data": ' + data + "}"


def post_json(client, path: str, body: str):
    return client.post(path, data=body, content_type="application/json")


def no_cases(svc) -> bool:
    return cases_count(svc) == 0


def cases_count(svc) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.exec_driver_sql("SELECT count(*) FROM cases").scalar()


def test_an_integer_of_5000_digits_is_a_422_not_a_500(both):
    svc, _app, as_user = both
    body = assert_problem(post_json(as_user("oficial1"), "/api/cases", start_body('{"n": ' + "9" * 5000 + "}")), 422)
    assert body["errors"][0]["location"] == "json"
    assert no_cases(svc)


def test_json_nested_10000_deep_is_a_422(both):
    svc, _app, as_user = both
    depth = 10_000
    response = post_json(as_user("oficial1"), "/api/cases", start_body('{"a": ' + "[" * depth + "]" * depth + "}"))
    assert_problem(response, 422)
    assert no_cases(svc)


@pytest.mark.parametrize("data, field", [
    ('{"a": ' + "[" * 100 + "]" * 100 + "}", "data.a[0][0][0]"),
    ('{"grande": ' + str(2 ** 70) + "}", "data.grande"),
    ('{"texto": "' + "x" * 1_100_000 + '"}', "data.texto"),
])
def test_data_a_case_cannot_store_is_a_422_naming_the_field(both, data, field):
    svc, _app, as_user = both
    body = assert_problem(post_json(as_user("oficial1"), "/api/cases", start_body(data)), 422)
    assert body["code"] == "value_rejected"
    assert body["errors"][0]["field"].startswith(field)
    assert no_cases(svc)


def test_a_body_past_the_request_limit_is_a_413(both):
    svc, app, as_user = both
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    assert_problem(post_json(as_user("oficial1"), "/api/cases", start_body('"' + "x" * size + '"')), 413)
    assert no_cases(svc)


def test_task_completion_and_drafts_with_unstorable_data_are_422_and_change_nothing(both):
    svc, _app, as_user = both
    started = cases.start_case(svc, SYSTEM, "five_step", {"amount": 1})
    [task] = task_rows(svc, started.id)
    client = as_user("oficial1")
    big = '{"data": {"amount": ' + str(2 ** 64) + "}}"
    assert_problem(post_json(client, f"/api/tasks/{task['id']}/complete", big), 422)
    assert_problem(client.put(f"/api/tasks/{task['id']}/draft", data=big, content_type="application/json"), 422)
    assert tasks.get_task(svc, SYSTEM, task["id"])["state"] == "ready"
    assert cases.get_case(svc, SYSTEM, started.id)["version"] == 1


def test_a_case_stored_with_values_now_refused_answers_200_everywhere(both):
    svc, app, as_user = both
    started = cases.start_case(svc, SYSTEM, "five_step", {"amount": 1})
    store_legacy_state(svc, started.id)
    client = as_user("supervisor1")
    data = client.get(f"/api/cases/{started.id}/data")
    assert data.status_code == 200
    assert data.get_json()["data"]["grande"] == 2 ** 1100 and data.get_json()["data"]["enorme"] == HUGE
    assert client.get(f"/api/cases/{started.id}").status_code == 200
    assert client.get(f"/api/cases/{started.id}/history").status_code == 200
    page = app.test_client()
    login(page, "supervisor1", "contraseña-segura-1")
    assert page.get(f"/expedientes/{started.id}").status_code == 200


def test_a_script_that_builds_an_unstorable_value_leaves_the_case_in_error_over_http(both):
    svc, _app, as_user = both
    from engine.usecases.deploy import deploy_files
    from tests.bpmn import linear, script, user
    deploy_files(svc, {"p.bpmn": linear(user("Ingresar"), script("leak = [[0] * 100000] * 300"), user("Fin"))})
    started = cases.start_case(svc, SYSTEM, "p")
    [task] = task_rows(svc, started.id)
    client = as_user("supervisor1")
    done = post_json(client, f"/api/tasks/{task['id']}/complete", '{"data": {}}')
    assert done.status_code == 200
    assert (done.get_json()["case_state"], done.get_json()["error_element"]) == ("error", "e1")
    assert client.get(f"/api/cases/{started.id}/data").status_code == 200
    retried = post_json(client, f"/api/cases/{started.id}/retry", '{"data": {}}')
    assert retried.status_code == 200 and retried.get_json()["state"] == "error"
