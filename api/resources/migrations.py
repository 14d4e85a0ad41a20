"""Migrating running cases to another version of their procedure: the mapping's choices, the plan (a dry run per
case), applying it in batches, undoing it, and reading migrations (engine/usecases/case_migration*.py)."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.migrations import (
    BatchDoneSchema, BatchSchema, ChoicesQuerySchema, ChoicesSchema, ListQuerySchema, MigrationDetailSchema,
    MigrationSchema, PlanMigrationSchema, PlannedMigrationSchema, ReadQuerySchema,
)
from api.security import calls, principal, services
from engine.usecases import case_migration, case_migration_apply

blp = ApiBlueprint("migrations", __name__, url_prefix="/api/migrations",
                   description="Migración de expedientes en trámite a otra versión")


@blp.route("")
class Migrations(MethodView):
    @calls(case_migration.list_migrations)
    @blp.arguments(ListQuerySchema(), location="query")
    @blp.response(200, MigrationSchema(many=True))
    def get(self, args):
        """The migrations, newest first (of one procedure with `process_key`)."""
        return case_migration.list_migrations(services(), principal(), args["process_key"])

    @calls(case_migration.plan_migration)
    @blp.arguments(PlanMigrationSchema())
    @blp.response(201, PlannedMigrationSchema)
    def post(self, args):
        """Plan a migration: choose the cases (filters), map their waiting elements (`mapping` completes the
        automatic one by id) and answer the dry run of each case; nothing of a case changes until applied."""
        filters = {k: v for k, v in args["filters"].items() if v is not None}
        return case_migration.plan_migration(services(), principal(), args["from_version_id"], args["to_version_id"],
                                             args["mapping"], filters)


@blp.route("/choices")
class Choices(MethodView):
    @calls(case_migration.migration_choices)
    @blp.arguments(ChoicesQuerySchema(), location="query")
    @blp.response(200, ChoicesSchema)
    def get(self, args):
        """The old version's elements a case may wait at (with the automatic target) and the new version's
        elements a case may be moved to."""
        return case_migration.migration_choices(services(), principal(), args["from_version_id"],
                                                args["to_version_id"])


@blp.route("/<id:migration_id>")
class Migration(MethodView):
    @calls(case_migration.read_migration)
    @blp.arguments(ReadQuerySchema(), location="query")
    @blp.response(200, MigrationDetailSchema)
    def get(self, args, migration_id):
        """A migration with its counts and a page of its cases (`state` to see only refused, skipped, ...)."""
        return case_migration.read_migration(services(), principal(), migration_id, item_state=args["state"],
                                             offset=args["offset"], limit=args["limit"])


@blp.route("/<id:migration_id>/apply")
class Apply(MethodView):
    @calls(case_migration_apply.apply_batch)
    @blp.arguments(BatchSchema())
    @blp.response(200, BatchDoneSchema)
    def post(self, args, migration_id):
        """Migrate the next `batch` planned cases, each in its own transaction (a case changed since the dry run is
        skipped); call again while `remaining` is above 0."""
        return case_migration_apply.apply_batch(services(), principal(), migration_id, args["batch"])


@blp.route("/<id:migration_id>/undo")
class Undo(MethodView):
    @calls(case_migration_apply.undo_batch)
    @blp.arguments(BatchSchema())
    @blp.response(200, BatchDoneSchema)
    def post(self, args, migration_id):
        """Undo the next `batch` migrated cases (those still at the version the migration wrote); call again while
        `left` is true."""
        return case_migration_apply.undo_batch(services(), principal(), migration_id, args["batch"])
