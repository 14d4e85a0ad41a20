"""The lint of messaging's own property, `correlacion` (docs/messages.md): "clave=ruta, ..." with a name for each key
and a dotted path of names; on anything but a message event or task it would do nothing, which is said too."""
from __future__ import annotations

import re

from lxml import etree

from engine.errors import Problem
from engine.language.naming import describe
from engine.messages import msg, one_line

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def correlation_problems(file: str, proc: etree._Element) -> list[Problem]:
    out = []
    for prop in proc.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") != "correlacion":
            continue
        owner = prop.getparent().getparent().getparent()  # property < properties < extensionElements < owner
        if owner is None:
            continue
        local = etree.QName(owner).localname
        if local not in ("sendTask", "receiveTask") and owner.find(f"{{{BPMN_NS}}}messageEventDefinition") is None:
            out.append(Problem(file, one_line(msg("La propiedad «correlacion» %(element)s solo sirve en un evento o "
                                                  "tarea de mensaje; aquí no tendría efecto.",
                                                  element=describe(owner, "of"))),
                               owner.get("id"), owner.sourceline, "warning"))
        for part in (prop.get("value") or "").split(","):
            if not part.strip():
                continue
            key, _, path = part.strip().partition("=")
            key, path = key.strip(), (path.strip() or key.strip())
            if not _NAME.match(key) or not all(_NAME.match(step) for step in path.split(".")):
                out.append(Problem(file, one_line(msg(
                    "La correlación «%(part)s» %(element)s no es válida: escriba clave=ruta, con una ruta de nombres "
                    "separados por puntos (p. ej. solicitud=solicitud_pnc.solicitud).", part=part.strip(),
                    element=describe(owner, "of"))),
                    owner.get("id"), owner.sourceline))
    return out
