"""The case page (summary, live diagram, who holds what, timeline, documents, attachments, the foliated case
file), the whole case file as one PDF, and the cases list."""
from __future__ import annotations

import io
import json

from flask import current_app, g, render_template, request, send_file

from engine.usecases import cases, casefile
from engine.usecases.inbox import due_flags
from web.pages import bp, login_required, services
from web.task_messages import called

CASE_STATES = ("running", "completed", "error", "suspended", "cancelled")


@bp.get("/expedientes/<int:case_id>")
@login_required
def case(case_id: int):
    page = cases.case_page(services(), g.user, case_id)
    detail, now = page["case"], services().clock()
    active = [dict(t, holder=called(t["assignee"], page["names"]) if t["assignee"] else None,
                   **due_flags(t["due_at"], now))
              for t in detail["tasks"] if t["state"] == "ready"]
    done = [t for t in detail["tasks"] if t["state"] == "completed"]
    diagram_url = f"/api/processes/{detail['process_key']}/versions/{detail['process_version']}/bpmn"
    folios, total = casefile.case_file_entries(page["documents"], page["files"])
    return render_template(
        "pages/case.html", case=detail, active=active, done=done, history=page["history"], files=page["files"],
        documents=page["documents"], folios=folios, total_folios=total, diagram_url=diagram_url,
        marks=json.dumps(page["marks"]), name=page["name"])


@bp.get("/expedientes/<int:case_id>/expediente.pdf")
@login_required
def case_file_pdf(case_id: int):
    """The whole case file (foliated index, then every document and attachment), compiled on demand."""
    made = casefile.case_file_pdf(services(), g.user, current_app.extensions["expediente.attachments"], case_id)
    return send_file(io.BytesIO(made["pdf"]), mimetype="application/pdf", download_name=made["filename"])


@bp.get("/expedientes")
@login_required
def cases_list():
    filters = {"process_key": request.args.get("procedimiento") or None,
               "state": request.args.get("estado") if request.args.get("estado") in CASE_STATES else None,
               "municipality": request.args.get("municipio") or None}
    try:
        page = max(1, int(request.args.get("pagina", 1)))
    except ValueError:
        page = 1
    result = cases.cases_page(services(), g.user, page=page, per_page=25, **filters)
    pages = max(1, -(-result["total"] // result["per_page"]))
    return render_template("pages/cases.html", result=result, pages=pages, filters=filters,
                           names=result["names"], states=CASE_STATES, args=request.args.to_dict())
