"""Migrating running cases to another version of their procedure: choose the cases, map their waiting elements, and
a dry run per case (issue 20). Applying the plan in batches and undoing it: engine/usecases/case_migration_apply.py.

The migration of one workflow is engine/runtime/migration.py (a move: rebuilt at its one position) or, when a move
cannot, engine/runtime/spec_swap.py (a swap: its live tree kept on the new version's spec); what each can and cannot
do, and why, is said there. Here: who may
(case.migrate: supervisors and administrators), which cases (`FILTERS`: a version of the procedure, running or
suspended, where they wait, municipality, filed before or after, explicit ids), the mapping (automatic by id where the
new version has the element with the same kind, by hand otherwise), and the plan: a `case_migrations` row with one
`case_migration_items` row per case, planned (with its dry run: the tasks that close and open, the data kept, the
fields the new version's forms no longer have, the new tasks' due dates) or refused (with the problem). Nothing of a
case changes until the plan is applied; the case version each dry run saw is kept, so a case that changes meanwhile
is skipped at apply time.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import func, insert, select

from engine.accounts.permissions import Principal, use_case
from engine.errors import InvalidInput, NotFound
from engine.messages import msg
from engine.runtime import migration, moves, spec_swap
from engine.runtime.runner import current_data, ready_human_tasks
from engine.runtime.steps import StepContext, stepping
from engine.storage import legal_rows, models
from engine.storage.persistence import Snapshot, load_case_workflow, read_case, snapshot
from engine.usecases.cases import case_number

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

MIGRATABLE_STATES = ("running", "suspended")
MAX_PLAN_CASES = 5000
MAX_IDS = 5000
PLAN_CHUNK = 100  # cases dry-run per (read) transaction
FILTERS = ("states", "element", "municipality", "created_after", "created_before", "case_ids")
_c, _v = models.cases, models.process_versions
_m, _i = models.case_migrations, models.case_migration_items


def _bad(field: str, message: str, detail: str | None = None) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": detail or message}])


def _version(conn, version_id, field: str):
    if not isinstance(version_id, int) or isinstance(version_id, bool):
        raise _bad(field, msg("elija la versión"), "a process version id")
    row = conn.execute(select(_v.c.id, _v.c.process_key, _v.c.version, _v.c.forms_json)
                       .where(_v.c.id == version_id)).first()
    if row is None:
        raise _bad(field, msg("la versión %(version)s no existe", version=version_id), "no such process version")
    return row


def _versions(conn, from_version_id, to_version_id):
    old, new = _version(conn, from_version_id, "from_version_id"), _version(conn, to_version_id, "to_version_id")
    if old.process_key != new.process_key:
        raise _bad("to_version_id", msg("la versión de destino es de otro procedimiento"),
                   "a version of the same process")
    if old.id == new.id:
        raise _bad("to_version_id", msg("elija una versión distinta de la de origen"), "another version")
    return old, new


@use_case("case.migrate")
def migration_choices(svc: Services, principal: Principal, from_version_id: int, to_version_id: int) -> dict:
    """What the mapping table shows: the old version's elements a case may wait at (with how many running or
    suspended cases wait there... counted from their open tasks) and the automatic target of each, and the new
    version's elements a case may be moved to."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        old, new = _versions(conn, from_version_id, to_version_id)
        old_spec, _ = svc.specs.get(conn, old.id)
        new_spec, new_subs = svc.specs.get(conn, new.id)
        old_elements, new_elements = migration.elements(old_spec), migration.elements(new_spec)
        # A move's targets, then the elements a swap may map a waiting element to (a receive task, a catch...).
        targets = {t.element_id: t for t in moves.move_targets(new_spec)}
        targets.update({k: e for k, e in new_elements.items() if k not in targets})
        auto = migration.auto_mapping(old_elements, new_elements)
        cases = conn.execute(select(func.count()).where(_c.c.process_version_id == old.id,
                                                        _c.c.state.in_(MIGRATABLE_STATES))).scalar()
    return {"process_key": old.process_key, "from_version": old.version, "to_version": new.version,
            "from_version_id": old.id, "to_version_id": new.id, "cases": cases,
            "old_elements": [{"element_id": e.element_id, "name": e.name, "kind": e.kind, "auto": auto.get(key)}
                             for key, e in old_elements.items()],
            "new_elements": [{"element_id": t.element_id, "name": t.name, "kind": t.kind} for t in targets.values()]}


def check_mapping(mapping) -> dict[str, str]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) and len(k) <= 200
                                                and len(v) <= 200 for k, v in mapping.items()):
        raise _bad("mapping", msg("la correspondencia de pasos no es válida"), "an object {old element: new element}")
    return {k: v for k, v in mapping.items() if v.strip()}


def _moment(filters: dict, key: str) -> datetime | None:
    value = filters.get(key)
    if value in (None, ""):
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise _bad(f"filters.{key}", msg("la fecha «%(value)s» no es válida", value=str(value)[:40]),
                   "an ISO 8601 date or moment") from None
    if moment.tzinfo is None:
        from engine.usecases.cases import OFFICE_TZ
        moment = moment.replace(tzinfo=OFFICE_TZ)
    return moment


def check_filters(filters) -> dict:
    """The filters as stored with the migration (JSON), checked; InvalidInput names a bad one."""
    filters = dict(filters or {})
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise _bad(f"filters.{unknown[0]}", msg("filtro desconocido: %(name)s", name=unknown[0][:40]), "unknown filter")
    states = filters.get("states") or list(MIGRATABLE_STATES)
    if not isinstance(states, list) or not states or any(s not in MIGRATABLE_STATES for s in states):
        raise _bad("filters.states", msg("solo se migran expedientes en trámite o suspendidos"),
                   "a list of: running, suspended")
    ids = filters.get("case_ids") or []
    if not isinstance(ids, list) or len(ids) > MAX_IDS or any(
            not isinstance(i, int) or isinstance(i, bool) for i in ids):
        raise _bad("filters.case_ids", msg("la lista de expedientes no es válida"), "a list of case ids")
    for key in ("element", "municipality"):
        if filters.get(key) is not None and (not isinstance(filters[key], str) or len(filters[key]) > 200):
            raise _bad(f"filters.{key}", msg("el filtro «%(name)s» no es válido", name=key), "a text")
    out = {"states": sorted(set(states)), "case_ids": sorted(set(ids))}
    for key in ("element", "municipality"):
        if (filters.get(key) or "").strip():
            out[key] = filters[key].strip()
    for key in ("created_after", "created_before"):
        moment = _moment(filters, key)
        if moment is not None:
            out[key] = moment.isoformat()
    return out


def chosen_cases(conn, version_id: int, filters: dict) -> list[int]:
    """Ids of the cases on the version that the filters choose (the element filter is applied per case later)."""
    q = select(_c.c.id).where(_c.c.process_version_id == version_id, _c.c.state.in_(filters["states"]))
    if filters.get("municipality"):
        q = q.where(_c.c.municipality == filters["municipality"])
    if filters.get("created_after"):
        q = q.where(_c.c.created_at >= datetime.fromisoformat(filters["created_after"]))
    if filters.get("created_before"):
        q = q.where(_c.c.created_at < datetime.fromisoformat(filters["created_before"]))
    if filters.get("case_ids"):
        q = q.where(_c.c.id.in_(filters["case_ids"]))
    ids = list(conn.execute(q.order_by(_c.c.id).limit(MAX_PLAN_CASES + 1)).scalars())
    if len(ids) > MAX_PLAN_CASES:
        raise _bad("filters", msg("los filtros eligen más de %(limit)s expedientes; acótelos", limit=MAX_PLAN_CASES),
                   f"at most {MAX_PLAN_CASES} cases per migration")
    return ids


def form_fields(forms_json: str | None) -> set[str] | None:
    """The top-level fields of a version's forms (None when the version kept no forms)."""
    if forms_json is None:
        return None
    return {name for schema in orjson.loads(forms_json).values() for name in (schema.get("properties") or {})}


class Versions:
    """The two versions of a migration with their specs and form fields, read once per plan or batch."""

    def __init__(self, svc: Services, conn, old, new):
        self.old, self.new = old, new
        self.new_spec, self.new_subs = svc.specs.get(conn, new.id)
        self.old_fields, self.new_fields = form_fields(old.forms_json), form_fields(new.forms_json)


def trial(svc: Services, conn, case, versions: Versions, mapping: dict[str, str], actor: str | None,
          element: str | None = None):
    """The case migrated in memory: (plan dict, workflow before, snapshot before, new workflow, snapshot after),
    the new workflow None when refused (the plan then says why in `problem`). With `element`, a case that does not
    wait there gives None. The plan's `way` says how: "move" (rebuilt at its one position, engine/runtime/migration.py)
    or, when a move cannot, "swap" (its live tree kept on the new version's spec, engine/runtime/spec_swap.py)."""
    wf = load_case_workflow(svc, conn, case)
    positions = migration.waiting_elements(wf)
    ready = {t.element_id for t in ready_human_tasks(wf)}
    if element and element not in {p.element_id for p in positions} | ready:
        return None
    base = {"case_id": case.id, "number": case_number(conn, case.id), "version": case.version, "state": case.state,
            "positions": [p.element_id for p in positions]}
    problem = migration.plan_problem(positions, mapping, versions.new_spec, versions.new_subs)
    if problem is not None and not positions:
        return {**base, "way": None, "target": None, "problem": problem}, wf, None, None, None
    way = "move" if problem is None else "swap"
    target = mapping[positions[0].element_id] if way == "move" else None
    base.update(way=way, target=target, mapping={p.element_id: mapping.get(p.element_id, p.element_id)
                                                 for p in positions})
    before = snapshot(svc.runtime, wf)
    now = svc.clock()
    with stepping(StepContext(svc, conn, case.id, base["number"], case.process_key, now, actor)):
        if way == "move":
            new_wf, failure = migration.migrate(svc.runtime, wf, versions.new_spec, versions.new_subs, target)
        else:
            new_wf, failure, problem = _swap(svc, case, wf, versions, mapping)
    if problem is not None:
        return {**base, "problem": problem}, wf, before, None, None
    if failure is not None:
        problem = msg("al llevar el expediente a «%(element)s» el paso «%(failed)s» falló: %(reason)s",
                      element=target or ", ".join(base["positions"]), failed=failure.element_id or target,
                      reason=failure.message)
        return {**base, "problem": problem}, wf, before, None, None
    after = snapshot(svc.runtime, new_wf)
    data = current_data(new_wf)
    dropped = []
    if versions.old_fields is not None and versions.new_fields is not None:
        dropped = sorted((set(data) & versions.old_fields) - versions.new_fields)
    opened = changes(new_wf, before, after)
    kept = {t["element_id"] for t in opened["keep"] if t["what"] == "task"}
    plans = svc.deadlines.plan(after.tasks, now) if svc.deadlines is not None else {}
    legal_due = legal_rows.staff_due(conn, case.id) if after.legal else None
    kept_due = _kept_due(conn, case.id, [t.id for t in after.tasks if t.element_id in kept])
    due = {element: moment.isoformat() for element, moment in after.timers.values()}
    for task in after.tasks:
        moments = [m for m in (kept_due.get(task.id) if task.id in kept_due else
                               plans[task.id].due_at if task.id in plans else None, legal_due) if m is not None]
        due[task.element_id] = min(moments).isoformat() if moments else None
    return ({**base, "problem": None, **opened, "data_kept": len(data),
             "fields_not_in_forms": dropped, "due": due}, wf, before, new_wf, after)


def _swap(svc: Services, case, wf, versions: Versions, mapping: dict[str, str]):
    """(workflow, failure, problem) of the case swapped onto the new version and run as a step runs it."""
    try:
        new_wf = spec_swap.swap(svc.runtime, case.workflow_json, wf, versions.new_spec, versions.new_subs, mapping)
    except spec_swap.Refused as exc:
        return None, None, exc.message
    failure = spec_swap.run(svc.runtime, new_wf)
    if failure is not None:
        return None, failure, None
    return new_wf, None, spec_swap.round_trip_problem(svc.runtime, new_wf, versions.new_spec, versions.new_subs)


def _kept_due(conn, case_id: int, task_ids: list[str]) -> dict:
    """The due moments of the task rows a swap keeps (their time started before the migration)."""
    if not task_ids:
        return {}
    t = models.tasks
    return dict(conn.execute(select(t.c.id, t.c.due_at).where(t.c.case_id == case_id, t.c.id.in_(task_ids))).all())


def changes(wf, before: Snapshot, after: Snapshot) -> dict:
    """What closes (the old version's tasks, timers, waits), what opens (the new one's) and, for a swap, what keeps
    waiting (the same task at the same element), each as element_id, name and what it is."""
    names = moves.element_names(wf)

    def listed(snap: Snapshot) -> dict:
        out = {(t.id, t.element_id): {"element_id": t.element_id, "name": t.title, "what": "task"} for t in snap.tasks}
        out.update({(tid, e): {"element_id": e, "name": names.get(e, e), "what": "timer"}
                    for tid, (e, _due) in snap.timers.items()})
        out.update({(tid, w[0]): {"element_id": w[0], "name": names.get(w[0], w[0]), "what": "wait"}
                    for tid, w in snap.waits.items()})
        return out
    old, new = listed(before), listed(after)
    return {"close": [v for k, v in old.items() if k not in new], "open": [v for k, v in new.items() if k not in old],
            "keep": [v for k, v in new.items() if k in old]}


@use_case("case.migrate")
def plan_migration(svc: Services, principal: Principal, from_version_id: int, to_version_id: int,
                   mapping: dict | None = None, filters: dict | None = None) -> dict:
    """Choose the cases, run the dry run of each and keep the plan: the migration's id, counts and one row per case
    (planned with what would happen, or refused with the problem). `mapping` completes the automatic one."""
    filters = check_filters(filters)
    hand = check_mapping(mapping)
    with svc.uow(write=False) as uow:
        conn = uow.conn
        old, new = _versions(conn, from_version_id, to_version_id)
        versions = Versions(svc, conn, old, new)
        old_spec, _subs = svc.specs.get(conn, old.id)
        old_elements, new_elements = migration.elements(old_spec), migration.elements(versions.new_spec)
        for key, target in hand.items():
            if key not in old_elements:
                raise _bad(f"mapping.{key}", msg("la versión de origen no tiene el paso «%(element)s»",
                                                 element=key[:80]), "no such element in the old version")
            problem = moves.target_problem(versions.new_spec, versions.new_subs, target)
            same_kind = target in new_elements and new_elements[target].kind == old_elements[key].kind
            if problem is not None and not same_kind:  # neither a move's target nor a swap's (the same kind)
                raise _bad(f"mapping.{key}", problem)
        full = {**migration.auto_mapping(old_elements, new_elements), **hand}
        ids = chosen_cases(conn, old.id, filters)
    results = []
    # The dry runs read (a few cases per transaction, rolled back with whatever their steps wrote) and never hold the
    # write lock: the office keeps working while a large plan is made.
    for chunk in range(0, len(ids), PLAN_CHUNK):
        with svc.uow(write=False) as uow:
            for case_id in ids[chunk:chunk + PLAN_CHUNK]:
                case = read_case(uow.conn, case_id)
                found = trial(svc, uow.conn, case, versions, full, principal.username, filters.get("element"))
                if found is not None:
                    results.append(found[0])
    now = svc.clock()
    with svc.uow() as uow:
        conn = uow.conn
        migration_id = conn.execute(insert(_m).values(
            process_key=old.process_key, from_version_id=old.id, to_version_id=new.id,
            mapping_json=orjson.dumps(full).decode(), filters_json=orjson.dumps(filters).decode(),
            state="planned", created_by=principal.username, created_at=now, updated_at=now,
            planned=sum(1 for p in results if p["problem"] is None),
            refused=sum(1 for p in results if p["problem"] is not None),
            migrated=0, skipped=0, undone=0)).inserted_primary_key[0]
        rows = [{"migration_id": migration_id, "case_id": plan["case_id"],
                 "state": "planned" if plan["problem"] is None else "refused", "problem": plan["problem"],
                 "plan_json": orjson.dumps(plan, default=str).decode(), "planned_case_version": plan["version"]}
                for plan in results]
        if rows:
            conn.execute(insert(_i), rows)
        uow.commit()
    return {**read_migration_in(svc, migration_id), "cases": results}


def read_migration_in(svc: Services, migration_id: int) -> dict:
    with svc.uow(write=False) as uow:
        return _migration(uow.conn, migration_id)


def _migration(conn, migration_id: int) -> dict:
    row = conn.execute(select(_m).where(_m.c.id == migration_id)).mappings().first()
    if row is None:
        raise NotFound(msg("la migración %(id)s no existe", id=migration_id), migration_id=migration_id)
    versions = dict(conn.execute(select(_v.c.id, _v.c.version).where(_v.c.id.in_(
        [row["from_version_id"], row["to_version_id"]]))).all())
    out = {k: row[k] for k in ("id", "process_key", "from_version_id", "to_version_id", "state", "created_by",
                               "created_at", "updated_at", "planned", "migrated", "refused", "skipped", "undone")}
    return {**out, "from_version": versions[row["from_version_id"]], "to_version": versions[row["to_version_id"]],
            "mapping": orjson.loads(row["mapping_json"]), "filters": orjson.loads(row["filters_json"]),
            "remaining": conn.execute(select(func.count()).where(_i.c.migration_id == migration_id,
                                                                 _i.c.state == "planned")).scalar()}


@use_case("case.migrate")
def read_migration(svc: Services, principal: Principal, migration_id: int, *, item_state: str | None = None,
                   offset: int = 0, limit: int = 200) -> dict:
    """A migration with its counts and a page of its cases (each: state, problem, the dry run's plan)."""
    if not isinstance(limit, int) or not 1 <= limit <= 1000 or not isinstance(offset, int) or offset < 0:
        raise _bad("limit", msg("página no válida"), "limit 1 to 1000, offset 0 or more")
    with svc.uow(write=False) as uow:
        conn = uow.conn
        found = _migration(conn, migration_id)
        q = select(_i.c.case_id, _i.c.state, _i.c.problem, _i.c.plan_json, _i.c.done_at, _c.c.number).join(
            _c, _c.c.id == _i.c.case_id).where(_i.c.migration_id == migration_id)
        if item_state:
            q = q.where(_i.c.state == item_state)
        rows = conn.execute(q.order_by(_i.c.id).offset(offset).limit(limit)).mappings().all()
    items = [{"case_id": r["case_id"], "number": r["number"], "state": r["state"], "problem": r["problem"],
              "done_at": r["done_at"], "plan": orjson.loads(r["plan_json"]) if r["plan_json"] else None}
             for r in rows]
    return {**found, "items": items}


@use_case("case.migrate")
def list_migrations(svc: Services, principal: Principal, process_key: str | None = None) -> list[dict]:
    """The migrations, newest first (of one procedure when given)."""
    with svc.uow(write=False) as uow:
        q = select(_m.c.id)
        if process_key:
            q = q.where(_m.c.process_key == process_key)
        ids = list(uow.conn.execute(q.order_by(_m.c.id.desc()).limit(200)).scalars())
        return [_migration(uow.conn, i) for i in ids]


@use_case("case.migrate")
def migration_start(svc: Services, principal: Principal, process_key: str) -> dict:
    """The page that starts a migration: the procedure's versions (with their running and suspended cases) and its
    migrations, newest first."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        open_cases = (select(func.count()).where(_c.c.process_version_id == _v.c.id,
                                                 _c.c.state.in_(MIGRATABLE_STATES)).scalar_subquery())
        rows = conn.execute(select(_v.c.id, _v.c.version, _v.c.name, _v.c.created_at, _v.c.comment,
                                   open_cases.label("cases")).where(_v.c.process_key == process_key)
                            .order_by(_v.c.version)).mappings().all()
        if not rows:
            raise NotFound(msg("el procedimiento «%(key)s» no existe", key=process_key[:100]), process_key=process_key)
        ids = list(conn.execute(select(_m.c.id).where(_m.c.process_key == process_key).order_by(_m.c.id.desc())
                                .limit(50)).scalars())
        return {"process_key": process_key, "name": rows[-1]["name"], "versions": [dict(r) for r in rows],
                "migrations": [_migration(conn, i) for i in ids]}
