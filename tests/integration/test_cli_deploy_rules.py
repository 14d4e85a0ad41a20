"""The office's rules on the command line's deploy: the bundled procedures (with their lanes.json) still deploy; a
diagram another tool exported, with a plain task, is refused naming it; a refused bundle of several files reports
each file's problems under its own name."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.cli.main import main
from engine.config import Settings
from engine.errors import SpecInvalid
from engine.storage.db import make_engine
from engine.usecases.deploy import deploy_files
from tests.integration.test_cli import ROOT, cli_env  # noqa: F401 (fixture)
from tests.unit.test_problem_messages import foreign


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def versions(url: str) -> int:
    engine = make_engine(Settings(database_url=url))
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM process_versions").scalar()
    engine.dispose()
    return count


def test_the_bundled_processes_deploy_and_a_plain_task_is_refused_by_name(cli_env, tmp_path):  # noqa: F811
    assert invoke("migrate").exit_code == 0
    deployed = invoke("deploy", str(ROOT / "processes"))
    assert deployed.exit_code == 0, deployed.output
    assert "licencia: version 1 (new)" in deployed.output and "solicitud_ciudadana: version 1 (new)" in deployed.output
    before = versions(cli_env)
    plain = tmp_path / "importado.bpmn"
    plain.write_bytes(foreign(process_id="importado"))
    refused = invoke("deploy", str(plain))
    assert refused.exit_code == 1
    assert "importado.bpmn:7 [Task_1]: La tarea «Revisar solicitud» (Task_1) es una tarea sin tipo: nadie la atendería" \
        in refused.output
    assert versions(cli_env) == before
    # A lane no group works yet is deployed with a warning naming it (an administrator maps it afterwards).
    lane = tmp_path / "carril.bpmn"
    lane.write_bytes(foreign(('<bpmn:process id="carril" isExecutable="true">',
                              '<bpmn:process id="carril" isExecutable="true"><bpmn:laneSet id="ls"><bpmn:lane '
                              'id="L1" name="Archivo"><bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef></bpmn:lane>'
                              '</bpmn:laneSet>'),
                             ('<bpmn:task id="Task_1" name="Revisar solicitud">',
                              '<bpmn:userTask id="Task_1" name="Revisar solicitud">'),
                             ("</bpmn:task>", "</bpmn:userTask>"), process_id="carril"))
    warned = invoke("deploy", str(lane))
    assert warned.exit_code == 0 and "carril: version 1 (new)" in warned.output
    assert "warning: " in warned.output and "El carril «Archivo» de la tarea de usuario «Revisar solicitud» (Task_1) " \
        "no está asignado a ningún grupo" in warned.output


def test_a_refused_bundle_reports_every_files_problems(svc):
    broken = foreign((' width="100"', ""), process_id="roto")
    looping = foreign(("<bpmn:outgoing>Flow_2</bpmn:outgoing>\n    </bpmn:task>",
                       "<bpmn:outgoing>Flow_2</bpmn:outgoing><bpmn:standardLoopCharacteristics/>\n    </bpmn:task>"),
                      process_id="ciclo")
    with pytest.raises(SpecInvalid) as refused:
        deploy_files(svc, {"a.bpmn": broken, "b.bpmn": looping}, office=True)
    by_file = {p.file: p.message for p in refused.value.problems}
    # As one bundle, a's schema error stopped the parse before b was read; file by file, b's problem shows too.
    assert by_file["a.bpmn"].startswith("El elemento dc:Bounds del dibujo de la tarea «Revisar solicitud»")
    assert by_file["b.bpmn"].startswith("La tarea «Revisar solicitud» (Task_1) se repite (marcador de ciclo)")
