"""Tasks: my inbox, my groups' queue, claim, release, assign, the form, drafts, complete."""
from __future__ import annotations

import io
from urllib.parse import urlencode

from flask import request, send_file
from flask.views import MethodView

from api.idempotency import idempotent
from api.openapi import ApiBlueprint
from api.schemas.work import (
    AssignSchema, CompletedSchema, DataSchema, DraftSchema, FormSchema, InboxQuerySchema, InboxTaskSchema, TaskSchema,
)
from api.security import calls, principal, services
from engine.usecases import inbox
from engine.usecases import tasks

NEXT_PAGE = {"X-Next-Cursor": {"description": "Where more tasks follow: pass it as `after` for the next page",
                               "schema": {"type": "string"}},
             "Link": {"description": "The next page's URL (rel=\"next\")", "schema": {"type": "string"}}}

blp = ApiBlueprint("tasks", __name__, url_prefix="/api/tasks", description="Tareas")


@blp.route("/mine")
class MyTasks(MethodView):
    @calls(inbox.inbox)
    @blp.arguments(InboxQuerySchema(), location="query")
    @blp.response(200, InboxTaskSchema(many=True), headers=NEXT_PAGE)
    def get(self, args):
        """Ready tasks you hold."""
        return _page(inbox.inbox(services(), principal(), view="mine", per_page=args["limit"],
                                 after=args.get("after"), summary=False))


@blp.route("/queue")
class Queue(MethodView):
    @calls(inbox.inbox)
    @blp.arguments(InboxQuerySchema(), location="query")
    @blp.response(200, InboxTaskSchema(many=True), headers=NEXT_PAGE)
    def get(self, args):
        """Ready tasks of your groups (or of one group), oldest deadline first."""
        return _page(inbox.inbox(services(), principal(), view="queue", group=args.get("group"),
                                 unassigned=args["unassigned"], per_page=args["limit"], after=args.get("after"),
                                 summary=False))


def _page(page: dict):
    """The page's rows as the body; where more follow, the cursor of the next page in `X-Next-Cursor` and a
    `Link: <...>; rel="next"` header (the body stays a plain list)."""
    if not page["next"]:
        return page["items"]
    query = {k: v for k, v in request.args.items() if k != "after"}
    url = request.base_url + "?" + urlencode({**query, "after": page["next"]})
    return page["items"], 200, {"X-Next-Cursor": page["next"], "Link": f'<{url}>; rel="next"'}


@blp.route("/<uuid:task_id>")
class Task(MethodView):
    @calls(tasks.get_task)
    @blp.response(200, InboxTaskSchema)
    def get(self, task_id):
        """One task."""
        return tasks.get_task(services(), principal(), str(task_id))


@blp.route("/<uuid:task_id>/claim")
class Claim(MethodView):
    @calls(tasks.claim_task)
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Take a ready task; 409 names whoever holds it."""
        return tasks.claim_task(services(), principal(), str(task_id))


@blp.route("/<uuid:task_id>/release")
class Release(MethodView):
    @calls(tasks.release_task)
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Give a task back to its group (supervisors may release anyone's)."""
        return tasks.release_task(services(), principal(), str(task_id))


@blp.route("/<uuid:task_id>/assign")
class Assign(MethodView):
    @calls(tasks.assign_task)
    @blp.arguments(AssignSchema())
    @blp.response(200, TaskSchema)
    def post(self, args, task_id):
        """Give a ready task to someone who could work it."""
        return tasks.assign_task(services(), principal(), str(task_id), args["username"])


@blp.route("/<uuid:task_id>/form")
class Form(MethodView):
    @calls(tasks.task_form)
    @blp.response(200, FormSchema)
    def get(self, task_id):
        """The task's form: JSON Schema, ui hints and the data it opens with (its draft, or the case's values the
        diagram declares with `prefill`)."""
        return tasks.task_form(services(), principal(), str(task_id))


@blp.route("/<uuid:task_id>/draft")
class Draft(MethodView):
    @calls(tasks.save_draft)
    @blp.arguments(DataSchema())
    @blp.response(200, DraftSchema)
    def put(self, args, task_id):
        """Save unfinished form data (replaces the previous draft)."""
        return tasks.save_draft(services(), principal(), str(task_id), args["data"])


@blp.route("/<uuid:task_id>/document-draft")
class DocumentDraft(MethodView):
    @calls(tasks.document_draft)
    @blp.arguments(DataSchema())
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf")
    def post(self, args, task_id):
        """The document the task issues, as completing it with this data would, marked BORRADOR: no number,
        code or signature, nothing stored. The data is checked against the task's form first (422 names the
        fields); a task that issues no document answers 404."""
        draft = tasks.document_draft(services(), principal(), str(task_id), args["data"])
        return send_file(io.BytesIO(draft["pdf"]), mimetype="application/pdf", download_name=draft["filename"])


@blp.route("/<uuid:task_id>/complete")
class Complete(MethodView):
    @calls(tasks.complete_task)
    @idempotent
    @blp.arguments(DataSchema())
    @blp.response(200, CompletedSchema)
    def post(self, args, task_id):
        """Complete a task with the form's data; the case runs until it waits again."""
        return tasks.complete_task(services(), principal(), str(task_id), args["data"])
