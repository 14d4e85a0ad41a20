"""A diagram from another tool meets the office rules on every way to publish it (the API's and the command line's
deploy_bundle, the modeler's draft), refused naming its elements; once its guided fixes are applied with the office's
own lanes and forms (engine/usecases/foreign_import.py) it publishes on each of them."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SpecInvalid
from engine.usecases import drafts, foreign_import
from engine.usecases.processes import deploy_bundle
from tests.conftest import principal_for
from tests.processes.driver import office

FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign" / "a10_carriles_juel.bpmn"
SUPERVISOR = principal_for("supervisor1", "supervisor")


@pytest.fixture
def svc(sqlite_url, clock):
    services = office(sqlite_url, clock)
    yield services
    services.db.dispose()


def fixed(svc, key: str) -> str:
    """The fixture with every guided fix applied: user tasks in the lane «Ventanilla», the form «notificacion»."""
    xml = FOREIGN.read_text(encoding="utf-8")
    fixes = foreign_import.import_fixes_for(svc, SUPERVISOR, key, xml)["fixes"]
    [ventanilla] = [o for f in fixes if f["kind"] == "lane_group" for o in f["options"] if o["value"] == "Ventanilla"][:1]
    assert "ventanilla" in ventanilla["label"]  # the group, as the lane table maps it
    chosen = [{"id": f["id"], "value": {"task_type": "userTask", "lane_group": "Ventanilla"}.get(f["kind"])}
              for f in fixes if f["applicable"]]
    result = foreign_import.apply_import_fixes(svc, SUPERVISOR, key, xml, chosen)
    forms = [{"id": f["id"], "value": "notificacion"} for f in result["fixes"]]
    result = foreign_import.apply_import_fixes(svc, SUPERVISOR, key, result["xml"], forms)
    assert result["fixes"] == []
    return result["xml"]


def test_every_deploy_path_refuses_the_foreign_diagram_naming_its_plain_tasks(svc):
    xml = FOREIGN.read_text(encoding="utf-8").replace('id="WFP-6-"', 'id="importado"') \
        .replace('bpmnElement="WFP-6-"', 'bpmnElement="importado"').replace('isExecutable="false"',
                                                                              'isExecutable="true"')
    with pytest.raises(SpecInvalid) as refused:  # the API's and the command line's deploy: the parser first
        deploy_bundle(svc, SUPERVISOR, {"importado.bpmn": xml.encode()})
    assert "«Yes» (_8e8fe679-eb3b-4c43-a4d6-891e7087ff80) usa sintaxis JUEL/FEEL" in refused.value.problems[0].message
    xml = xml.replace("${monto &gt; 5000 &amp;&amp; !urgente}", "monto &gt; 5000")  # then the office's rules
    with pytest.raises(SpecInvalid) as refused:
        deploy_bundle(svc, SUPERVISOR, {"importado.bpmn": xml.encode()})
    said = " ".join(p.message for p in refused.value.problems)
    assert "La tarea «Task 1» (_ec59e164-68b4-4f94-98de-ffb1c58a84af) es una tarea sin tipo" in said
    drafts.save_draft(svc, SUPERVISOR, "importado", xml)  # the modeler's publish
    with pytest.raises(SpecInvalid) as refused:
        drafts.publish_draft(svc, SUPERVISOR, "importado", "Importado")
    assert "es una tarea sin tipo" in " ".join(p.message for p in refused.value.problems)


def test_once_fixed_it_publishes_from_the_modeler_and_deploys_through_the_api(svc):
    drafts.save_draft(svc, SUPERVISOR, "importado", fixed(svc, "importado"))
    assert drafts.get_draft(svc, SUPERVISOR, "importado")["valid"]
    assert drafts.publish_draft(svc, SUPERVISOR, "importado", "Importado y arreglado").version == 1
    [deployed] = deploy_bundle(svc, SUPERVISOR, {"importado_api.bpmn": fixed(svc, "importado_api").encode()})
    assert deployed.process_key == "importado_api" and deployed.created
