"""Correcting an issued document (issue 14: "a correction is a new document that references the one it corrects,
and both stay in the case").

A signed document never changes. To correct one, a supervisor (or the administrator) says what to change and
why: a new document of the same kind is issued with the kind's next number, filled with what the original was
filled with (its stored `data_json`) updated by the changes, and its text says which document it corrects and
the reason (base.html). The new row's `corrects_id` names the original, which stays in the case unchanged: the
public verification of the original then answers "corrected by N". Only the latest document of a chain may be
corrected (correcting one already corrected would leave two documents saying they replace it).

What a person may change: the fields the kind's template requires plus every other stored field whose value is
a text or a list of texts (values keep their stored type). A document issued for one item of a form's array
(`documentEach`: one oficio per institution) is corrected as one again: the item's fields are read from the
stored data, so the template reads the item alone as it did when the original was issued."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select

from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.documents import kinds
from engine.errors import Conflict, FormInvalid, NotFound
from engine.messages import msg
from engine.runtime.runner import start_form_key
from engine.storage import documents, models
from engine.usecases import issuing

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_d, _c, _t = models.documents, models.cases, models.tasks
REASON_FIELD = "reason"
MAX_REASON_CHARS = 2000


@use_case("document.correct")
def correction_form(svc: Services, principal: Principal, document_id: int) -> dict:
    """What correcting a document offers: `document` (id, case, kind, title, number, issued_at, code), `fields`
    ([{"name", "list", "required", "value"}]: the editable fields with their stored values, `list` for a list
    of texts) and `corrected_by` ({"id", "number"} of the document that already corrects it, or None)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        row = _visible_document(conn, principal, document_id)
        return {"document": _described(conn, row), "fields": editable_fields(row["kind"], _stored_data(row)),
                "corrected_by": _corrector(conn, document_id)}


@use_case("document.correct")
def correct_document(svc: Services, principal: Principal, document_id: int, changes: dict | None,
                     reason: str | None) -> dict:
    """Issue the correction of a document (see the module) in one write transaction; returns the new row (no
    bytes). A document already corrected: Conflict naming the number that corrects it. No reason, a field that
    may not be changed or a value of another type: FormInvalid naming the field. A template the changed data
    cannot fill: issuing.DocumentIncomplete."""
    with svc.uow() as uow:
        conn = uow.conn
        row = _visible_document(conn, principal, document_id)
        # The case row's lock (PostgreSQL; SQLite's write transaction already serialises) makes a concurrent
        # correction of the same document wait here, then find this one and be refused.
        conn.execute(select(_c.c.id).where(_c.c.id == row["case_id"]).with_for_update())
        corrector = _corrector(conn, document_id)
        if corrector is not None:
            raise Conflict(f"document {row['number'] or document_id} is already corrected by "
                           f"{corrector['number'] or corrector['id']}; correct that one instead",
                           corrected_by=corrector["number"], corrected_by_id=corrector["id"])
        reason = _checked_reason(reason)
        stored = _stored_data(row)
        data = {**stored, **_checked_changes(row["kind"], stored, changes)}
        now = svc.clock()
        [pending] = issuing.allocate(svc, conn, row["kind"], None, data, now)
        item_keys = _item_keys(svc, conn, row)
        if item_keys is not None:  # one of a documentEach: the template reads the item alone, as before
            pending = dataclasses.replace(pending, item={k: data[k] for k in item_keys if k in data})
        corrects = {"id": row["id"], "number": row["number"], "issued_at": row["issued_at"],
                    "code": row["verification_code"], "title": str(kinds.title(row["kind"]))}
        [issued] = issuing.issue(svc, conn, case_id=row["case_id"], task_id=None, pending=[pending], data=data,
                                 actor=principal.username, now=now, citizen_email=_citizen_email(svc, conn, row,
                                                                                                 data),
                                 corrects=corrects, correction_reason=reason)
        uow.commit()
    return issued


def editable_fields(kind: str, stored: dict) -> list[dict]:
    """The fields of a document a correction may change, the template's required ones first, then the others in
    stored order: those whose stored value is a text (`list` False) or a list of texts (`list` True)."""
    required = kinds.required_fields(kind)
    names = [*required, *(k for k in stored if k not in required)]
    return [{"name": name, "list": isinstance(stored[name], list), "required": name in required,
             "value": stored[name]}
            for name in names if name in stored and _editable_value(stored[name])]


def _editable_value(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _visible_document(conn, principal: Principal, document_id: int) -> dict:
    """The document row, if it exists in a case the principal may see (NotFound otherwise); the receipt, filled
    from the case's intake rather than from a step's data, cannot be corrected this way (FormInvalid)."""
    row = documents.document_by_id(conn, document_id)
    if row is None:
        raise NotFound(f"document {document_id} does not exist", document_id=document_id)
    check_case_visible(conn, principal, row["case_id"])
    if row["kind"] == kinds.RECEIPT or row["kind"] not in kinds.KINDS:
        raise FormInvalid(f"a {row['kind']} cannot be corrected by issuing a new one",
                          errors=[{"field": "document_id",
                                   "message": msg("Este documento no se corrige con una corrección.")}])
    return row


def _described(conn, row: dict) -> dict:
    case_number = conn.execute(select(_c.c.number).where(_c.c.id == row["case_id"])).scalar_one()
    return {"id": row["id"], "case_id": row["case_id"], "case_number": case_number, "kind": row["kind"],
            "title": kinds.title(row["kind"]), "number": row["number"], "issued_at": row["issued_at"],
            "code": row["verification_code"]}


def _corrector(conn, document_id: int) -> dict | None:
    """The document that corrects this one ({"id", "number"}), or None."""
    found = conn.execute(select(_d.c.id, _d.c.number).where(_d.c.corrects_id == document_id)
                         .order_by(_d.c.id).limit(1)).mappings().first()
    return None if found is None else dict(found)


def _stored_data(row: dict) -> dict:
    return orjson.loads(row["data_json"]) if row.get("data_json") else {}


def _checked_reason(reason) -> str:
    # The document prints "Motivo: <reason>." (base.html): a reason typed with its own final period keeps one.
    text = reason.strip().rstrip(".").strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON_CHARS:
        raise FormInvalid("a correction needs its reason (up to %d characters)" % MAX_REASON_CHARS, errors=[{
            "field": REASON_FIELD, "message": msg("Indique el motivo de la corrección (hasta %(max)s caracteres).",
                                                  max=MAX_REASON_CHARS)}])
    return text


def _checked_changes(kind: str, stored: dict, changes) -> dict:
    """The changes, if each names an editable field with a value of its stored type (a required one not
    blank); FormInvalid listing every field refused otherwise."""
    if changes is None:
        return {}
    if not isinstance(changes, dict):
        raise FormInvalid("changes must be an object of field names and values",
                          errors=[{"field": "changes", "message": msg("Se espera un objeto con los campos.")}])
    fields = {f["name"]: f for f in editable_fields(kind, stored)}
    errors = []
    for name, value in changes.items():
        field = fields.get(name)
        if field is None:
            errors.append({"field": name, "message": msg("Este campo no se puede corregir en este documento.")})
        elif field["list"] != isinstance(value, list) or not _editable_value(value):
            errors.append({"field": name, "message": msg("Se espera una lista de textos.") if field["list"]
                           else msg("Se espera un texto.")})
        elif field["required"] and not (value.strip() if isinstance(value, str) else any(v.strip() for v in value)):
            errors.append({"field": name, "message": msg("El documento necesita este dato.")})
    if errors:
        raise FormInvalid(f"the changes name fields that cannot be changed so: {', '.join(e['field'] for e in errors)}",
                          errors=errors)
    return dict(changes)


def _root(conn, row: dict) -> dict:
    """The document at the start of a chain of corrections (the one a step issued)."""
    seen = {row["id"]}
    while row["corrects_id"] is not None and row["corrects_id"] not in seen:
        seen.add(row["corrects_id"])
        row = documents.document_by_id(conn, row["corrects_id"])
    return row


def _item_keys(svc: Services, conn, row: dict) -> list[str] | None:
    """The fields of the array item a document was issued for (`documentEach`), or None for a document of its own.
    The item is found from the step that issued the chain's first document: its task's `documentEach` property
    names the array, and the refs the step wrote (`documentos_<kind>`) give the item's position by its code."""
    root = _root(conn, row)
    if root["task_id"] is None:
        return None
    task = conn.execute(select(_t.c.element_id, _c.c.process_version_id).join(_c, _c.c.id == _t.c.case_id)
                        .where(_t.c.id == root["task_id"])).first()
    if task is None:
        return None
    spec, subs = svc.specs.get(conn, task.process_version_id)
    each = None
    for process in (spec, *(subs or {}).values()):
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == task.element_id:
                each = issuing.properties_of(task_spec)[1]
    root_data = _stored_data(root)
    items, refs = root_data.get(each), root_data.get(f"documentos_{kinds.kind(root['kind']).key}")
    if each is None or not isinstance(items, list) or not isinstance(refs, list):
        return None
    codes = [r.get("codigo") if isinstance(r, dict) else None for r in refs]
    if root["verification_code"] not in codes or len(items) != len(codes):
        return None
    item = items[codes.index(root["verification_code"])]
    return list(item) if isinstance(item, dict) else None


def _citizen_email(svc: Services, conn, row: dict, data: dict) -> str | None:
    """The citizen's address in the document's data, from the field the procedure's intake form declares (as
    completing the step that issued it found it), so a corrected resolution is mailed like the original."""
    if svc.forms is None:
        return None
    version_id = conn.execute(select(_c.c.process_version_id).where(_c.c.id == row["case_id"])).scalar_one()
    spec, _subs = svc.specs.get(conn, version_id)
    return svc.forms.citizen_email(start_form_key(spec), data)
