"""No script, condition, timer expression or DMN cell can freeze the server (issue 12): the reproductions, through
the use cases. Each hostile element stops its case in error naming the element, a retry with corrected data
goes on, and while it runs another thread's requests (the inbox, a case, a script and a condition) are
answered. No durations are asserted: only what ends before what."""
from __future__ import annotations

import threading

import pytest

from engine.usecases import cases
from engine.usecases import inbox as inbox_query
from engine.usecases import tasks
from engine.usecases.deploy import deploy_files
from engine.accounts.users import map_lane
from tests.bpmn import definitions, linear, script, user
from tests.conftest import SYSTEM, bpmn_fixture, make_services, principal_for
from tests.task_rows import task_rows
from tests.waiting import wait_until

# Long enough that the other requests are surely answered before the hostile script is killed; the kill
# comes at this limit plus sandbox_pool.KILL_MARGIN_SECONDS.
HOSTILE_LIMIT_SECONDS = 4.0
PATIENCE_SECONDS = 120
# hash() of a tuple holding one tuple of n items 7000 times: 7000 * n hashes inside C, where no tracer reaches.
# (The 700 times froze a server 20 s; here 7000, so the kill surely comes first.) n = 1 is instant.
HASH = "hash(((0,) * n,) * 7000)"

GATEWAY = definitions(f"""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="otherwise"/>
    <bpmn:sequenceFlow id="even" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>{HASH} % 2 == 0</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="otherwise" sourceRef="gw" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""")
TIMER = linear('<bpmn:intermediateCatchEvent id="{id}"><bpmn:timerEventDefinition><bpmn:timeDuration>"PT" + str('
               + HASH + ' % 2 + 1) + "H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
               user())
RULE = linear('<bpmn:businessRuleTask id="{id}"><bpmn:extensionElements><spiffworkflow:calledDecisionId>paridad'
              '</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>', user())
DMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="Paridad" namespace="http://t">
  <decision id="paridad" name="Paridad">
    <decisionTable id="tabla" hitPolicy="FIRST">
      <input id="i1" label="Paridad"><inputExpression id="e1" typeRef="integer"><text>{HASH} % 2</text>
      </inputExpression></input>
      <output id="o1" label="Paridad" name="paridad" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1i"><text>0</text></inputEntry><outputEntry id="r1o"><text>"par"</text>
      </outputEntry></rule>
      <rule id="r2"><inputEntry id="r2i"><text>-</text></inputEntry><outputEntry id="r2o"><text>"impar"</text>
      </outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>""".encode()
HOSTILE = {  # where the payload is -> (files, the element named, state after a retry with n = 1)
    "script task": ({"p.bpmn": linear(script(f"h = {HASH}"), user())}, "e0", "running"),
    "gateway condition": ({"p.bpmn": GATEWAY}, "gw", "completed"),
    "timer expression": ({"p.bpmn": TIMER}, "e0", "running"),
    "DMN cell": ({"p.bpmn": RULE, "d.dmn": DMN}, "e0", "running"),
}


@pytest.fixture
def hostile_svc(sqlite_url, clock):
    svc = make_services(sqlite_url, clock, script_time_limit_seconds=HOSTILE_LIMIT_SECONDS)
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")})
    svc.filed = cases.start_case(svc, SYSTEM, "five_step", {"amount": 80})
    yield svc
    svc.db.dispose()


def answered_while_running(svc, hostile):
    """Run `hostile()` in a thread; while it runs, this thread reads the inbox and a case, and runs a script and
    a condition through the same runtime: all must be answered before the hostile call ends. (Other writes on
    SQLite wait for its one writer, the hostile use case, until its script is stopped.) Returns its result."""
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("result", hostile()))
    environment = svc.runtime.script_engine.environment
    thread.start()
    wait_until(lambda: environment.pool.busy() > 0 or not thread.is_alive(), "the hostile script to start",
               PATIENCE_SECONDS, interval=0.01)
    inbox = inbox_query.inbox(svc, principal_for("ventanilla1", "clerk", ("ventanilla",)), view="queue")["items"]
    case = cases.get_case(svc, SYSTEM, svc.filed.id)
    data = {"amount": 80}
    environment.execute("total = amount * 2", data)
    branch = environment.evaluate("len(str(total)) == 3", data)  # not the fast path: a worker
    assert thread.is_alive(), "the hostile script ended before the other requests were answered"
    assert inbox and case["state"] == "running" and data["total"] == 160 and branch is True
    thread.join(PATIENCE_SECONDS)
    assert not thread.is_alive()
    return out["result"]


@pytest.mark.parametrize("where", HOSTILE)
def test_c_level_work_in_any_expression_stops_its_case_and_never_holds_other_requests(hostile_svc, where):
    files, element, after_retry = HOSTILE[where]
    deploy_files(hostile_svc, files)
    started = answered_while_running(hostile_svc, lambda: cases.start_case(hostile_svc, SYSTEM, "p", {"n": 999999}))
    case = cases.get_case(hostile_svc, SYSTEM, started.id)
    assert (case["state"], case["error_element"]) == ("error", element)
    assert "time limit" in case["error_message"]
    retried = cases.retry_case(hostile_svc, principal_for("supervisor1"), started.id, {"n": 1})
    assert retried["state"] == after_retry


def test_a_backtracking_regex_on_a_form_field_runs_in_linear_time(hostile_svc):
    # Python's re ran '(a+)+$' on 27 a's and a b for 37 s, doubling with each a; RE2 answers at once.
    deploy_files(hostile_svc, {"p.bpmn": linear(user("Ingresar"), script(
        "ok = re.match('(a+)+$', texto) is None\nlimpio = re.sub('(a+)+$', '', texto)"), user("Fin"))})
    started = cases.start_case(hostile_svc, SYSTEM, "p")
    [first] = task_rows(hostile_svc, started.id)
    result = tasks.complete_task(hostile_svc, principal_for("oficial1"), first["id"], {"texto": "a" * 9999 + "b"})
    assert result["case_state"] == "running"
    data = cases.case_data(hostile_svc, SYSTEM, started.id)
    assert data["ok"] is True and data["limpio"] == "a" * 9999 + "b"


@pytest.mark.parametrize("payload, says", [
    ("while True: pass", "time limit"),
    ("l = [[0] * 10**6 for i in range(10**4)]", "out of memory"),
    ("s = datetime.date(2026, 1, 1).strftime('%9999Y' * 150000)", "strftime() format length"),
    ("leak = [[0] * 100000] * 300", "data.leak"),
])
def test_other_reproductions_stop_the_case_naming_the_element_and_the_next_script_runs(hostile_svc, payload, says):
    deploy_files(hostile_svc, {"p.bpmn": linear(script(payload), user()),
                               "q.bpmn": linear(script("x = 1"), user(), process_id="q")})
    case = cases.get_case(hostile_svc, SYSTEM, cases.start_case(hostile_svc, SYSTEM, "p").id)
    assert (case["state"], case["error_element"]) == ("error", "e0")
    assert says in case["error_message"]
    assert cases.start_case(hostile_svc, SYSTEM, "q").state == "running"
