"""Processes: the deployed ones, their versions, and checking files without deploying."""
from __future__ import annotations

from sqlalchemy import and_, func, select

from engine.language.diff import diff_xml
from engine.errors import Problem, ProcessNotFound, SpecInvalid
from engine.language.specs import parse_bundle
from engine.messages import msg
from engine.services import Services
from engine.storage import models
from engine.usecases import deploy
from engine.usecases.cases import OPEN_STATES

_c = models.cases
_v = models.process_versions

def list_processes(svc: Services) -> list[dict]:
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




def process_versions(svc: Services, process_key: str) -> list[dict]:
    """Every version of a process with its open cases; ProcessNotFound if it was never deployed."""
    versions = deploy.list_versions(svc, process_key)
    if not versions:
        raise ProcessNotFound(msg("No hay ningún procedimiento «%(process_key)s» publicado.", process_key=process_key),
                              process_key=process_key)
    return versions




def validate_bundle(files: dict[str, bytes]) -> list[Problem]:
    """Parse and lint files as one bundle without deploying; return every problem found."""
    try:
        return list(parse_bundle(files).warnings)
    except SpecInvalid as exc:  # a refused bundle is an answer here, not an error
        return list(exc.problems)




def version_id(svc: Services, process_key: str, number: int) -> int:
    """The id of a process's version `number`."""
    with svc.uow(write=False) as uow:
        vid = uow.conn.execute(select(_v.c.id).where(_v.c.process_key == process_key, _v.c.version == number)).scalar()
    if vid is None:
        raise ProcessNotFound(msg("El procedimiento «%(process_key)s» no tiene versión %(number)s.",
                                  process_key=process_key, number=number), process_key=process_key)
    return vid


def diff_versions(svc: Services, process_key: str, old: int, new: int) -> dict:
    """The differences between two versions (by number) of one process's own diagram."""
    xml = [deploy.version_diagram(svc, version_id(svc, process_key, n)) for n in (old, new)]
    return {"process_key": process_key, "old": old, "new": new, **diff_xml(*xml)}
