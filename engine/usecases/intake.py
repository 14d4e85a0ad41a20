"""Filing a case from a page: the procedures a clerk may file and their intake forms; names and task
instructions from the deployed specs."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, func, select

from engine.accounts.permissions import Principal, use_case
from engine.errors import CaseNotFound, ProcessNotFound
from engine.runtime.runner import instructions_of, start_form_key
from engine.storage import models
from engine.usecases.deploy import forms_of_version

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

# Shared sub-processes are called by procedures, never filed on their own.
SUBPROCESS_PREFIX = "comun_"
_v = models.process_versions
_c = models.cases
_LATEST = (select(_v.c.id, _v.c.name).where(_v.c.process_key == bindparam("b_key"))
           .order_by(_v.c.version.desc()).limit(1))
_NEWEST = select(_v.c.process_key, func.max(_v.c.version).label("version")).group_by(_v.c.process_key).subquery()
_NAMES = (select(_v.c.process_key, _v.c.name)
          .join(_NEWEST, and_(_NEWEST.c.process_key == _v.c.process_key, _NEWEST.c.version == _v.c.version))
          .order_by(_v.c.process_key))


def is_procedure(process_key: str) -> bool:
    """Whether a deployed process is a top-level procedure (not a shared sub-process)."""
    return not process_key.startswith(SUBPROCESS_PREFIX)


@use_case("case.start")
def procedures(svc: Services, principal: Principal) -> dict[str, str]:
    """The procedures the principal may file, their names by key (the new-case page)."""
    with svc.uow(write=False) as uow:
        return {k: v for k, v in process_names(uow.conn).items() if is_procedure(k)}


@use_case("case.start")
def intake_form(svc: Services, principal: Principal, process_key: str) -> dict:
    """A procedure's name and the intake form its latest version's start event names (schema None without one)."""
    with svc.uow(write=False) as uow:
        return latest_intake(svc, uow.conn, process_key)


def latest_intake(svc: Services, conn, process_key: str) -> dict:
    """Unchecked: a procedure's name and its latest version's intake form (key and JSON Schema, None without
    one), as deployed with that version; a sub-process or an undeployed key is ProcessNotFound."""
    row = conn.execute(_LATEST, {"b_key": process_key}).first() if is_procedure(process_key) else None
    if row is None:
        raise ProcessNotFound(f"no process '{process_key}' is deployed", process_key=process_key)
    spec, _subs = svc.specs.get(conn, row.id)
    forms = forms_of_version(svc, conn, row.id)
    form_key = start_form_key(spec)
    return {"process_key": process_key, "name": row.name or process_key, "form_key": form_key,
            "schema": forms.get(form_key) if form_key and forms is not None else None, "version_id": row.id}


def process_names(conn) -> dict[str, str]:
    """Every deployed process's name by key (its latest version's; the key when it has none)."""
    return {r.process_key: r.name or r.process_key for r in conn.execute(_NAMES)}


def process_name(conn, process_key: str) -> str:
    """One process's name (its latest version's; the key when it has none or is not deployed)."""
    row = conn.execute(_LATEST, {"b_key": process_key}).first()
    return (row.name if row else None) or process_key


def task_instructions(svc: Services, conn, case_id: int, element_id: str) -> str | None:
    """Unchecked: the documentation of a task's element in its case's process version (or its sub-processes),
    inside the unit of work of a use case that already checked the task's reach."""
    version_id = conn.execute(select(_c.c.process_version_id).where(_c.c.id == case_id)).scalar()
    if version_id is None:
        raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)
    spec, subs = svc.specs.get(conn, version_id)
    for process in (spec, *(subs or {}).values()):
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == element_id:
                return instructions_of(task_spec)
    return None
