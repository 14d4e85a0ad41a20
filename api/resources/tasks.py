"""Tasks: my inbox, my groups' queue, claim, release, assign, the form, drafts, complete."""
from __future__ import annotations

from flask.views import MethodView

from api.idempotency import idempotent
from api.openapi import ApiBlueprint
from api.schemas.work import (
    AssignSchema, CompletedSchema, DataSchema, DraftSchema, FormSchema, InboxQuerySchema, InboxTaskSchema, TaskSchema,
)
from api.security import principal, requires, services
from engine.accounts import auth
from engine.accounts import permissions
from engine.usecases import inbox
from engine.usecases import tasks

blp = ApiBlueprint("tasks", __name__, url_prefix="/api/tasks", description="Tareas")


def _workable(task_id) -> dict:
    """The task row, if the caller may see it (a clerk outside its group gets 404)."""
    return tasks.visible_task(services(), principal(), str(task_id))


@blp.route("/mine")
class MyTasks(MethodView):
    @requires("task.read")
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, InboxTaskSchema(many=True))
    def get(self, args):
        """Ready tasks you hold."""
        return inbox.my_tasks(services(), principal(), args["limit"])


@blp.route("/queue")
class Queue(MethodView):
    @requires("task.read")
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, InboxTaskSchema(many=True))
    def get(self, args):
        """Ready tasks of your groups (or of one group), oldest deadline first."""
        return inbox.group_queue(services(), principal(), args.get("group"), args["unassigned"], args["limit"])


@blp.route("/<uuid:task_id>")
class Task(MethodView):
    @requires("task.read")
    @blp.response(200, InboxTaskSchema)
    def get(self, task_id):
        """One task."""
        return _workable(task_id)


@blp.route("/<uuid:task_id>/claim")
class Claim(MethodView):
    @requires("task.work")
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Take a ready task; 409 names whoever holds it."""
        _workable(task_id)
        return tasks.claim_task(services(), str(task_id), principal().username)


@blp.route("/<uuid:task_id>/release")
class Release(MethodView):
    @requires("task.work")
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Give a task back to its group (supervisors may release anyone's)."""
        _workable(task_id)
        who = principal()
        return tasks.release_task(services(), str(task_id), who.username,
                                  force=permissions.may_release_for_others(who))


@blp.route("/<uuid:task_id>/assign")
class Assign(MethodView):
    @requires("task.assign")
    @blp.arguments(AssignSchema)
    @blp.response(200, TaskSchema)
    def post(self, args, task_id):
        """Give a ready task to someone who could work it."""
        task = _workable(task_id)
        permissions.check_assignee(auth.principal_by_username(services(), args["username"]), task)
        return tasks.assign_task(services(), str(task_id), args["username"], principal().username)


@blp.route("/<uuid:task_id>/form")
class Form(MethodView):
    @requires("task.read")
    @blp.response(200, FormSchema)
    def get(self, task_id):
        """The task's form: JSON Schema, ui hints and the data to show (draft or case data)."""
        return tasks.task_form(services(), _workable(task_id))


@blp.route("/<uuid:task_id>/draft")
class Draft(MethodView):
    @requires("task.work")
    @blp.arguments(DataSchema)
    @blp.response(200, DraftSchema)
    def put(self, args, task_id):
        """Save unfinished form data (replaces the previous draft)."""
        _workable(task_id)
        return tasks.save_draft(services(), str(task_id), args["data"], principal().username)


@blp.route("/<uuid:task_id>/complete")
class Complete(MethodView):
    @requires("task.work")
    @idempotent
    @blp.arguments(DataSchema)
    @blp.response(200, CompletedSchema)
    def post(self, args, task_id):
        """Complete a task with the form's data; the case runs until it waits again."""
        _workable(task_id)
        return tasks.complete_task(services(), str(task_id), args["data"], principal().username)
