"""Decision tables within a draft on SQLite and PostgreSQL: a save builds on the revision it opened (a stale one
writes nothing), two saves of one table race for one revision, and publishing pins the edited table in the version
while discarding drops it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.storage import models
from engine.usecases import decisions, drafts
from tests.conftest import principal_for
from tests.processes.driver import office

KEY, FILE = "licencia", "requisitos_licencia.dmn"
SUPERVISOR = principal_for("supervisor1", "supervisor", ("ventanilla", "tramite"))


@pytest.fixture
def licence(database_url, clock):
    svc = office(database_url, clock)
    drafts.create_draft(svc, SUPERVISOR, KEY)
    yield svc
    svc.db.dispose()


def _changed(xml: str, requirement: str) -> str:
    return xml.replace('<text>["Croquis del recorrido"]</text>', f'<text>["Croquis del recorrido", "{requirement}"]</text>')


def test_saves_race_for_one_revision_and_publishing_pins_the_table(licence):
    svc = licence
    xml = decisions.get_decision(svc, SUPERVISOR, KEY, FILE)["xml"]
    assert decisions.save_decision(svc, SUPERVISOR, KEY, FILE, _changed(xml, "A"), 0)["revision"] == 1
    with pytest.raises(Conflict):
        decisions.save_decision(svc, SUPERVISOR, KEY, FILE, _changed(xml, "B"), 0)

    def save(requirement):
        try:
            return decisions.save_decision(svc, SUPERVISOR, KEY, FILE, _changed(xml, requirement), 1)["revision"]
        except Conflict:
            return "conflict"
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(map(str, pool.map(save, ["C", "D"])))
    assert outcomes == ["2", "conflict"]
    saved = decisions.get_decision(svc, SUPERVISOR, KEY, FILE)["xml"]
    assert ('"C"]' in saved) != ('"D"]' in saved)

    deployed = drafts.publish_draft(svc, SUPERVISOR, KEY, "Requisito nuevo")
    with svc.uow(write=False) as uow:
        files = orjson.loads(uow.conn.execute(select(models.process_versions.c.files_json)
                                              .where(models.process_versions.c.id == deployed.version_id)).scalar())
        left = uow.conn.execute(select(models.draft_decisions.c.id)).all()
    assert files[FILE] == saved and left == []


def test_discarding_the_draft_drops_its_tables(licence):
    svc = licence
    xml = decisions.get_decision(svc, SUPERVISOR, KEY, FILE)["xml"]
    decisions.save_decision(svc, SUPERVISOR, KEY, FILE, _changed(xml, "A"), 0)
    drafts.discard_draft(svc, SUPERVISOR, KEY)
    drafts.create_draft(svc, SUPERVISOR, KEY)
    table = decisions.get_decision(svc, SUPERVISOR, KEY, FILE)
    assert table["revision"] == 0 and table["xml"] == xml
