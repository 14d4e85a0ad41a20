"""Applying a migration plan (engine/usecases/case_migration.py) in batches, and undoing it.

Each case goes in its own transaction: it is read again, skipped when its version is no longer the one its dry run saw
(somebody worked it meanwhile: listed as skipped, the plan of a stale case is never applied), migrated again in memory
(a problem found now refuses it), written with the one optimistic version check (storage.persistence), its tasks,
timers, waits, inbox rows and legal deadlines projected as any step does, and a `case_migrated` event recorded (from
and to version, the mapping used, what closed and what opened). The item keeps the case's previous workflow text,
version row and case version, and the case version the migration wrote.

Undo puts that state back, case by case, while the case is still at the version the migration wrote (a case that
moved on is left as it is and listed); the rows of the tasks, timers and waits it waited for come back to life (their
ids are the old workflow's), the migration's are cancelled, and `case_migration_undone` is recorded.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select, update

from engine.accounts.permissions import Principal, use_case
from engine.errors import Conflict, InvalidInput
from engine.messages import msg
from engine.runtime import serializer
from engine.storage import models
from engine.storage.migration_rows import revive
from engine.storage.swap_rows import redescribe
from engine.storage.persistence import (
    CaseRow, Snapshot, append_events, bump_case, dump_or_refuse, event_row, load_case_workflow, project, read_case,
    snapshot,
)
from engine.usecases.case_migration import Versions, _migration, _version, trial
from engine.usecases.outcomes import outcome_events

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

DEFAULT_BATCH = 50
MAX_BATCH = 200
_m, _i, _c = models.case_migrations, models.case_migration_items, models.cases
MIGRATED, REFUSED, SKIPPED, UNDONE, KEPT = "migrated", "refused", "skipped", "undone", "kept"


def _batch_size(batch) -> int:
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= MAX_BATCH:
        raise InvalidInput(msg("el lote debe ser de 1 a %(max)s expedientes", max=MAX_BATCH),
                           errors=[{"field": "batch", "message": f"1 to {MAX_BATCH}"}])
    return batch


def _count(conn, migration_id: int, now, **deltas: int) -> None:
    conn.execute(update(_m).where(_m.c.id == migration_id).values(
        updated_at=now, **{column: getattr(_m.c, column) + delta for column, delta in deltas.items()}))


def _settle(conn, migration_id: int, item_id: int, state: str, now, **values) -> None:
    conn.execute(update(_i).where(_i.c.id == item_id).values(state=state, done_at=now, **values))


@use_case("case.migrate")
def apply_batch(svc: Services, principal: Principal, migration_id: int, batch: int = DEFAULT_BATCH) -> dict:
    """Migrate the next `batch` planned cases, each in its own transaction; the migration's counts and what happened
    to each case of this batch (migrated, refused or skipped, with the problem)."""
    batch = _batch_size(batch)
    with svc.uow(write=False) as uow:
        conn = uow.conn
        found = _migration(conn, migration_id)
        if found["state"] == "undone":
            raise Conflict(msg("la migración ya se deshizo"), migration_id=migration_id)
        items = conn.execute(select(_i.c.id, _i.c.case_id, _i.c.planned_case_version).where(
            _i.c.migration_id == migration_id, _i.c.state == "planned").order_by(_i.c.id).limit(batch)).all()
        versions = Versions(svc, conn, _version(conn, found["from_version_id"], "from_version_id"),
                            _version(conn, found["to_version_id"], "to_version_id"))
    results = []
    for item in items:
        try:
            results.append(_apply_one(svc, principal, migration_id, found, versions, item))
        except Conflict:
            # Written meanwhile by someone else (a clerk's step, another supervisor applying the same plan).
            results.append(_skip_if_planned(svc, migration_id, item))
    with svc.uow() as uow:
        left = uow.conn.execute(select(_i.c.id).where(_i.c.migration_id == migration_id, _i.c.state == "planned")
                                .limit(1)).first()
        uow.conn.execute(update(_m).where(_m.c.id == migration_id).values(
            state="applying" if left else "applied", updated_at=svc.clock()))
        uow.commit()
    with svc.uow(write=False) as uow:
        return {**_migration(uow.conn, migration_id), "results": results}


def _still_planned(conn, item_id: int) -> str | None:
    return conn.execute(select(_i.c.state).where(_i.c.id == item_id)).scalar()


def _skip(conn, migration_id: int, item, now) -> dict:
    problem = msg("el expediente cambió después de la simulación; simule de nuevo para migrarlo")
    _settle(conn, migration_id, item.id, SKIPPED, now, problem=problem)
    _count(conn, migration_id, now, skipped=1, planned=-1)
    return {"case_id": item.case_id, "state": SKIPPED, "problem": problem}


def _skip_if_planned(svc: Services, migration_id: int, item) -> dict:
    with svc.uow() as uow:
        state = _still_planned(uow.conn, item.id)
        if state != "planned":
            return {"case_id": item.case_id, "state": state, "problem": None}
        out = _skip(uow.conn, migration_id, item, svc.clock())
        uow.commit()
    return out


def _apply_one(svc: Services, principal: Principal, migration_id: int, found: dict, versions: Versions,
               item) -> dict:
    now = svc.clock()
    with svc.uow() as uow:
        conn = uow.conn
        state = _still_planned(conn, item.id)
        if state != "planned":  # another request applying the same plan got there first
            return {"case_id": item.case_id, "state": state, "problem": None}
        case = read_case(conn, item.case_id)
        out = {"case_id": item.case_id}
        if case is None or case.version != item.planned_case_version or case.process_version_id != found[
                "from_version_id"]:
            skipped = _skip(conn, migration_id, item, now)
            uow.commit()
            return skipped
        trying = conn.begin_nested()  # a refused case keeps nothing its trial's steps wrote
        plan, _wf, before, new_wf, after = trial(svc, conn, case, versions, found["mapping"], principal.username)
        if new_wf is None:
            trying.rollback()
            return _refuse(uow, migration_id, item.id, now, out, plan["problem"])
        state = "suspended" if case.state == "suspended" else "running"
        text, state, failure = dump_or_refuse(new_wf, state, None)
        if text is None:
            trying.rollback()
            return _refuse(uow, migration_id, item.id, now, out, failure.message)
        trying.commit()
        version = bump_case(conn, case.id, case.version, {
            "workflow_json": text, "serializer_version": serializer.SERIALIZER_VERSION,
            "process_version_id": found["to_version_id"], "state": state, "updated_at": now,
            "error_element": None, "error_message": None})
        # A migration passes through no element: the heat map's visits (storage.visits) are left as they were.
        before, after = replace(before, done={}), replace(after, done={})
        project(conn, case.id, case.process_key, before, after, now, deadlines=svc.deadlines,
                actor=principal.username)
        if plan["way"] == "swap":  # the same task ids: what the new version says of them is rewritten in place
            redescribe(conn, case.id, case.process_key, before, after)
        append_events(conn, [event_row(case.id, now, "case_migrated", element_id=plan["target"],
                                       actor=principal.username, data={
                                           "migration_id": migration_id, "from_version": found["from_version"],
                                           "to_version": found["to_version"], "way": plan["way"],
                                           "mapping": plan["mapping"], "kept": plan["keep"],
                                           "closed": plan["close"], "opened": plan["open"],
                                           "fields_not_in_forms": plan["fields_not_in_forms"]})]
                      + outcome_events(svc, conn, case.id, now, state, None))
        _settle(conn, migration_id, item.id, MIGRATED, now, before_workflow_json=case.workflow_json,
                before_version_id=case.process_version_id, before_case_version=case.version,
                after_case_version=version, plan_json=orjson.dumps(plan, default=str).decode(), problem=None)
        _count(conn, migration_id, now, migrated=1, planned=-1)
        uow.commit()
    return {**out, "state": MIGRATED, "problem": None, "version": version, "target": plan["target"],
            "way": plan["way"]}


def _refuse(uow, migration_id: int, item_id: int, now, out: dict, problem: str) -> dict:
    conn = uow.conn
    _settle(conn, migration_id, item_id, REFUSED, now, problem=problem)
    _count(conn, migration_id, now, refused=1, planned=-1)
    uow.commit()
    return {**out, "state": REFUSED, "problem": problem}


@use_case("case.migrate")
def undo_batch(svc: Services, principal: Principal, migration_id: int, batch: int = DEFAULT_BATCH) -> dict:
    """Undo the next `batch` migrated cases of the migration, each in its own transaction: a case still at the version
    the migration wrote gets its previous state back (undone); one that moved on is kept as it is (kept, with why)."""
    batch = _batch_size(batch)
    with svc.uow(write=False) as uow:
        found = _migration(uow.conn, migration_id)
        items = uow.conn.execute(select(_i).where(_i.c.migration_id == migration_id, _i.c.state == MIGRATED)
                                 .order_by(_i.c.id).limit(batch)).mappings().all()
    results = [_undo_one(svc, principal, migration_id, found, item) for item in items]
    with svc.uow() as uow:
        left = uow.conn.execute(select(_i.c.id).where(_i.c.migration_id == migration_id, _i.c.state == MIGRATED)
                                .limit(1)).first()
        if not left:
            uow.conn.execute(update(_m).where(_m.c.id == migration_id).values(state="undone",
                                                                              updated_at=svc.clock()))
        uow.commit()
    with svc.uow(write=False) as uow:
        return {**_migration(uow.conn, migration_id), "results": results, "left": bool(left)}


def _undo_one(svc: Services, principal: Principal, migration_id: int, found: dict, item) -> dict:
    now = svc.clock()
    out = {"case_id": item["case_id"]}
    with svc.uow() as uow:
        conn = uow.conn
        case = read_case(conn, item["case_id"])
        if case is None or case.version != item["after_case_version"]:
            problem = msg("el expediente avanzó después de la migración; no se deshace")
            # It stays migrated for the record, marked so that the next batch does not pick it up again.
            conn.execute(update(_i).where(_i.c.id == item["id"]).values(state=KEPT, problem=problem))
            uow.commit()
            return {**out, "state": KEPT, "problem": problem}
        current = load_case_workflow(svc, conn, case)
        now_snap = snapshot(svc.runtime, current)
        old_case = CaseRow(case.id, case.version, case.state, case.process_key, item["before_version_id"],
                           item["before_workflow_json"])
        old_wf = load_case_workflow(svc, conn, old_case)
        old_snap = snapshot(svc.runtime, old_wf)
        revived = revive(conn, case.id, old_snap, now)
        # The rows brought back count as present before the projection: it inserts only what never had a row.
        before = Snapshot(now_snap.tasks + revived.tasks, {**now_snap.timers, **revived.timers},
                          {**now_snap.waits, **revived.waits}, [], old_snap.marks, now_snap.legal)
        after = Snapshot(old_snap.tasks, old_snap.timers, old_snap.waits, [], old_snap.marks, old_snap.legal)
        version = bump_case(conn, case.id, case.version, {
            "workflow_json": item["before_workflow_json"], "process_version_id": item["before_version_id"],
            "updated_at": now})
        project(conn, case.id, case.process_key, before, after, now, deadlines=svc.deadlines,
                actor=principal.username)
        redescribe(conn, case.id, case.process_key, now_snap, old_snap)  # a swap kept the ids: rows say v1 again
        append_events(conn, [event_row(case.id, now, "case_migration_undone", actor=principal.username, data={
            "migration_id": migration_id, "from_version": found["to_version"], "to_version": found["from_version"],
            "restored": [t.element_id for t in old_snap.tasks]})])
        conn.execute(update(_i).where(_i.c.id == item["id"]).values(state=UNDONE, done_at=now))
        _count(conn, migration_id, now, undone=1, migrated=-1)
        uow.commit()
    return {**out, "state": UNDONE, "problem": None, "version": version}
