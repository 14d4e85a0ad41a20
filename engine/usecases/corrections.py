"""Correcting an issued document (issue 14: "a correction is a new document that references the one it corrects,
and both stay in the case").

A signed document never changes. To correct one, a supervisor (or the administrator) says what to change and
why: a new document of the same kind is issued with the kind's next number, filled with what the original was
filled with (its stored `data_json`) updated by the changes, and its text says which document it corrects and
the reason (base.html). The new row's `corrects_id` names the original, which stays in the case unchanged: the
public verification of the original then answers "corrected by N". Only the latest document of a chain may be
corrected (correcting one already corrected would leave two documents saying they replace it).

What a person may change: the fields the kind's template requires plus every other stored field whose value is
a text or a list of texts (values keep their stored type), or that the step's form left empty where it declares
one. A document issued for one item of a form's array
(`documentEach`: one oficio per institution) is corrected as one again: the item's fields are read from the
stored data, so the template reads the item alone as it did when the original was issued. A changed value is
checked against the form of the step that issued the document (a date must still be a date), and each field is
labelled with that form's title for it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
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
from engine.usecases.deploy import forms_of_version

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_d, _c, _t = models.documents, models.cases, models.tasks
REASON_FIELD = "reason"
MAX_REASON_CHARS = 2000


@use_case("document.correct")
def correction_form(svc: Services, principal: Principal, document_id: int) -> dict:
    """What correcting a document offers: `document` (id, case, kind, title, number, issued_at, code), `fields`
    ([{"name", "label", "list", "required", "value", "schema"}]: the editable fields with their stored values,
    `list` for a list of texts, `label` and `schema` the issuing form's title and JSON Schema for it or None) and
    `corrected_by` ({"id", "number"} of the document that already corrects it, or None)."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        row = _visible_document(conn, principal, document_id)
        origin = _origin(svc, conn, row)
        props = {name: prop for name, prop in origin.properties.items() if isinstance(prop, dict)}
        fields = [{**f, "label": props.get(f["name"], {}).get("title"), "schema": props.get(f["name"])}
                  for f in editable_fields(row["kind"], _stored_data(row), origin.properties)]
        return {"document": _described(conn, row), "fields": fields, "corrected_by": _corrector(conn, document_id)}


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
        origin = _origin(svc, conn, row)
        changes = _checked_changes(row["kind"], stored, origin.properties, changes)
        data = {**stored, **changes}
        item = origin.item_of(data)
        if item is not None:  # the array holds the corrected item too, as the step's data held the original
            data[origin.each] = [item if i == origin.index else other for i, other in enumerate(data[origin.each])]
        _check_against_form(svc, origin, data, set(changes))
        now = svc.clock()
        [pending] = issuing.allocate(svc, conn, row["kind"], None, data, now)
        if item is not None:  # one of a documentEach: the template reads the item alone, as before
            pending = dataclasses.replace(pending, item=item)
        corrects = {"id": row["id"], "number": row["number"], "issued_at": row["issued_at"],
                    "code": row["verification_code"], "title": str(kinds.title(row["kind"]))}
        [issued] = issuing.issue(svc, conn, case_id=row["case_id"], task_id=None, pending=[pending], data=data,
                                 actor=principal.username, now=now, own=_own(row, changes),
                                 citizen_email=_citizen_email(svc, conn, row["case_id"], data),
                                 corrects=corrects, correction_reason=reason)
        uow.commit()
    return issued


def editable_fields(kind: str, stored: dict, properties: dict | None = None) -> list[dict]:
    """The fields of a document a correction may change, the template's required ones first, then the others in
    stored order: those whose stored value is a text (`list` False) or a list of texts (`list` True), and those
    left empty (None) that the issuing form's `properties` declare as a text or a list of texts."""
    required = kinds.required_fields(kind)
    names = [*required, *(k for k in stored if k not in required)]
    out = []
    for name in names:
        value = stored.get(name)
        if name not in stored:
            continue
        if value is None:
            shape = _declared_shape((properties or {}).get(name))
            if shape is None:
                continue
            value = [] if shape == "list" else ""
        elif not _editable_value(value):
            continue
        out.append({"name": name, "list": isinstance(value, list), "required": name in required, "value": value})
    return out


def _editable_value(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _declared_shape(prop) -> str | None:
    """"text" or "list" for a form property that holds a text or a list of texts; None for anything else."""
    if not isinstance(prop, dict):
        return None
    if prop.get("type") == "string":
        return "text"
    items = prop.get("items")
    if prop.get("type") == "array" and isinstance(items, dict) and items.get("type") == "string":
        return "list"
    return None


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


def _checked_changes(kind: str, stored: dict, properties: dict, changes) -> dict:
    """The changes, if each names an editable field with a value of its stored type (a required one not
    blank); FormInvalid listing every field refused otherwise."""
    if changes is None:
        return {}
    if not isinstance(changes, dict):
        raise FormInvalid("changes must be an object of field names and values",
                          errors=[{"field": "changes", "message": msg("Se espera un objeto con los campos.")}])
    editable = {f["name"]: f for f in editable_fields(kind, stored, properties)}
    errors = []
    for name, value in changes.items():
        shape = editable.get(name)
        if shape is None:
            errors.append({"field": name, "message": msg("Este campo no se puede corregir en este documento.")})
        elif shape["list"] != isinstance(value, list) or not _editable_value(value):
            errors.append({"field": name, "message": msg("Se espera una lista de textos.") if shape["list"]
                           else msg("Se espera un texto.")})
        elif shape["required"] and not (value.strip() if isinstance(value, str) else any(v.strip() for v in value)):
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


@dataclass(frozen=True)
class _Origin:
    """Where a document's data came from: the form of the step that issued the first document of its chain
    (`form_key`, its `properties` by name, an array's item fields included) and, for one of a `documentEach`,
    the array's field and the item's position in it."""
    form_key: str | None = None
    properties: dict = field(default_factory=dict)
    each: str | None = None
    index: int | None = None
    item_keys: tuple[str, ...] = ()
    forms: object = None  # the forms of the case's process version (engine.forms_gate.FormsGate), if any

    def item_of(self, data: dict) -> dict | None:
        """The item's fields as `data` holds them (the item's own values are stored over the step's), or None
        for a document of its own."""
        if self.each is None:
            return None
        return {k: data[k] for k in self.item_keys if k in data}


def _origin(svc: Services, conn, row: dict) -> _Origin:
    """The document's _Origin, from the task that issued the chain's first document: its form, its
    `documentEach` property (the spec of its process version), and the item's position by the code the step
    wrote for it (`documentos_<kind>`). A document without such a task (or its form) has an empty one."""
    root = _root(conn, row)
    task = None if root["task_id"] is None else conn.execute(
        select(_t.c.element_id, _t.c.form_key, _c.c.process_version_id).join(_c, _c.c.id == _t.c.case_id)
        .where(_t.c.id == root["task_id"])).first()
    if task is None:
        return _Origin()
    forms = forms_of_version(svc, conn, task.process_version_id)  # the forms the step was completed with
    properties = _form_properties(forms, task.form_key)
    each = _each_of(svc, conn, task.process_version_id, task.element_id)
    root_data = _stored_data(root)
    items, refs = root_data.get(each), root_data.get(f"documentos_{root['kind']}")
    if each is None or not isinstance(items, list) or not isinstance(refs, list) or len(items) != len(refs):
        return _Origin(task.form_key, properties, forms=forms)
    codes = [r.get("codigo") if isinstance(r, dict) else None for r in refs]
    index = codes.index(root["verification_code"]) if root["verification_code"] in codes else None
    if index is None or not isinstance(items[index], dict):
        return _Origin(task.form_key, properties, forms=forms)
    item_schema = (properties.get(each) or {}).get("items") or {}
    return _Origin(task.form_key, {**properties, **(item_schema.get("properties") or {})}, each, index,
                   tuple(items[index]), forms)


def _form_properties(forms, form_key: str | None) -> dict:
    if forms is None or form_key is None:
        return {}
    try:
        return dict(forms.get(form_key).get("properties") or {})
    except NotFound:  # a form no longer deployed: the stored values are still corrected, unchecked
        return {}


def _each_of(svc: Services, conn, version_id: int, element_id: str) -> str | None:
    """The `documentEach` property of the task `element_id` in a process version (or its sub-processes)."""
    spec, subs = svc.specs.get(conn, version_id)
    for process in (spec, *(subs or {}).values()):
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == element_id:
                return issuing.properties_of(task_spec)[1]
    return None


def _check_against_form(svc: Services, origin: _Origin, data: dict, changed: set[str]) -> None:
    """Refuse (FormInvalid naming the field) a changed value the issuing step's form would refuse; the values
    left as they were issued are not checked again (a date "not in the past" then may be past now)."""
    if not changed or origin.forms is None or not origin.properties:
        return
    try:
        origin.forms.validate(origin.form_key, {k: data[k] for k in origin.properties if k in data
                                             and (origin.each is None or k not in origin.item_keys)})
    except FormInvalid as exc:
        errors = [{**e, "field": name} for e in exc.errors
                  if (name := _changed_field(e.get("field", ""), origin, changed)) is not None]
        if errors:
            raise FormInvalid(f"the changes do not satisfy the form {origin.form_key}: "
                              f"{', '.join(e['field'] for e in errors)}", errors=errors) from exc


def _changed_field(path: str, origin: _Origin, changed: set[str]) -> str | None:
    """The changed field a form problem's path ("field", or "array/index/field" for an item) names, if any."""
    parts = path.split("/")
    if origin.each is not None and len(parts) >= 3 and parts[0] == origin.each and parts[1] == str(origin.index):
        parts = parts[2:]
    return parts[0] if parts[0] in changed else None


def _own(row: dict, changes: dict) -> dict:
    """What issuing reads as the step's own fields: the co-signer. The original's is the one recorded when it was
    issued (a `cofirmante` its data holds from an earlier step did not sign it), unless the correction changes it."""
    if kinds.COSIGNER_FIELD in changes:
        return {kinds.COSIGNER_FIELD: changes[kinds.COSIGNER_FIELD]}
    signers = orjson.loads(row["signers_json"]) if row.get("signers_json") else []
    cosigner = next((s.get("name") for s in signers if s.get("role") == "cosigner"), None)
    return {kinds.COSIGNER_FIELD: cosigner}


def _citizen_email(svc: Services, conn, case_id: int, data: dict) -> str | None:
    """The citizen's address in the document's data, from the field the procedure's intake form declares (as
    completing the step that issued it found it), so a corrected resolution is mailed like the original."""
    version_id = conn.execute(select(_c.c.process_version_id).where(_c.c.id == case_id)).scalar_one()
    forms = forms_of_version(svc, conn, version_id)
    if forms is None:
        return None
    spec, _subs = svc.specs.get(conn, version_id)
    return forms.citizen_email(start_form_key(spec), data)
