"""Trying a draft before publishing: the licence draft run in a throwaway database, through a gateway by choice and
by data, its timers fired at once, its institutions' answers simulated, a loop stopped by the step limit, and
nothing written to the office's own tables."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, InvalidInput
from engine.storage import models
from engine.usecases import drafts, trial, trial_store
from tests.bpmn import definitions
from tests.conftest import principal_for
from tests.processes.driver import office
from tests.processes.licencia_walk import intake

SUPERVISOR = principal_for("supervisor1", "supervisor")
RECEIVED = {"constancia_entrega": "ventanilla", "constancia_folios": 12}


@pytest.fixture
def trial_dir(tmp_path, monkeypatch):
    folder = tmp_path / "trials"
    monkeypatch.setenv("EXPEDIENTE_TRIAL_DIR", str(folder))
    return folder


@pytest.fixture
def real(database_url, clock, trial_dir):
    """The office on both backends, with a draft of the licence."""
    svc = office(database_url, clock)
    drafts.create_draft(svc, SUPERVISOR, "licencia")
    yield svc
    svc.db.dispose()


def counts(svc) -> dict:
    with svc.uow(write=False) as uow:
        return {t.name: uow.conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (models.cases, models.events, models.tasks, models.timers, models.documents)}


def ready(state) -> list[str]:
    return sorted(t["element_id"] for t in state["ready_tasks"])


def complete(svc, state, element_id, data):
    [task] = [t for t in state["ready_tasks"] if t["element_id"] == element_id]
    return trial.trial_complete(svc, SUPERVISOR, state["token"], task["id"], data)


def to_gateway(svc, choices=None, complete_file=True):
    state = trial.start_trial(svc, SUPERVISOR, "licencia", intake(), choices or {})
    assert ready(state) == ["emitir_constancia"]
    state = complete(svc, state, "emitir_constancia", RECEIVED)
    return complete(svc, state, "revisar_completitud", {"completo": True} if complete_file else
                    {"completo": False, "faltantes": ["Licencia municipal de sonido"]})


def trial_files(trial_dir) -> list:
    """What is left of trials (the migrated template they are copied from stays, one per migration head)."""
    return [p.name for p in trial_dir.iterdir() if not p.name.startswith("template-")]


def test_trials_start_as_copies_of_one_migrated_template_at_the_codes_heads(real, trial_dir):
    from alembic.script import ScriptDirectory
    from engine.storage.migrate import alembic_config
    first = trial.start_trial(real, SUPERVISOR, "licencia", intake(), {})
    [template] = trial_dir.glob("template-*.sqlite")
    made = template.stat().st_mtime_ns
    second = trial.start_trial(real, SUPERVISOR, "licencia", intake(), {})
    assert [p.stat().st_mtime_ns for p in trial_dir.glob("template-*")] == [made]  # reused, not made again
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    for state in (first, second):
        db = trial_dir / f"{state['token']}.db"
        with sqlite3.connect(db) as conn:
            assert {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")} == heads
            assert conn.execute("SELECT count(*) FROM cases").fetchone() == (1,)  # its own case only
        trial.end_trial(real, SUPERVISOR, state["token"])
    with sqlite3.connect(template) as conn:
        assert conn.execute("SELECT count(*) FROM cases").fetchone() == (0,)  # the template stays empty
    (trial_dir / "template-0000000000000000.sqlite").write_bytes(b"")  # an older head's template
    template.unlink()
    trial.end_trial(real, SUPERVISOR, trial.start_trial(real, SUPERVISOR, "licencia", intake(), {})["token"])
    assert [p.name for p in trial_dir.glob("template-*")] == [template.name]  # remade; the older one removed


def test_the_setup_lists_the_drafts_gateways_and_an_example_of_the_start_form(real):
    setup = trial.trial_setup(real, SUPERVISOR, "licencia")
    gateways = {g["id"]: g for g in setup["gateways"]}
    assert {f["id"] for f in gateways["gw_archivado"]["flows"]} == {"f_archivado", "f_completo"}
    assert gateways["gw_archivado"]["default"] == "f_completo"
    assert setup["start_form"] == "licencia_solicitud"
    assert "solicitante_nombre" in setup["start_example"]


def test_a_gateway_chosen_before_the_run_is_taken_whatever_the_data_say_and_nothing_reaches_the_office(real, trial_dir):
    before = counts(real)
    state = to_gateway(real, {"gw_archivado": "f_archivado"})  # the file is complete, yet it is archived
    assert state["finished"] and state["case_state"] == "completed"
    assert "archivar_expediente" in state["path"]["done"] and "fijar_plazo_respuesta" not in state["path"]["done"]
    assert {"f_archivado", "f_archivado_fin"} <= set(state["path"]["flows"])
    assert "f_completo" not in state["path"]["flows"]
    assert [s["kind"] for s in state["steps"]] == ["start", "task", "task"]
    assert state["steps"][-1]["data"]["estado_licencia"] == "archivada_por_falta_de_requisitos"
    assert counts(real) == before  # no case, event, task, timer or document in the office's tables
    assert list(trial_dir.glob("*.db")) != []  # the trial's own file
    trial.end_trial(real, SUPERVISOR, state["token"])
    assert trial_files(trial_dir) == []
    with pytest.raises(trial_store.TrialNotFound):
        trial.trial_state(real, SUPERVISOR, state["token"])


def test_letting_the_data_decide_takes_the_other_branch_then_timers_fire_at_once(real):
    state = to_gateway(real)  # complete: the default flow, the opinions are asked
    assert "fijar_plazo_respuesta" in state["path"]["done"] and "f_completo" in state["path"]["flows"]
    assert state["ready_tasks"] == []
    assert sorted(t["element_id"] for t in state["timers"]) == ["vence_opinion_coordinador", "vence_opinion_pnc"]
    assert {w["name"] for w in state["waits"]} == {"opinion_pnc", "opinion_conred"}
    assert "recibir_opinion_pnc" in state["path"]["active"]
    state = trial.trial_fire_timers(real, SUPERVISOR, state["token"])  # both fall due the same day
    assert state["timers"] == [] and state["waits"] == []
    assert ready(state) == ["elaborar_dictamen"]
    assert state["steps"][-1]["kind"] == "timer"
    with pytest.raises(Conflict):
        trial.trial_fire_timers(real, SUPERVISOR, state["token"])  # nothing waits on a timer now
    trial.end_trial(real, SUPERVISOR, state["token"])


def test_an_institutions_answer_is_simulated_as_a_message(real):
    state = to_gateway(real)
    [wait] = [w for w in state["waits"] if w["name"] == "opinion_pnc"]
    state = trial.trial_message(real, SUPERVISOR, state["token"], wait["name"], wait["keys"],
                                {"respuesta": "Opinión favorable", "institucion": "pnc"})
    assert state["message"]["state"] == "delivered"
    assert [w["name"] for w in state["waits"]] == ["opinion_conred"]
    assert state["data"]["opinion_pnc"]["respuesta"] == "Opinión favorable"
    # Chosen again, the answer goes into the new trial's request (its own number) as before.
    state = trial.trial_rechoose(real, SUPERVISOR, state["token"], {"gw_requiere_coordinador": "f_sin_coordinador"})
    assert (state["replayed"], state["replay_total"]) == (3, 3)
    assert state["waits"] == [] and state["data"]["opinion_pnc"]["respuesta"] == "Opinión favorable"
    trial.end_trial(real, SUPERVISOR, state["token"])


def test_data_a_form_refuses_names_the_field_and_leaves_no_trial_behind(real, trial_dir):
    with pytest.raises(InvalidInput) as refused:
        trial.start_trial(real, SUPERVISOR, "licencia", intake(solicitante_dpi="123"), {})
    assert any("solicitante_dpi" in e["field"] for e in refused.value.errors)
    assert list(trial_dir.glob("*.db")) == []
    state = trial.start_trial(real, SUPERVISOR, "licencia", intake(), {})
    with pytest.raises(InvalidInput) as refused:
        complete(real, state, "emitir_constancia", {"constancia_folios": "doce"})
    assert refused.value.errors
    assert refused.value.message.startswith("La tarea de usuario «Emitir constancia de recepción» (emitir_constancia): ")
    trial.end_trial(real, SUPERVISOR, state["token"])


def test_choices_of_unknown_gateways_or_flows_are_refused_naming_the_field(real):
    with pytest.raises(InvalidInput) as refused:
        trial.start_trial(real, SUPERVISOR, "licencia", intake(), {"no_such": "f_x"})
    assert refused.value.errors[0]["field"] == "choices.no_such"
    with pytest.raises(InvalidInput) as refused:
        trial.start_trial(real, SUPERVISOR, "licencia", intake(), {"gw_archivado": "f_con_pnc"})
    assert refused.value.errors[0]["field"] == "choices.gw_archivado"


def test_another_supervisors_trial_is_not_found(real):
    state = trial.start_trial(real, SUPERVISOR, "licencia", intake(), {"gw_archivado": "f_archivado"})
    with pytest.raises(trial_store.TrialNotFound):
        trial.trial_state(real, principal_for("supervisor2", "supervisor"), state["token"])
    with pytest.raises(trial_store.TrialNotFound):
        trial.trial_state(real, SUPERVISOR, "not-a-token")
    trial.end_trial(real, SUPERVISOR, state["token"])


LOOP = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="revisar"/>
    <bpmn:userTask id="revisar" name="Revisar otra vez"/>
    <bpmn:sequenceFlow id="f2" sourceRef="revisar" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" name="¿Listo?" default="f_otra"/>
    <bpmn:sequenceFlow id="f_listo" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>listo == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_otra" sourceRef="gw" targetRef="revisar"/>
    <bpmn:endEvent id="end"/>
""", "ciclo", "Ciclo").decode()


def test_the_step_limit_stops_a_loop(real):
    drafts.save_draft(real, SUPERVISOR, "ciclo", LOOP)
    state = trial.start_trial(real, SUPERVISOR, "ciclo", {}, {}, step_limit=3)
    for _ in range(3):
        state = complete(real, state, "revisar", {"listo": False})
    assert state["limit_reached"] and "límite de 3 pasos" in state["problems"][-1]["message"]
    with pytest.raises(Conflict):
        complete(real, state, "revisar", {"listo": True})
    trial.end_trial(real, SUPERVISOR, state["token"])


def test_a_script_error_is_said_naming_its_element(real):
    broken = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calcular"/>
    <bpmn:scriptTask id="calcular" name="Calcular la tasa"><bpmn:script>tasa = monto / 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="calcular" targetRef="end"/>
    <bpmn:endEvent id="end"/>
""", "roto", "Roto").decode()
    drafts.save_draft(real, SUPERVISOR, "roto", broken)
    state = trial.start_trial(real, SUPERVISOR, "roto", {"monto": 10}, {})
    assert state["case_state"] == "error"
    [problem] = state["problems"]
    assert problem["element_id"] == "calcular"
    assert problem["message"] == "La tarea de script «Calcular la tasa» (calcular): división entre cero"
    assert state["path"]["failed"] == ["calcular"]
    trial.end_trial(real, SUPERVISOR, state["token"])


def test_expired_trials_are_swept(real, trial_dir):
    state = trial.start_trial(real, SUPERVISOR, "licencia", intake(), {"gw_archivado": "f_archivado"})
    assert trial_store.sweep(now=10**12) == 1
    assert trial_files(trial_dir) == []
    with pytest.raises(trial_store.TrialNotFound):
        trial.trial_state(real, SUPERVISOR, state["token"])


def test_choosing_again_once_the_path_is_seen_replays_the_steps_with_the_new_outcome(real, trial_dir):
    state = to_gateway(real)  # the data took the default way: the opinions are asked
    assert "fijar_plazo_respuesta" in state["path"]["done"]
    old = state["token"]
    state = trial.trial_rechoose(real, SUPERVISOR, old, {"gw_archivado": "f_archivado"})
    assert state["token"] != old and (state["replayed"], state["replay_total"]) == (2, 2)
    assert state["finished"] and "archivar_expediente" in state["path"]["done"]
    assert [s["kind"] for s in state["steps"]] == ["start", "task", "task"]
    assert len(list(trial_dir.glob("*.db"))) == 1  # the older trial is gone
    with pytest.raises(trial_store.TrialNotFound):
        trial.trial_state(real, SUPERVISOR, old)
    # Back to the data's way: the same steps, then the timers fired as before.
    state = trial.trial_rechoose(real, SUPERVISOR, state["token"], {})
    assert state["replayed"] == 2 and not state["finished"] and state["timers"]
    trial.end_trial(real, SUPERVISOR, state["token"])


def test_a_loop_of_automatic_steps_stops_naming_its_element_in_spanish(real):
    loop = definitions("""
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="contar"/>
    <bpmn:scriptTask id="contar" name="Contar"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="contar" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" name="¿Terminó?" default="f_otra"/>
    <bpmn:sequenceFlow id="f_fin" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>n &lt; 0</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_otra" sourceRef="gw" targetRef="contar"/>
    <bpmn:endEvent id="end"/>
""", "bucle", "Bucle").decode()
    drafts.save_draft(real, SUPERVISOR, "bucle", loop)
    state = trial.start_trial(real, SUPERVISOR, "bucle", {"n": 0}, {})
    assert state["case_state"] == "error"
    [problem] = state["problems"]
    assert problem["message"].startswith("La tarea de script «Contar» (contar): más de ")
    assert "pasos automáticos sin esperar a una persona ni a un evento" in problem["message"]
    trial.end_trial(real, SUPERVISOR, state["token"])


def test_a_supervisor_keeps_a_few_live_trials_starting_another_deletes_his_oldest(real, trial_dir):
    tokens = [trial.start_trial(real, SUPERVISOR, "licencia", intake(),
                                {"gw_archivado": "f_archivado"})["token"] for _ in range(trial_store.TRIALS_PER_OWNER)]
    other = trial.start_trial(real, principal_for("supervisor2", "supervisor"), "licencia", intake(), {})["token"]
    newest = trial.start_trial(real, SUPERVISOR, "licencia", intake(), {})["token"]
    with pytest.raises(trial_store.TrialNotFound):
        trial.trial_state(real, SUPERVISOR, tokens[0])
    for token in tokens[1:] + [newest]:
        assert trial.trial_state(real, SUPERVISOR, token)["token"] == token
    assert trial.trial_state(real, principal_for("supervisor2", "supervisor"), other)["token"] == other
