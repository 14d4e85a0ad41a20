"""The case page (summary, live diagram, who holds what, timeline, attachments) and the cases list."""
from __future__ import annotations

import json

from flask import g, render_template, request

from engine.usecases import attachments
from engine.usecases import cases
from engine.usecases.inbox import due_flags
from web.inbox_pages import process_names
from web.pages import bp, login_required, services
from web.task_messages import person

CASE_STATES = ("running", "completed", "error", "suspended", "cancelled")


@bp.get("/expedientes/<int:case_id>")
@login_required("case.read")
def case(case_id: int):
    svc = services()
    detail = cases.case_detail(svc, g.user, case_id)
    marks = cases.case_marks(svc, case_id)
    now = svc.clock()
    active = [dict(t, holder=person(t["assignee"]) if t["assignee"] else None, **due_flags(t["due_at"], now))
              for t in detail["tasks"] if t["state"] == "ready"]
    done = [t for t in detail["tasks"] if t["state"] == "completed"]
    diagram_url = f"/api/processes/{detail['process_key']}/versions/{detail['process_version']}/bpmn"
    return render_template(
        "pages/case.html", case=detail, active=active, done=done, history=cases.case_history(svc, case_id),
        files=attachments.list_attachments(svc, case_id), diagram_url=diagram_url,
        marks=json.dumps({k: marks[k] for k in ("done", "active", "failed")}),
        name=process_names().get(detail["process_key"], detail["process_key"]))


@bp.get("/expedientes")
@login_required("case.read")
def cases_list():
    filters = {"process_key": request.args.get("procedimiento") or None,
               "state": request.args.get("estado") if request.args.get("estado") in CASE_STATES else None,
               "municipality": request.args.get("municipio") or None}
    try:
        page = max(1, int(request.args.get("pagina", 1)))
    except ValueError:
        page = 1
    result = cases.list_cases(services(), g.user, page=page, per_page=25, **filters)
    pages = max(1, -(-result["total"] // result["per_page"]))
    return render_template("pages/cases.html", result=result, pages=pages, filters=filters,
                           names=process_names(), states=CASE_STATES, args=request.args.to_dict())
