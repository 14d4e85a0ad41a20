"""What the pages need from deployed specs: procedures a clerk may file, their intake forms, task instructions."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from engine.storage import models
from engine.errors import CaseNotFound, ProcessNotFound
from engine.runtime.runner import instructions_of, start_form_key
from engine.services import Services

# Shared sub-processes are called by procedures, never filed on their own.
SUBPROCESS_PREFIX = "comun_"
_v = models.process_versions
_c = models.cases
_LATEST = (select(_v.c.id).where(_v.c.process_key == bindparam("b_key")).order_by(_v.c.version.desc()).limit(1))


def is_procedure(process_key: str) -> bool:
    """Whether a deployed process is a top-level procedure (not a shared sub-process)."""
    return not process_key.startswith(SUBPROCESS_PREFIX)


def intake_form(svc: Services, process_key: str) -> str | None:
    """The form key the latest version's start event names (None when it has none)."""
    with svc.uow(write=False) as uow:
        version_id = uow.conn.execute(_LATEST, {"b_key": process_key}).scalar()
        if version_id is None:
            raise ProcessNotFound(f"no process '{process_key}' is deployed", process_key=process_key)
        spec, _subs = svc.specs.get(uow.conn, version_id)
    return start_form_key(spec)


def task_instructions(svc: Services, case_id: int, element_id: str) -> str | None:
    """The documentation of a task's element in its case's process version (or its sub-processes)."""
    with svc.uow(write=False) as uow:
        version_id = uow.conn.execute(select(_c.c.process_version_id).where(_c.c.id == case_id)).scalar()
        if version_id is None:
            raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)
        spec, subs = svc.specs.get(uow.conn, version_id)
    for process in (spec, *(subs or {}).values()):
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == element_id:
                return instructions_of(task_spec)
    return None
