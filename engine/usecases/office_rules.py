"""The office's own rules for a diagram, on every way a diagram is published: the modeler's publish (drafts.py), and
the CLI's and the API's deploys (deploy.py). SpiffWorkflow and lint accept a diagram these rules refuse: a task
nobody attends, a lane no group works, a form or deadline that does not exist.

Diagrams exported by other modelers meet them first: their plain `bpmn:task`s would complete at once without
anybody seeing them, and their user tasks have no lane or form of ours.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import or_, select

from engine.documents.rules import document_problems
from engine.errors import Problem, SpecInvalid
from engine.language.naming import describe_parts, tidy
from engine.language.specs import elements_of
from engine.messages import msg
from engine.storage import models
from engine.timekeeping import legal_deadlines as legal_catalogue
from engine.timekeeping.deadlines import DEADLINE_PROPERTY

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

FORM_PROPERTY = "form"


def _named(element_id: str, el: dict, form: str = "The") -> str:
    return describe_parts(el["type"], el["name"], element_id, form)


def office_rules(svc: Services, file: str, elements: dict[str, dict], process_keys: Iterable[str],
                 pending_lanes: frozenset[str] = frozenset(), strict: bool = True) -> list[Problem]:
    """The office's problems with one BPMN file's elements (as engine.language.specs.elements_of gives them).

    `process_keys` are the procedures whose lane mapping counts; `pending_lanes` are lanes mapped by the lanes.json
    deployed with the file. `strict` False (a deploy from the command line or the API) makes a user task without a
    form and a lane no group works yet warnings: the task runs without a form, and an administrator can map the lane
    after the deploy; the modeler refuses both. A user task without a lane, and a plain task nobody attends, are
    refused on every path.
    """
    problems = []
    # The configured forms, as tasks validate them; services without forms accept any form key (and any data).
    forms = set(svc.forms.keys()) if svc.forms is not None else None
    mapped = mapped_lanes(svc, process_keys) | set(pending_lanes)
    plazos = svc.settings.plazos or {}
    severity = "error" if strict else "warning"
    for element_id, el in elements.items():
        form = el["values"].get(f"property:{FORM_PROPERTY}")
        deadline = str(el["values"].get(f"property:{DEADLINE_PROPERTY}") or "").strip()
        of = _named(element_id, el, "of")
        if el["type"] == "task":
            problems.append(Problem(file, msg("%(task)s es una tarea sin tipo: nadie la atendería (el motor la da "
                                              "por hecha en cuanto llega el expediente); conviértala en tarea de "
                                              "usuario o manual y asígnele un carril y un formulario.",
                                              task=_named(element_id, el)), element_id))
        if deadline and not (deadline.isdigit() and int(deadline) > 0) and deadline not in plazos:
            # The engine would give the task no deadline at all (deadlines.DeadlinePlanner.working_days).
            problems.append(Problem(file, msg("El plazo «%(deadline)s» %(element)s no es un número de días "
                                              "hábiles ni un plazo configurado (uno de: %(plazos)s).",
                                              deadline=deadline, element=of, plazos=", ".join(sorted(plazos))),
                                    element_id))
        legal = str(el["values"].get(f"property:{legal_catalogue.PROPERTY}") or "").strip()
        if legal:
            try:
                legal_catalogue.parse_actions(legal)
            except ValueError:
                # The engine would ignore the property: the legal deadline would never open or close.
                problems.append(Problem(file, msg(
                    "El plazo legal «%(value)s» %(element)s no es válido: use acciones «abre», «prorroga», "
                    "«aviso» o «cierra» seguidas de dos puntos y un plazo del catálogo (uno de: %(keys)s), "
                    "separadas por comas.", value=legal, element=of,
                    keys=", ".join(sorted(legal_catalogue.CATALOGUE))), element_id))
        if el["type"] == "userTask":
            if not el["lane"]:
                problems.append(Problem(file, msg("%(task)s no está en ningún carril: colóquela en el carril del "
                                                  "grupo que la atiende.", task=_named(element_id, el)), element_id))
            elif el["lane"] not in mapped:
                problems.append(Problem(file, msg("El carril «%(lane)s» de %(task)s no está asignado a ningún grupo: "
                                                  "pida a un administrador que lo asigne.", lane=el["lane"],
                                                  task=_named(element_id, el, "the")), element_id,
                                        severity=severity))
            if not form:
                problems.append(Problem(file, msg("%(task)s no tiene formulario: elija el formulario que llena quien "
                                                  "atiende la tarea (propiedad «form»).",
                                                  task=_named(element_id, el)), element_id,
                                        severity=severity))
        if form and forms is not None and form not in forms:
            problems.append(Problem(file, msg("El formulario «%(form)s» %(element)s no existe en forms/.",
                                              form=form, element=of), element_id))
    # Values quoted plain and short, as the parser's problems (engine.language.naming.tidy).
    # and each on its element's line.
    return [replace(p, message=tidy(p.message),
                    line=p.line or (elements.get(p.element_id) or {}).get("line"))
            for p in problems + document_problems(file, elements, schema_lookup(svc))]


def schema_lookup(svc: Services):
    """form key -> its JSON Schema (None for an unknown form), or None when the services have no forms."""
    if svc.forms is None:
        return None
    known = set(svc.forms.keys())
    return lambda key: svc.forms.get(key) if key in known else None


def bundle_rules(svc: Services, texts: dict[str, str | bytes], pending_lanes: dict[str, dict] | None = None,
                 only: Iterable[str] | None = None) -> list[Problem]:
    """office_rules for every BPMN file of a parsed bundle (`texts`: name -> XML, the files as sent so that lines are
    theirs), or those named in `only`.

    `pending_lanes` is a lanes.json table ({process key or "*": {lane: group}}) deployed with the files.
    """
    problems: list[Problem] = []
    for name, text in sorted(texts.items()):
        if only is not None and name not in only:
            continue
        try:
            elements = elements_of(text, name)
        except SpecInvalid:  # a DMN file: nothing to check here
            continue
        keys = sorted(i for i, e in elements.items() if e["type"] == "process")
        pending = frozenset(lane for key, lanes in (pending_lanes or {}).items() if key == "*" or key in keys
                            for lane in lanes)
        problems += office_rules(svc, name, elements, keys, pending, strict=False)
    return problems


def mapped_lanes(svc: Services, process_keys: Iterable[str]) -> set[str]:
    """The lanes a group works, for these procedures or for all ('*')."""
    lg = models.lane_groups
    with svc.uow(write=False) as uow:
        return set(uow.conn.execute(select(lg.c.lane).where(or_(lg.c.process_key.in_(list(process_keys)),
                                                                lg.c.process_key == "*"))).scalars())
