"""A case's full record for the auditor: every step with who, when, the data submitted and what it changed, each
task's deadline against its actual time, the documents, attachments and mail with their hashes and states, the
diagram version, and the case's own hash chain recomputed from its rows.

Everything comes from indexed rows in a handful of queries; no workflow is deserialized (the element names come
from the version's parsed spec, cached by svc.specs), so a case of hundreds of events opens as fast as its page."""
from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from sqlalchemy import bindparam, select

from engine.accounts import auth
from engine.accounts.permissions import Principal, use_case
from engine.audit.access import log_access
from engine.audit.status import integrity_status
from engine.documents import kinds
from engine.errors import CaseNotFound
from engine.integrity import canonical
from engine.storage import documents, models
from engine.usecases.attachments import attachments_of

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_c, _v, _t, _e, _o = models.cases, models.process_versions, models.tasks, models.events, models.outbox
_CASE = (select(_c.c.id, _c.c.number, _c.c.process_key, _c.c.state, _c.c.title, _c.c.applicant_name,
                _c.c.applicant_dpi, _c.c.municipality, _c.c.created_at, _c.c.created_by, _c.c.updated_at,
                _c.c.completed_at, _c.c.error_element, _c.c.error_message, _c.c.process_version_id,
                _v.c.version.label("process_version"), _v.c.name.label("process_name"), _v.c.content_hash,
                _v.c.created_at.label("version_created_at"))
         .join(_v, _v.c.id == _c.c.process_version_id).where(_c.c.id == bindparam("b_id")))
_EVENTS = select(_e).where(_e.c.case_id == bindparam("b_id")).order_by(_e.c.case_seq)
_TASKS = select(_t).where(_t.c.case_id == bindparam("b_id")).order_by(_t.c.created_at, _t.c.id)
_MAIL = (select(_o.c.id, _o.c.kind, _o.c.to_address, _o.c.subject, _o.c.status, _o.c.attempts, _o.c.created_at,
                _o.c.sent_at, _o.c.document_id)
         .where(_o.c.case_id == bindparam("b_id")).order_by(_o.c.id))


def bpmn_url(process_key: str, version: int) -> str:
    """Where the API serves a process version's diagram."""
    return f"/api/processes/{process_key}/versions/{version}/bpmn"


def check_case_chain(rows) -> dict:
    """Recompute a case's chain from its event rows (in case_seq order): {"ok", "events", "broken_at" (the first
    case_seq that disagrees), "problem"}."""
    previous = canonical.GENESIS
    for expected, row in enumerate(rows, start=1):
        problem = None
        leaf = canonical.leaf_hash(canonical.entry_of(row))
        if row["case_seq"] != expected:
            problem = f"event {expected} of the case is missing or out of order (found {row['case_seq']})"
        elif row["leaf_hash"] != leaf.hex():
            problem = f"event {expected} of the case does not match its hash"
        else:
            previous = canonical.case_link(previous, leaf)
            if row["case_chain"] != previous.hex():
                problem = f"event {expected} of the case breaks its chain"
        if problem:
            return {"ok": False, "events": len(rows), "broken_at": expected, "problem": problem}
    return {"ok": True, "events": len(rows), "broken_at": None, "problem": None}


def _element_names(svc: Services, conn, version_id: int) -> dict[str, str]:
    spec, subs = svc.specs.get(conn, version_id)
    names = {}
    for process in (spec, *(subs or {}).values()):
        for task_spec in process.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id and getattr(task_spec, "bpmn_name", None):
                names.setdefault(bpmn_id, task_spec.bpmn_name)
    return names


def _task_rows(svc: Services, task_rows: list[dict], now) -> list[dict]:
    calendar = svc.calendar
    out = []
    for t in task_rows:
        due, done = t["due_at"], t["completed_at"]
        ended = done if t["state"] == "completed" else None
        breached = bool(due and ((ended and ended > due) or (t["state"] == "ready" and now > due)))
        used = calendar.working_days_between(calendar.local_date(t["created_at"]), calendar.local_date(ended or now))
        allowed = (calendar.working_days_between(calendar.local_date(t["created_at"]), calendar.local_date(due))
                   if due else None)
        out.append({**t, "breached": breached, "working_days_used": used if t["state"] != "cancelled" else None,
                    "working_days_allowed": allowed})
    return out


def _steps(rows, version: int, element_names: dict, titles: dict, people: dict) -> list[dict]:
    return [{"seq": r["seq"], "case_seq": r["case_seq"], "at": r["at"], "kind": r["kind"], "actor": r["actor"],
             "actor_name": people.get(r["actor"]), "element_id": r["element_id"], "task_id": r["task_id"],
             "element_name": titles.get(r["task_id"]) or element_names.get(r["element_id"]),
             "data": orjson.loads(r["data_json"]) if r["data_json"] else None,
             "changes": orjson.loads(r["changes_json"]) if r["changes_json"] else None,
             "leaf_hash": r["leaf_hash"], "process_version": version} for r in rows]


def _documents(conn, case_id: int) -> list[dict]:
    return [{"id": d["id"], "kind": d["kind"], "title": kinds.title(d["kind"]), "number": d["number"],
             "sha256": d["sha256"], "size_bytes": d["size_bytes"], "pages": d["pages"], "issued_at": d["issued_at"],
             "issued_by": d["issued_by"], "verification_code": d["verification_code"],
             "signature": d["signature"], "signers": orjson.loads(d["signers_json"]) if d["signers_json"] else [],
             "corrects_id": d["corrects_id"]} for d in documents.documents_of_case(conn, case_id)]


@use_case("audit.read")
def case_record(svc: Services, principal: Principal, case_id: int) -> dict:
    """Everything the auditor reads of one case (see the module's docstring): case, steps, tasks, documents,
    attachments, mail, versions, integrity (the office's status) and chain (this case's). Logged as
    "audit.case"."""
    with svc.uow(write=False) as uow:
        conn = uow.conn
        case = conn.execute(_CASE, {"b_id": case_id}).mappings().first()
        if case is None:
            raise CaseNotFound(f"case {case_id} does not exist", case_id=case_id)
        rows = [dict(r) for r in conn.execute(_EVENTS, {"b_id": case_id}).mappings()]  # read often: plain dicts
        task_rows = [dict(r) for r in conn.execute(_TASKS, {"b_id": case_id}).mappings()]
        attached = [{k: a[k] for k in ("id", "filename", "content_type", "size_bytes", "sha256", "uploaded_by",
                                       "uploaded_at", "pages")} for a in attachments_of(conn, case_id)]
        issued = _documents(conn, case_id)
        mail = [dict(m) for m in conn.execute(_MAIL, {"b_id": case_id}).mappings()]
        people = auth.display_names(conn, {r["actor"] for r in rows} | {case["created_by"]}
                                    | {t["completed_by"] for t in task_rows} | {t["assignee"] for t in task_rows})
        names = _element_names(svc, conn, case["process_version_id"])
        integrity = integrity_status(conn)
    titles = {t["id"]: t["title"] for t in task_rows}
    case = dict(case)
    log_access(svc, principal.username, "audit.case", case["number"], {"case_id": case_id})
    return {"case": case, "steps": _steps(rows, case["process_version"], names, titles, people),
            "tasks": _task_rows(svc, task_rows, svc.clock()), "documents": issued, "attachments": attached,
            "mail": mail, "people": people,
            "versions": [{"process_key": case["process_key"], "version": case["process_version"],
                          "name": case["process_name"], "content_hash": case["content_hash"],
                          "created_at": case["version_created_at"],
                          "bpmn_url": bpmn_url(case["process_key"], case["process_version"])}],
            "integrity": integrity, "chain": check_case_chain(rows)}
