"""Every permission decision: which role may do what, and which cases and tasks a user may see."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from sqlalchemy import exists, select

from engine.storage import models
from engine.errors import CaseNotFound, ExpedienteError, Forbidden, InvalidInput, TaskNotFound

CLERK, SUPERVISOR, AUDITOR, ADMIN = "clerk", "supervisor", "auditor", "admin"
EVERYONE = frozenset({CLERK, SUPERVISOR, AUDITOR, ADMIN})
WORKERS = frozenset({CLERK, SUPERVISOR, ADMIN})
MANAGERS = frozenset({SUPERVISOR, ADMIN})
# Roles that see every case and task; a clerk sees only those of his groups (see case_filter).
SEE_ALL = frozenset({SUPERVISOR, AUDITOR, ADMIN})

# Action -> roles allowed. The auditor reads everything and changes nothing, so he appears only on
# reads (and on his own credentials: an auditor's token reads, because it carries his role).
RULES: dict[str, frozenset[str]] = {
    "process.read": EVERYONE,
    "process.validate": MANAGERS,
    "process.deploy": MANAGERS,
    "process.draft": MANAGERS,        # read, save and discard drafts of diagrams
    "case.read": EVERYONE,
    "case.start": WORKERS,
    "case.manage": MANAGERS,          # suspend, resume, cancel, retry
    "case.migrate": MANAGERS,         # move running cases to another version (engine/usecases/case_migration*.py)
    "task.read": EVERYONE,
    "task.work": WORKERS,             # claim, release, save a draft, complete
    "task.assign": MANAGERS,          # assign to someone, release someone else's claim
    "attachment.read": EVERYONE,
    "attachment.add": WORKERS,
    "document.correct": MANAGERS,     # issue a new document that corrects an issued one (corrections.py)
    "user.read": frozenset({SUPERVISOR, AUDITOR, ADMIN}),  # supervisors pick whom to assign
    "user.manage": frozenset({ADMIN}),
    "closure.read": EVERYONE,
    "closure.manage": frozenset({ADMIN}),
    # The auditor's desk (engine/audit, engine/usecases/audit*.py): search the history across cases, read a case's
    # full record, export it with its proofs, ask for a signed checkpoint. Every view and export is logged.
    "audit.read": frozenset({AUDITOR, ADMIN}),
    "audit.export": frozenset({AUDITOR, ADMIN}),
    "audit.checkpoint": frozenset({AUDITOR, ADMIN}),
    "admin_log.read": frozenset({AUDITOR, ADMIN}),  # the administration log (engine/usecases/admin_log.py)
    # Messages into waiting cases (engine/usecases/messaging.py): who may post one or broadcast a signal, and who
    # sees the undeliverable ones and retries or discards them.
    "message.send": MANAGERS,
    "message.manage": MANAGERS,
    # Institutions answer by link (engine/usecases/institutions.py): records, not accounts.
    "institution.read": EVERYONE,
    "institution.manage": frozenset({ADMIN}),
    # The reports (engine/usecases/reports*.py): counts, cycle times, deadlines and workload over a period.
    "report.read": frozenset({SUPERVISOR, AUDITOR, ADMIN}),
    "session.read": EVERYONE,
    "token.own": EVERYONE,
}


class NotAuthenticated(ExpedienteError):
    """No valid session or token came with the request."""

    code = "not_authenticated"


class NotAssignable(InvalidInput):
    """The chosen person could not work the task (wrong role or group)."""

    code = "not_assignable"


@dataclass(frozen=True)
class Principal:
    """Who is asking: enough to decide any permission without another query."""

    user_id: int
    username: str
    role: str
    groups: tuple[str, ...] = ()
    display_name: str = ""


def allowed(principal: Principal | None, action: str) -> bool:
    """Whether the principal's role may perform `action` (unknown actions are refused)."""
    return principal is not None and principal.role in RULES.get(action, frozenset())


def require(principal: Principal | None, action: str) -> Principal:
    """Return the principal if he may perform `action`; raise NotAuthenticated or Forbidden."""
    if principal is None:
        raise NotAuthenticated("Inicie sesión o envíe un token de acceso.")
    if not allowed(principal, action):
        raise Forbidden("Su rol no permite esta acción.", action=action, role=principal.role)
    return principal


def use_case(action: str):
    """Mark a use case with the action of RULES it performs and refuse callers whose role may not."""
    if action not in RULES:
        raise ValueError(f"unknown action {action!r}")

    def wrap(fn):
        @wraps(fn)
        def checked(svc, principal, *args, **kwargs):
            require(principal, action)
            return fn(svc, principal, *args, **kwargs)
        checked.action = action
        return checked
    return wrap


def sees_everything(principal: Principal) -> bool:
    return principal.role in SEE_ALL


def case_filter(principal: Principal):
    """SQL condition on `cases` for the cases the principal may see (None: all of them)."""
    if sees_everything(principal):
        return None
    # A clerk's cases: those he filed, and those with a task (open or done) for his groups or held or done by him,
    # as case_access records them (kept by triggers on tasks and cases, migration 0016_inbox_scale): one indexed
    # probe per case instead of a look through its tasks.
    a, c = models.case_access, models.cases
    reach = [f"g:{g}" for g in principal.groups] + [f"u:{principal.username}"]
    return exists(select(a.c.case_id).where(a.c.case_id == c.c.id, a.c.who.in_(reach)))


def can_see_case(principal: Principal, case: dict, case_tasks: list[dict]) -> bool:
    """The row-level twin of case_filter, for a case read with all its task rows."""
    return (sees_everything(principal) or case.get("created_by") == principal.username
            or any(can_see_task(principal, t) for t in case_tasks))


def can_see_task(principal: Principal, task: dict) -> bool:
    """Whether the principal may see a task row: his groups' tasks, and those he holds or did."""
    return (sees_everything(principal) or task.get("candidate_group") in principal.groups
            or principal.username in (task.get("assignee"), task.get("completed_by")))


def may_work_task(principal: Principal, task: dict) -> bool:
    """Whether the principal could take and complete the task row now: a ready task within his reach that nobody
    else holds, and a role that works tasks."""
    return (allowed(principal, "task.work") and task.get("state") == "ready" and can_see_task(principal, task)
            and task.get("assignee") in (None, principal.username))


def check_case_visible(conn, principal: Principal, case_id: int) -> None:
    """Raise CaseNotFound unless the case exists and the principal may see it (in the caller's unit of work)."""
    q = select(models.cases.c.id).where(models.cases.c.id == case_id)
    visible = case_filter(principal)
    if visible is not None:
        q = q.where(visible)
    if conn.execute(q).first() is None:
        raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)


def check_task_visible(principal: Principal, task: dict) -> dict:
    """Return the task, or raise TaskNotFound as if it did not exist (a clerk outside its group)."""
    if not can_see_task(principal, task):
        raise TaskNotFound(f"task {task['id']} does not exist", task_id=task["id"])
    return task


def may_release_for_others(principal: Principal) -> bool:
    """Supervisors give back a task someone else holds; everyone else only his own."""
    return allowed(principal, "task.assign")


def check_assignee(target: Principal | None, task: dict) -> None:
    """A task may go only to an active account that could work it himself."""
    if target is None:
        raise NotAssignable("No existe un usuario activo con ese nombre.",
                            errors=[{"field": "username", "message": "no existe o está desactivado"}])
    if not allowed(target, "task.work"):
        raise NotAssignable(f"{target.username} ({target.role}) no puede trabajar tareas.",
                            errors=[{"field": "username", "message": "rol sin permiso para trabajar tareas"}])
    if not can_see_task(target, task):
        raise NotAssignable(f"{target.username} no pertenece al grupo {task.get('candidate_group')}.",
                            errors=[{"field": "username", "message": "no pertenece al grupo de la tarea"}])


def supervised_groups(principal: Principal) -> tuple[str, ...] | None:
    """Groups whose work the principal oversees (/supervision): a supervisor his own groups, an administrator all
    of them (None). Supervisors still read any case or task; the view of the work is scoped to their groups."""
    return None if principal.role == ADMIN else tuple(principal.groups)


def queue_groups(principal: Principal, group: str | None) -> list[str] | None:
    """Groups whose queue the principal reads: his own, or any one group if he sees everything."""
    if group is None:
        return list(principal.groups)
    if group in principal.groups or sees_everything(principal):
        return [group]
    raise Forbidden(f"No pertenece al grupo {group}.", group=group)
