"""Processes: the deployed ones, their versions and diagrams; checking and deploying files."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, func, select

from engine.accounts.permissions import Principal, use_case
from engine.language.diff import diff_xml
from engine.errors import Problem, ProcessNotFound, SpecInvalid
from engine.language.specs import parse_bundle
from engine.messages import msg
from engine.storage import models
from engine.usecases import deploy
from engine.usecases.cases import OPEN_STATES
from engine.usecases.office_rules import bundle_rules

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_c = models.cases
_v = models.process_versions


@use_case("process.read")
def list_processes(svc: Services, principal: Principal) -> list[dict]:
    """Each deployed process with its latest version and the number of its open cases."""
    latest = select(_v.c.process_key, func.max(_v.c.version).label("version")).group_by(_v.c.process_key).subquery()
    open_cases = (select(func.count()).where(_c.c.process_key == _v.c.process_key, _c.c.state.in_(OPEN_STATES))
                  .scalar_subquery())
    q = (select(_v.c.process_key, _v.c.name, _v.c.version.label("latest_version"), _v.c.id.label("latest_version_id"),
                _v.c.created_at, open_cases.label("open_cases"))
         .join(latest, and_(latest.c.process_key == _v.c.process_key, latest.c.version == _v.c.version))
         .order_by(_v.c.process_key))
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(q).mappings()]


@use_case("process.read")
def process_versions(svc: Services, principal: Principal, process_key: str) -> list[dict]:
    """Every version of a process with its open cases; ProcessNotFound if it was never deployed."""
    versions = deploy.list_versions(svc, process_key)
    if not versions:
        raise ProcessNotFound(msg("No hay ningún procedimiento «%(process_key)s» publicado.", process_key=process_key),
                              process_key=process_key)
    return versions


@use_case("process.validate")
def validate_bundle(svc: Services, principal: Principal, files: dict[str, bytes]) -> dict:
    """Parse and lint files as one bundle without deploying; report every problem found, as a deploy would: the office
    rules' too, and each file's own problems when the bundle is refused."""
    try:
        bundle = parse_bundle(files)
    except SpecInvalid as exc:  # a refused bundle is an answer here, not an error
        return problem_report(deploy.file_by_file(files, list(exc.problems)))
    return problem_report(list(dict.fromkeys(list(bundle.warnings) + bundle_rules(svc, bundle.files))))


def problem_report(problems: list[Problem]) -> dict:
    """Whether a bundle or draft may be published (no errors), with its problems as dicts."""
    return {"valid": not any(p.severity == "error" for p in problems), "problems": [p.to_dict() for p in problems]}


@use_case("process.deploy")
def deploy_bundle(svc: Services, principal: Principal, files: dict[str, bytes], comment: str = "",
                  lanes: dict[str, dict] | None = None) -> list:
    """Deploy files as one bundle in the principal's name: a new version for each process whose content changed.

    The office's rules apply as in the modeler; `lanes` (a lanes.json table deployed with the files) counts as mapped.
    """
    return deploy.deploy_files(svc, files, actor=principal.username, comment=comment, office=True, lanes=lanes)


@use_case("process.read")
def process_diagram(svc: Services, principal: Principal, process_key: str, number: int) -> str:
    """The BPMN XML of a process's version `number`, as deployed."""
    return deploy.version_diagram(svc, version_id(svc, process_key, number))


def version_id(svc: Services, process_key: str, number: int) -> int:
    """The id of a process's version `number`."""
    with svc.uow(write=False) as uow:
        vid = uow.conn.execute(select(_v.c.id).where(_v.c.process_key == process_key, _v.c.version == number)).scalar()
    if vid is None:
        raise ProcessNotFound(msg("El procedimiento «%(process_key)s» no tiene versión %(number)s.",
                                  process_key=process_key, number=number), process_key=process_key)
    return vid


@use_case("process.read")
def diff_versions(svc: Services, principal: Principal, process_key: str, old: int, new: int) -> dict:
    """The differences between two versions (by number) of one process's own diagram."""
    xml = [deploy.version_diagram(svc, version_id(svc, process_key, n)) for n in (old, new)]
    return {"process_key": process_key, "old": old, "new": new, **diff_xml(*xml)}
