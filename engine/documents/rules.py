"""The rules a diagram's document-issuing tasks must follow, checked when a procedure is published (from the
modeler or deployed by the CLI or the API), so a wrong declaration is refused there rather than at the step.

A task issues a document with the property `document` (a kind of kinds.KINDS) and optionally `documentEach` (an
array field of its form: one document per item). It must be a user or manual task with a form, and that form
must declare every field the kind's template requires (`kinds.required_fields`), at its top level or, with
`documentEach`, in the array's items."""
from __future__ import annotations

from typing import Callable, Mapping

from engine.documents import kinds
from engine.errors import Problem
from engine.messages import msg, one_line

_ISSUERS = ("userTask", "manualTask")


def document_problems(file: str, elements: Mapping[str, dict],
                      schema_of: Callable[[str], dict | None] | None) -> list[Problem]:
    """Problems of one BPMN file's document declarations; `elements` as engine.language.specs.elements_of gives
    them; `schema_of(form_key)` returns a form's JSON Schema, None for an unknown form (reported elsewhere), or
    `schema_of` is None when no forms are configured (the field check is skipped)."""
    problems = []
    for element_id, el in elements.items():
        values = el["values"]
        key = (values.get(f"property:{kinds.DOCUMENT_PROPERTY}") or "").strip()
        each = (values.get(f"property:{kinds.EACH_PROPERTY}") or "").strip()
        if not key and not each:
            continue
        name = one_line(el["name"] or "") or element_id

        def add(message):
            problems.append(Problem(file, message, element_id))

        if not key:
            add(msg("«%(element)s» declara «documentEach» sin «document»: indique qué documento emite.",
                    element=name))
            continue
        if key not in kinds.KINDS:
            add(msg("El documento «%(kind)s» de «%(element)s» no existe; los documentos son: %(known)s.",
                    kind=key, element=name, known=", ".join(sorted(k for k in kinds.KINDS if k != kinds.RECEIPT))))
            continue
        if key == kinds.RECEIPT:
            add(msg("«%(element)s» no puede emitir la constancia de recepción: se emite al presentar la solicitud.",
                    element=name))
            continue
        if el["type"] not in _ISSUERS:
            add(msg("«%(element)s» emite un documento, pero solo una tarea de usuario o manual puede hacerlo: quien "
                    "la completa revisa el borrador y lo firma.", element=name))
            continue
        form = (values.get("property:form") or "").strip()
        if not form:
            add(msg("«%(element)s» emite «%(title)s», pero no tiene formulario: el documento se llena con él.",
                    element=name, title=str(kinds.title(key))))
            continue
        schema = schema_of(form) if schema_of is not None else None
        if schema is None:
            continue
        fields = schema.get("properties") or {}
        item_fields: dict = {}
        if each:
            array = fields.get(each) or {}
            items = array.get("items") if isinstance(array.get("items"), dict) else {}
            if array.get("type") != "array" or items.get("type") != "object":
                add(msg("«documentEach» de «%(element)s» nombra «%(field)s», que no es una lista de objetos del "
                        "formulario «%(form)s».", element=name, field=each, form=form))
                continue
            item_fields = items.get("properties") or {}
        missing = [f for f in kinds.required_fields(key) if f not in fields and f not in item_fields]
        if missing:
            add(msg("El formulario «%(form)s» de «%(element)s» no tiene los campos que «%(title)s» necesita: "
                    "%(fields)s.", form=form, element=name, title=str(kinds.title(key)), fields=", ".join(missing)))
    return problems
