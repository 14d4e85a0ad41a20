"""The lists' own tables (migration 0016_inbox_scale): what the inbox and the cases list find through them, kept by
triggers as tasks move, and rebuilt by the migration from the rows already stored; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select, text, update

from engine.accounts.users import map_lane
from engine.errors import InvalidInput
from engine.storage import models
from engine.storage.migrate import alembic_config
from engine.usecases import cases, inbox, tasks
from engine.usecases.deploy import deploy_files
from tests.conftest import bpmn_fixture, principal_for

CLERK = principal_for("ventanilla9", "clerk", ("ventanilla",))
LAWYER = principal_for("juridico9", "clerk", ("juridico",))


@pytest.fixture
def office(svc):
    map_lane(svc, "Ventanilla", "ventanilla")
    map_lane(svc, "Trámite", "tramite")
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")})
    return svc


def file(svc, name: str | None = "María López Núñez", municipality: str = "Patzún"):
    return cases.start_case(svc, principal_for("ventanilla1", "clerk", ("ventanilla",)), "five_step",
                            {"amount": 80}, summary={"applicant_name": name, "municipality": municipality})


def names(result: dict) -> list[str]:
    return [r["applicant_name"] for r in result["items"]]


def test_name_search_ignores_accents_case_and_word_endings(office):
    file(office)
    file(office, "Tomás Coyoy")
    for typed in ("Lopez", "lópez", "NUNEZ", "maria lop", "  Maria   Lopez "):
        assert names(inbox.inbox(office, CLERK, view="queue", q=typed)) == ["María López Núñez"], typed
    assert names(inbox.inbox(office, CLERK, view="queue", q="tomas")) == ["Tomás Coyoy"]
    assert names(inbox.inbox(office, CLERK, view="queue", q="Pérez")) == []
    assert names(inbox.inbox(office, CLERK, view="queue", q="¿?*\"")) == []  # no words: nothing, never an error


def test_name_search_finds_words_from_their_start_and_follows_a_corrected_name(office):
    started = file(office, "María-José López Núñez")
    number_words = started.number.lower().split("-")  # "exp", "gdch", the year, the sequence
    for typed in ("jose", "Maria Jose", "lo nu", number_words[-1][:3], f"{number_words[2]} nunez"):
        assert names(inbox.inbox(office, CLERK, view="queue", q=typed)) == ["María-José López Núñez"], typed
    for typed in ("opez", "ose", "lopezz", "jose perez"):  # inside a word, past its end, a word it lacks
        assert names(inbox.inbox(office, CLERK, view="queue", q=typed)) == [], typed
    with office.uow() as uow:  # the applicant's name corrected in the case row (the lists follow it)
        uow.conn.execute(update(models.cases).where(models.cases.c.id == started.id)
                         .values(applicant_name="Rosa Cumes"))
        uow.commit()
    assert names(inbox.inbox(office, CLERK, view="queue", q="cum")) == ["Rosa Cumes"]
    assert names(inbox.inbox(office, CLERK, view="queue", q="lopez")) == []


def test_exact_number_code_and_dpi_find_their_case(office):
    wanted, _ = file(office, "Irma Tum"), file(office, "Rosa Cumes")
    for typed in (wanted.number, wanted.tracking_code.lower(), wanted.number.rsplit("-", 1)[1]):
        assert names(inbox.inbox(office, CLERK, view="queue", q=typed)) == ["Irma Tum"], typed


def test_totals_are_counted_up_to_the_cap(office, monkeypatch):
    for _ in range(4):
        file(office)
    assert inbox.inbox(office, CLERK, view="queue")["total"] == 4
    monkeypatch.setattr(inbox, "COUNT_CAP", 3)
    monkeypatch.setattr(cases, "COUNT_CAP", 3)
    capped = inbox.inbox(office, CLERK, view="queue")
    assert (capped["total"], capped["total_more"], len(capped["items"])) == (3, True, 4)
    listed = cases.list_cases(office, CLERK)
    assert (listed["total"], listed["total_more"], len(listed["items"])) == (3, True, 4)
    exact = inbox.inbox(office, CLERK, view="queue", q="Lopez", per_page=2)
    assert exact["total_more"] and exact["has_more"]


@pytest.mark.parametrize("sort", ["due_at", "-due_at", "applicant", "-applicant", "number", "-created_at", "task"])
def test_next_cursor_pages_never_overlap_and_match_numbered_pages(office, sort):
    for i, name in enumerate(["Ana", None, "Óscar", "Ana", "Beto", None, "Zoila"]):
        office.clock.advance(minutes=1)
        file(office, name)
    numbered = [r["id"] for page in (1, 2, 3) for r in
                inbox.inbox(office, CLERK, view="queue", sort=sort, page=page, per_page=3)["items"]]
    walked, after = [], None
    while True:
        page = inbox.inbox(office, CLERK, view="queue", sort=sort, per_page=3, after=after)
        walked += [r["id"] for r in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert walked == numbered and len(set(walked)) == 7
    by_name = names(inbox.inbox(office, CLERK, view="queue", sort=sort, per_page=10))
    if sort.lstrip("-") == "applicant":  # rows without an applicant come last both ways
        assert by_name[-2:] == [None, None]
        assert by_name[:5] == (["Ana", "Ana", "Beto", "Zoila", "Óscar"] if sort == "applicant"
                               else ["Óscar", "Zoila", "Beto", "Ana", "Ana"])


def test_a_cursor_that_is_not_one_is_refused_naming_the_field(office):
    with pytest.raises(InvalidInput) as refused:
        inbox.inbox(office, CLERK, view="queue", after="not-a-cursor")
    assert refused.value.errors[0]["field"] == "after"


def test_choices_follow_new_tasks_groups_and_municipalities(office):
    first = file(office, municipality="Patzún")
    choices = inbox.inbox(office, CLERK, view="queue")["choices"]
    assert (choices["process_keys"], choices["municipalities"]) == (["five_step"], ["Patzún"])
    assert choices["tasks"] == [("register", "Registrar solicitud")]
    file(office, municipality="Tecpán Guatemala")
    assert inbox.inbox(office, CLERK, view="queue")["choices"]["municipalities"] == ["Patzún", "Tecpán Guatemala"]
    reviewer = principal_for("tramite9", "clerk", ("tramite",))
    assert inbox.inbox(office, reviewer, view="queue")["choices"]["tasks"] == []
    tasks.claim_task(office, CLERK, first.ready_tasks[0]["id"])
    tasks.complete_task(office, CLERK, first.ready_tasks[0]["id"], {})
    moved = inbox.inbox(office, reviewer, view="queue")["choices"]
    assert moved["municipalities"] == ["Patzún"] and [e for e, _ in moved["tasks"]] == ["review"]
    assert inbox.inbox(office, CLERK, view="queue")["choices"]["municipalities"] == ["Tecpán Guatemala"]


def test_who_sees_a_case_follows_its_task_to_another_group(office):
    started = file(office)
    task_id = started.ready_tasks[0]["id"]
    other = principal_for("ventanilla8", "clerk", ("ventanilla",))
    assert [c["id"] for c in cases.list_cases(office, other)["items"]] == [started.id]
    assert cases.list_cases(office, LAWYER)["items"] == []
    with office.uow() as uow:  # a lane moved to another group (as an administrator's correction would)
        uow.conn.execute(update(models.tasks).where(models.tasks.c.id == task_id).values(candidate_group="juridico"))
        uow.commit()
    assert [c["id"] for c in cases.list_cases(office, LAWYER)["items"]] == [started.id]
    assert [t["id"] for t in inbox.inbox(office, LAWYER, view="queue")["items"]] == [task_id]
    assert cases.list_cases(office, other)["items"] == []  # no task of ventanilla left in it
    assert inbox.inbox(office, other, view="queue")["items"] == []
    filer = principal_for("ventanilla1", "clerk", ())
    assert [c["id"] for c in cases.list_cases(office, filer)["items"]] == [started.id]  # he filed it
    tasks.claim_task(office, LAWYER, task_id)
    assert [t["id"] for t in inbox.inbox(office, LAWYER, view="mine")["items"]] == [task_id]
    holder = principal_for("juridico9", "clerk", ())
    assert [c["id"] for c in cases.list_cases(office, holder)["items"]] == [started.id]  # he holds its task
    tasks.release_task(office, LAWYER, task_id)
    assert cases.list_cases(office, holder)["items"] == []


def test_overdue_cases_come_from_their_ready_tasks(office):
    late, on_time, undated = file(office, "Tarde"), file(office, "A tiempo"), file(office, "Sin plazo")
    now = office.clock()
    with office.uow() as uow:  # deadlines set on the ready tasks (five_step's have none)
        for started, days in ((late, -1), (on_time, 3)):
            uow.conn.execute(update(models.tasks).where(models.tasks.c.id == started.ready_tasks[0]["id"])
                             .values(due_at=now + timedelta(days=days)))
        uow.commit()
    late_ones = cases.list_cases(office, CLERK, overdue=True)
    assert ([c["id"] for c in late_ones["items"]], late_ones["total"]) == ([late.id], 1)
    assert {c["id"] for c in cases.list_cases(office, CLERK, overdue=False)["items"]} == {on_time.id, undated.id}
    assert names(inbox.inbox(office, CLERK, view="queue"))[0] == "Tarde"
    assert names(inbox.inbox(office, CLERK, view="queue", sort="-due_at")) == ["A tiempo", "Tarde", "Sin plazo"]


def _lists(svc) -> dict:
    with svc.db.connect() as conn:
        return {"inbox": sorted(tuple(r) for r in conn.execute(select(models.inbox_items))),
                "access": sorted(tuple(r) for r in conn.execute(select(models.case_access)))}


def test_the_migration_rebuilds_the_lists_from_stored_rows(office):
    for name in ("María López", "José Pérez", None):
        started = file(office, name)
    tasks.claim_task(office, CLERK, started.ready_tasks[0]["id"])
    done = file(office, "Rosa Cumes")
    tasks.claim_task(office, CLERK, done.ready_tasks[0]["id"])
    tasks.complete_task(office, CLERK, done.ready_tasks[0]["id"], {})
    kept = _lists(office)
    assert len(kept["inbox"]) == 4 and ("u:ventanilla9", done.id) in kept["access"]
    config = alembic_config()
    with office.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0015_institutions")
    with office.db.connect() as conn:
        tables = ("SELECT name FROM sqlite_master" if conn.dialect.name == "sqlite"
                  else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        assert "inbox_items" not in {r[0] for r in conn.execute(text(tables))}
    with office.db.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")
    assert _lists(office) == kept
    assert names(inbox.inbox(office, CLERK, view="queue", q="perez")) == ["José Pérez"]
    file(office, "Nueva Gómez")  # and the triggers are back
    assert names(inbox.inbox(office, CLERK, view="queue", q="gomez")) == ["Nueva Gómez"]


def test_late_cases_keep_the_lists_order_both_ways(office):
    filed = [file(office, f"Caso {i}") for i in range(3)]
    now = office.clock()
    with office.uow() as uow:  # the first two late, the first with two late tasks (as parallel branches have)
        for started in filed[:2]:
            uow.conn.execute(update(models.tasks).where(models.tasks.c.id == started.ready_tasks[0]["id"])
                             .values(due_at=now - timedelta(days=1)))
        uow.conn.execute(models.tasks.insert().values(
            id="00000000-0000-4000-8000-000000000001", case_id=filed[0].id, element_id="extra", title="Extra",
            candidate_group="ventanilla", state="ready", created_at=now, due_at=now - timedelta(days=2)))
        uow.commit()
    ids = [s.id for s in filed[:2]]
    for sort, expected in (("-created_at", ids[::-1]), ("created_at", ids), ("number", ids)):
        listed = cases.list_cases(office, CLERK, overdue=True, sort=sort)
        assert ([c["id"] for c in listed["items"]], listed["total"]) == (expected, 2), sort
    assert [c["id"] for c in cases.list_cases(office, CLERK, overdue=True, per_page=1, page=2)["items"]] == [ids[0]]
