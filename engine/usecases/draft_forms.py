"""Forms edited within a process draft: a supervisor changes the fields of a form the draft's tasks name, saves it
(checked by engine.usecases.form_schema_rules), and publishing the draft pins the edited forms into the new
version (engine.usecases.drafts.publish_draft → deploy.deploy_files(forms=...)); older versions keep theirs.

Starting to edit a form copies it from the snapshot of the version the draft started from (or from forms/ for a
form that version does not use). A saved form is a row of draft_forms with a revision: a save built on an older
revision is refused (Conflict), never lost. Discarding or publishing the draft deletes its forms.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from sqlalchemy import delete, select

from engine.accounts.permissions import Principal, use_case
from engine.documents.rules import document_problems
from engine.errors import Conflict, InvalidInput, NotFound
from engine.language.specs import elements_of
from engine.messages import msg
from engine.storage import models
from engine.storage.concurrency import save_revision
from engine.usecases import drafts
from engine.usecases.form_schema_rules import FIELD_KEY, schema_problems

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_forms = models.draft_forms
_versions = models.process_versions
FORM_PROPERTY = "property:form"
MAX_SCHEMA_BYTES = 256 * 1024


class FormNotFound(NotFound):
    code = "form_not_found"


@use_case("process.draft")
def draft_form_list(svc: Services, principal: Principal, process_key: str) -> dict:
    """The forms the draft's tasks name, in the order of the diagram, each with the tasks that use it and whether
    it was edited in this draft (DraftNotFound without a draft)."""
    draft = drafts.get_row(svc, process_key)
    named = _named_forms(svc, process_key, draft["xml"])
    edited = _edited_rows(svc, process_key)
    base = _base_forms(svc, process_key, draft["base_version"])
    out = []
    for form_key, tasks in named.items():
        row = edited.get(form_key)
        schema = orjson.loads(row["schema_json"]) if row else base.get(form_key) or _office_form(svc, form_key)
        out.append({"form_key": form_key, "title": (schema or {}).get("title") or "", "tasks": tasks,
                    "exists": schema is not None, "edited": row is not None,
                    "updated_by": row["updated_by"] if row else None, "updated_at": row["updated_at"] if row else None,
                    "revision": row["revision"] if row else 0})
    return {"process_key": process_key, "base_version": draft["base_version"], "revision": draft["revision"],
            "forms": out}


@use_case("process.draft")
def get_draft_form(svc: Services, principal: Principal, process_key: str, form_key: str) -> dict:
    """The form as this draft has it: its saved schema (revision ≥ 1), else a copy of the one the draft's base
    version was published with, else the one in forms/ (revision 0: not edited yet)."""
    _check_form_key(form_key)
    draft = drafts.get_row(svc, process_key)
    row = _edited_rows(svc, process_key, form_key).get(form_key)
    if row is not None:
        return _shown(process_key, form_key, orjson.loads(row["schema_json"]), "borrador", row)
    base = _base_forms(svc, process_key, draft["base_version"])
    if form_key in base:
        return _shown(process_key, form_key, base[form_key], "version", None)
    schema = _office_form(svc, form_key)
    if schema is None:
        raise FormNotFound(msg("El formulario «%(form)s» no existe.", form=form_key), form=form_key)
    return _shown(process_key, form_key, schema, "formularios", None)


@use_case("process.draft")
def save_draft_form(svc: Services, principal: Principal, process_key: str, form_key: str, schema,
                    revision: int | None = None) -> dict:
    """Check and store the draft's form. `revision` is the one the editor started from (0: not edited yet); when
    the stored form moved on meanwhile, Conflict and nothing is written. Bad schema: InvalidInput naming fields."""
    _check_form_key(form_key)
    draft = drafts.get_row(svc, process_key)
    problems = check_schema(schema) or _document_problems(svc, process_key, draft["xml"], form_key, schema)
    if problems:
        raise InvalidInput(msg("El formulario tiene errores; corríjalos y guárdelo de nuevo."),
                           errors=problems, form=form_key)
    text = orjson.dumps(schema).decode()
    with svc.uow() as uow:
        row = uow.conn.execute(select(_forms.c.revision, _forms.c.updated_by)
                               .where(_forms.c.process_key == process_key, _forms.c.form_key == form_key)) \
            .mappings().first()
        current = row["revision"] if row else 0
        if revision is not None and revision != current:
            raise Conflict(msg("%(who)s guardó el formulario «%(form)s» después de que usted lo abrió; vuelva a "
                               "abrirlo para no perder ningún cambio.",
                               who=(row["updated_by"] if row else None) or "—", form=form_key),
                           form=form_key, revision=current)
        save_revision(uow.conn, _forms, {"process_key": process_key, "form_key": form_key}, current,
                      dict(schema_json=text, updated_by=principal.username, updated_at=svc.clock()),
                      Conflict(msg("Otra persona guardó el formulario «%(form)s» al mismo tiempo; vuelva a abrirlo.",
                                   form=form_key), form=form_key))
        uow.commit()
    return get_draft_form(svc, principal, process_key, form_key)


@use_case("process.draft")
def discard_draft_form(svc: Services, principal: Principal, process_key: str, form_key: str) -> None:
    """Drop this draft's changes to the form: it is again the one of the draft's base version."""
    _check_form_key(form_key)
    drafts.get_row(svc, process_key)
    with svc.uow() as uow:
        uow.conn.execute(delete(_forms).where(_forms.c.process_key == process_key, _forms.c.form_key == form_key))
        uow.commit()


@use_case("process.draft")
def preview_problems(svc: Services, principal: Principal, schema) -> list[dict]:
    """The problems of a form being edited (the preview draws it only when there are none)."""
    return check_schema(schema)


def check_schema(schema) -> list[dict]:
    """The schema's problems, its size included."""
    try:
        size = len(orjson.dumps(schema))
    except TypeError:  # orjson.JSONEncodeError: a number past 64 bits (JSON allows it; no form needs it)
        return [{"field": "(formulario)", "message": msg("El formulario tiene un número fuera de rango.")}]
    if size > MAX_SCHEMA_BYTES:
        return [{"field": "(formulario)", "message": msg("El formulario es demasiado grande (máximo 256 KiB).")}]
    return schema_problems(schema)


def _shown(process_key: str, form_key: str, schema: dict, source: str, row) -> dict:
    # schema_json: the same schema as text, its fields in their order (JSON answers come with their keys sorted)
    return {"process_key": process_key, "form_key": form_key, "schema": schema,
            "schema_json": orjson.dumps(schema).decode(), "source": source,
            "revision": row["revision"] if row else 0, "updated_by": row["updated_by"] if row else None,
            "updated_at": row["updated_at"] if row else None}


def _check_form_key(form_key: str) -> None:
    if not FIELD_KEY.fullmatch(form_key or ""):
        raise FormNotFound(msg("El formulario «%(form)s» no existe.", form=form_key), form=form_key)


def _elements(svc: Services, process_key: str, xml: str) -> dict[str, dict]:
    """The draft's elements (none when it cannot be read: its own problems say why)."""
    try:
        return elements_of(xml, drafts.draft_file_name(svc, process_key))
    except Exception:  # noqa: BLE001 - a draft that does not parse names no form
        return {}


def _document_problems(svc: Services, process_key: str, xml: str, form_key: str, schema: dict) -> list[dict]:
    """What the documents the draft's tasks issue with this form would lack in it (engine/documents/rules.py): a
    field a document's template needs may not be removed."""
    elements = {i: e for i, e in _elements(svc, process_key, xml).items()
                if e["values"].get(FORM_PROPERTY) == form_key}
    found = document_problems(drafts.draft_file_name(svc, process_key), elements,
                              lambda key: schema if key == form_key else None)
    return [{"field": "(formulario)", "message": p.message} for p in found]


def _named_forms(svc: Services, process_key: str, xml: str) -> dict[str, list[str]]:
    """{form key: names of the tasks naming it} in the draft's diagram (empty when it cannot be read)."""
    elements = _elements(svc, process_key, xml)
    named: dict[str, list[str]] = {}
    for element_id, el in elements.items():
        form = el["values"].get(FORM_PROPERTY)
        if form:
            named.setdefault(form, []).append(el.get("name") or element_id)
    return named


def _edited_rows(svc: Services, process_key: str, form_key: str | None = None) -> dict[str, dict]:
    q = select(_forms.c.form_key, _forms.c.schema_json, _forms.c.updated_by, _forms.c.updated_at,
               _forms.c.revision).where(_forms.c.process_key == process_key)
    if form_key is not None:
        q = q.where(_forms.c.form_key == form_key)
    with svc.uow(write=False) as uow:
        return {r["form_key"]: dict(r) for r in uow.conn.execute(q).mappings()}


def _base_forms(svc: Services, process_key: str, base_version: int | None) -> dict[str, dict]:
    """The forms the draft's base version was published with ({} for a new process or an old version)."""
    if base_version is None:
        return {}
    with svc.uow(write=False) as uow:
        text = uow.conn.execute(select(_versions.c.forms_json).where(_versions.c.process_key == process_key,
                                                                      _versions.c.version == base_version)).scalar()
    return orjson.loads(text) if text else {}


def _office_form(svc: Services, form_key: str) -> dict | None:
    if svc.forms is None or form_key not in svc.forms.keys():
        return None
    return svc.forms.get(form_key)
