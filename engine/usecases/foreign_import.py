"""Importing a diagram from another modeling tool into a draft: the guided fixes it needs (engine/language/
import_fixes.py), with the office's own choices (its forms; which group works each lane), and the XML with the
fixes the supervisor chose applied. The office rules still judge the result on save and publish (drafts.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from engine.accounts.permissions import Principal, use_case
from engine.errors import InvalidInput
from engine.language import import_fixes
from engine.language.specs import MAX_DOCUMENT_BYTES
from engine.messages import msg
from engine.storage import models
from engine.usecases.drafts import validate_key

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

MAX_FIXES = 2000


def office_choices(svc: Services, process_key: str) -> import_fixes.OfficeChoices:
    """The office's forms, and for each group the lane name it works in this procedure (or in every one)."""
    lg, g = models.lane_groups, models.groups
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(select(lg.c.process_key, lg.c.lane, g.c.name, g.c.description)
                                .join(g, g.c.id == lg.c.group_id)
                                .where(or_(lg.c.process_key == process_key, lg.c.process_key == "*"))
                                .order_by(lg.c.process_key.desc(), lg.c.lane)).all()
    group_lanes: dict[str, str] = {}
    for row in rows:  # the procedure's own row first ('*' sorts after letters in descending order)
        label = f"{row.description} ({row.name})" if row.description else row.name
        group_lanes.setdefault(label, row.lane)
    forms = sorted(svc.forms.keys()) if svc.forms is not None else []
    return import_fixes.OfficeChoices(forms=forms, group_lanes=group_lanes, mapped_lanes={r.lane for r in rows})


def _check_xml(xml) -> str:
    if not isinstance(xml, str) or not xml.strip():
        raise InvalidInput(msg("Falta el diagrama."), errors=[{"field": "xml", "message": "required"}])
    if len(xml.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(msg("El diagrama es demasiado grande (máximo 2 MiB)."),
                           errors=[{"field": "xml", "message": "más de 2 MiB"}])
    return xml


@use_case("process.draft")
def import_fixes_for(svc: Services, principal: Principal, process_key: str, xml: str) -> dict:
    """The guided fixes a diagram (as the modeler has it, not yet saved) needs to run as this procedure."""
    validate_key(process_key)
    fixes = import_fixes.analyse(_check_xml(xml), process_key, office_choices(svc, process_key))
    return {"process_key": process_key, "fixes": fixes}


@use_case("process.draft")
def apply_import_fixes(svc: Services, principal: Principal, process_key: str, xml: str, fixes: list) -> dict:
    """The diagram with the chosen fixes applied, and the fixes it still needs. Nothing is saved: the modeler
    loads the result and saves it as the draft (its problems then come from the office rules)."""
    validate_key(process_key)
    if not isinstance(fixes, list) or not fixes or len(fixes) > MAX_FIXES:
        raise InvalidInput(msg("Elija al menos un arreglo."), errors=[{"field": "fixes", "message": "1.."
                                                                      + str(MAX_FIXES)}])
    office = office_choices(svc, process_key)
    fixed = import_fixes.apply_fixes(_check_xml(xml), process_key, fixes, office).decode("utf-8")
    return {"process_key": process_key, "xml": fixed, "fixes": import_fixes.analyse(fixed, process_key, office)}
