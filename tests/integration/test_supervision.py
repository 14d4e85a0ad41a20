"""The supervisor's view of the work (engine/usecases/supervision.py) on SQLite and PostgreSQL: counts per group and
per clerk against tasks with known due dates, the scope of a supervisor, and bulk reassignment and release where
one task is refused and one changed meanwhile without undoing the others."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import select, update

from engine.accounts.users import add_user, map_lane
from engine.errors import Forbidden, InvalidInput
from engine.storage import models
from engine.timekeeping.calendar import OFFICE_TZ
from engine.usecases import cases, supervision, tasks
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions
from tests.conftest import principal_for

# The fake clock: Monday 2 March 2026, 09:00 in Guatemala. Two working days on: Wednesday 4 March, so "due soon"
# runs to Thursday 5 March 00:00; five working days on: Monday 9 March (the weekend does not count).
ADMIN = principal_for("admin", "admin")
SUP_VENTANILLA = principal_for("sup_v", "supervisor", ("ventanilla",))
CLERK = principal_for("ventanilla1", "clerk", ("ventanilla",))
TRAMITE = principal_for("tramite1", "clerk", ("tramite",))


def one_task(process_id: str, lane: str, title: str) -> bytes:
    return definitions(f"""
    <bpmn:laneSet id="lanes"><bpmn:lane id="l" name="{lane}">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>t</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
    <bpmn:userTask id="t" name="{title}"/><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
    <bpmn:endEvent id="end"/>""", process_id, title)


def gt(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=OFFICE_TZ)


# name -> (group, due moment or None, holder or None)
TASKS = {
    "overdue_free": ("ventanilla", gt(1), None),
    "overdue_held": ("ventanilla", gt(2, 8), "ventanilla1"),
    "soon_held": ("ventanilla", gt(4, 15), "ventanilla1"),
    "thursday": ("ventanilla", gt(5, 10), None),
    "next_monday": ("ventanilla", gt(9, 10), "ventanilla2"),
    "no_due_free": ("ventanilla", None, None),
    "no_due_held": ("ventanilla", None, "ventanilla2"),
    "tramite_overdue": ("tramite", gt(2, 8), None),
    "tramite_soon": ("tramite", gt(3, 16), "tramite1"),
}


@pytest.fixture
def office(svc, clock):
    for lane, group in (("Ventanilla", "ventanilla"), ("Trámite", "tramite")):
        map_lane(svc, lane, group)
    deploy_files(svc, {"uno.bpmn": one_task("uno", "Ventanilla", "Recibir"),
                       "dos.bpmn": one_task("dos", "Trámite", "Dictaminar")}, actor="tests")
    for username, role, groups in (("ventanilla1", "clerk", ["ventanilla"]), ("ventanilla2", "clerk", ["ventanilla"]),
                                   ("tramite1", "clerk", ["tramite"]), ("sup_v", "supervisor", ["ventanilla"]),
                                   ("auditor1", "auditor", [])):
        add_user(svc, username, role, "contraseña-segura-1", groups=groups)
    ids = {}
    for name, (group, due, holder) in TASKS.items():
        clock.advance(minutes=1)  # received one after another: the lists' order past the deadline
        started = cases.start_case(svc, ADMIN, "uno" if group == "ventanilla" else "dos")
        task_id = started.ready_tasks[0]["id"]
        with svc.uow() as uow:  # a known deadline (the diagrams' own deadline machinery is tested elsewhere)
            uow.conn.execute(update(models.tasks).where(models.tasks.c.id == task_id).values(due_at=due))
            uow.commit()
        if holder:
            tasks.assign_task(svc, ADMIN, task_id, holder)
        ids[name] = task_id
    return ids


def _by(rows: list[dict], key: str) -> dict:
    return {r[key]: {k: v for k, v in r.items() if k not in (key, "name")} for r in rows}


def test_counts_per_group_and_clerk_for_an_administrator(svc, office):
    seen = supervision.workload(svc, ADMIN)
    assert _by(seen["groups"], "group") == {
        "ventanilla": {"open": 7, "overdue": 2, "due_soon": 1, "unassigned": 3},
        "tramite": {"open": 2, "overdue": 1, "due_soon": 1, "unassigned": 1}}
    assert _by(seen["clerks"], "username") == {
        "ventanilla1": {"open": 2, "overdue": 1, "due_soon": 1},
        "ventanilla2": {"open": 2, "overdue": 0, "due_soon": 0},
        "tramite1": {"open": 1, "overdue": 0, "due_soon": 1},
        "sup_v": {"open": 0, "overdue": 0, "due_soon": 0}}  # a supervisor of a group may be given its tasks
    assert seen["due_soon_until"] == datetime(2026, 3, 5, tzinfo=OFFICE_TZ)


def test_due_soon_counts_working_days_of_the_office_calendar(svc, office):
    ventanilla = {n: _by(supervision.workload(svc, ADMIN, due_soon_days=n)["groups"], "group")["ventanilla"]
                  for n in (0, 3, 4, 5)}
    # Today (Monday) holds none; Thursday joins at 3; Friday adds none; Monday 9 March is the 5th working day.
    assert {n: v["due_soon"] for n, v in ventanilla.items()} == {0: 0, 3: 2, 4: 2, 5: 3}
    assert all(v["overdue"] == 2 for v in ventanilla.values())


def test_a_supervisor_sees_only_the_groups_he_supervises(svc, office):
    seen = supervision.workload(svc, SUP_VENTANILLA)
    assert [g["group"] for g in seen["groups"]] == ["ventanilla"]
    assert sorted(c["username"] for c in seen["clerks"]) == ["sup_v", "ventanilla1", "ventanilla2"]
    with pytest.raises(Forbidden):
        supervision.open_tasks(svc, SUP_VENTANILLA, group="tramite")
    assert supervision.open_tasks(svc, SUP_VENTANILLA, assignee="tramite1")["items"] == []
    [done] = supervision.reassign_tasks(svc, SUP_VENTANILLA, [office["tramite_overdue"]], "tramite1",
                                        {office["tramite_overdue"]: ""})
    assert done["outcome"] == supervision.REFUSED  # out of his view: as if it did not exist
    assert _holder(svc, office["tramite_overdue"]) is None


def test_clerks_without_tasks_are_listed_and_roles_outside_are_refused(svc, office):
    tasks.release_task(svc, ADMIN, office["tramite_soon"])
    assert _by(supervision.workload(svc, ADMIN)["clerks"], "username")["tramite1"] == \
        {"open": 0, "overdue": 0, "due_soon": 0}
    for who in (CLERK, principal_for("auditor1", "auditor")):
        with pytest.raises(Forbidden):
            supervision.workload(svc, who)


def test_a_group_list_goes_soonest_due_first_and_flags_each_task(svc, office):
    listed = supervision.open_tasks(svc, SUP_VENTANILLA, group="ventanilla")
    order = {v: k for k, v in office.items()}
    assert [order[t["task_id"]] for t in listed["items"]] == [
        "overdue_free", "overdue_held", "soon_held", "thursday", "next_monday", "no_due_free", "no_due_held"]
    assert [(t["overdue"], t["due_soon"]) for t in listed["items"][:4]] == [
        (True, False), (True, False), (False, True), (False, False)]
    assert [c["username"] for c in listed["candidates"]] == ["sup_v", "ventanilla1", "ventanilla2"]
    mine = supervision.open_tasks(svc, ADMIN, assignee="ventanilla1")
    assert {order[t["task_id"]] for t in mine["items"]} == {"overdue_held", "soon_held"}


def _holder(svc, task_id: str):
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(models.tasks.c.assignee).where(models.tasks.c.id == task_id)).scalar_one()


def _events(svc, task_id: str) -> list[str]:
    with svc.uow(write=False) as uow:
        return list(uow.conn.execute(select(models.events.c.kind).where(models.events.c.task_id == task_id)
                                     .order_by(models.events.c.id)).scalars())


def test_bulk_reassign_one_refused_one_changed_meanwhile_the_others_done(svc, office):
    picked = [office["overdue_free"], office["overdue_held"], office["tramite_overdue"], office["no_due_held"]]
    holders = {office["overdue_free"]: "", office["overdue_held"]: "ventanilla1", office["tramite_overdue"]: "",
               office["no_due_held"]: "ventanilla1"}  # the page was read before ventanilla2 got it
    done = supervision.reassign_tasks(svc, ADMIN, picked, "ventanilla2", holders)
    assert [d["outcome"] for d in done] == ["done", "done", "refused", "changed"]
    assert "no pertenece al grupo tramite" in done[2]["error"].message
    assert done[3]["error"].details["holder"] == "ventanilla2"
    assert [_holder(svc, t) for t in picked] == ["ventanilla2", "ventanilla2", None, "ventanilla2"]
    assert _events(svc, office["overdue_held"])[-1] == "task_assigned"
    assert _events(svc, office["tramite_overdue"]) == []  # nothing recorded for the refused one
    counts = _by(supervision.workload(svc, ADMIN)["clerks"], "username")
    assert counts["ventanilla2"]["open"] == 4 and counts["ventanilla1"]["open"] == 1


def test_bulk_release_returns_held_tasks_and_reports_the_rest(svc, office):
    tasks.complete_task(svc, CLERK, office["soon_held"], {})  # completed after the list was read
    picked = [office["overdue_held"], office["soon_held"], office["no_due_free"]]
    holders = {office["overdue_held"]: "ventanilla1", office["soon_held"]: "ventanilla1", office["no_due_free"]: ""}
    done = supervision.release_tasks(svc, SUP_VENTANILLA, picked, holders)
    assert [d["outcome"] for d in done] == ["done", "changed", "refused"]
    assert _holder(svc, office["overdue_held"]) is None
    assert _events(svc, office["overdue_held"])[-1] == "task_released"


@pytest.mark.parametrize("call", [
    lambda svc, ids: supervision.reassign_tasks(svc, ADMIN, [], "ventanilla2", {}),
    lambda svc, ids: supervision.reassign_tasks(svc, ADMIN, [ids["overdue_free"]], " ", {ids["overdue_free"]: ""}),
    lambda svc, ids: supervision.reassign_tasks(svc, ADMIN, ["x"], "ventanilla2", {"x": ""}),
    lambda svc, ids: supervision.reassign_tasks(svc, ADMIN, [ids["overdue_free"]], "ventanilla2", {}),
    lambda svc, ids: supervision.workload(svc, ADMIN, due_soon_days=31),
    lambda svc, ids: supervision.open_tasks(svc, ADMIN),
])
def test_bad_input_is_refused_and_changes_nothing(svc, office, call):
    with pytest.raises(InvalidInput):
        call(svc, office)
    assert _holder(svc, office["overdue_free"]) is None


def test_two_supervisors_reassigning_one_task_at_once_one_wins_the_other_sees_it_changed(svc, office):
    task_id = office["overdue_free"]
    barrier, outcomes = threading.Barrier(2), {}

    def give(to: str):
        barrier.wait()
        [result] = supervision.reassign_tasks(svc, ADMIN, [task_id], to, {task_id: ""})
        outcomes[to] = result

    threads = [threading.Thread(target=give, args=(to,)) for to in ("ventanilla1", "ventanilla2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r["outcome"] for r in outcomes.values()) == ["changed", "done"]
    [winner] = [to for to, r in outcomes.items() if r["outcome"] == "done"]
    [loser] = [r for r in outcomes.values() if r["outcome"] == "changed"]
    assert _holder(svc, task_id) == winner == loser["error"].details["holder"]
    assert _events(svc, task_id).count("task_assigned") == 1
