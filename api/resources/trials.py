"""Trial runs of drafts (a throwaway database per trial) and the guided fixes for diagrams from other tools."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.trials import (ApplyImportFixesSchema, ImportFixesQuerySchema, ImportFixesSchema, StartTrialSchema,
                                TrialChoicesSchema, TrialCompleteSchema, TrialMessageSchema, TrialSetupSchema,
                                TrialStateSchema)
from api.security import calls, principal, services
from engine.usecases import foreign_import, trial

blp = ApiBlueprint("trials", __name__, url_prefix="/api", description="Pruebas de borradores e importación")


@blp.route("/drafts/<name:process_key>/trial-setup")
class TrialSetup(MethodView):
    @calls(trial.trial_setup)
    @blp.response(200, TrialSetupSchema)
    def get(self, process_key):
        """What a trial of the draft asks first: its gateways and their ways out, the start form and example data."""
        return trial.trial_setup(services(), principal(), process_key)


@blp.route("/trials")
class Trials(MethodView):
    @calls(trial.start_trial)
    @blp.arguments(StartTrialSchema())
    @blp.response(201, TrialStateSchema)
    def post(self, body):
        """Start a trial of the saved draft in a throwaway database, with the gateways' chosen outcomes."""
        return trial.start_trial(services(), principal(), body["process_key"], body["data"], body["choices"],
                                 body["step_limit"])


@blp.route("/trials/<string:token>")
class Trial(MethodView):
    @calls(trial.trial_state)
    @blp.response(200, TrialStateSchema)
    def get(self, token):
        """Where the trial's case is: ready tasks, timers, messages it waits for, path, data, steps, problems."""
        return trial.trial_state(services(), principal(), token)

    @calls(trial.end_trial)
    @blp.response(204)
    def delete(self, token):
        """End the trial: its throwaway database is deleted."""
        trial.end_trial(services(), principal(), token)


@blp.route("/trials/<string:token>/tasks/<string:task_id>")
class TrialTask(MethodView):
    @calls(trial.trial_complete)
    @blp.arguments(TrialCompleteSchema())
    @blp.response(200, TrialStateSchema)
    def post(self, body, token, task_id):
        """Complete a ready task of the trial with data (checked by its form)."""
        return trial.trial_complete(services(), principal(), token, task_id, body["data"])


@blp.route("/trials/<string:token>/timers")
class TrialTimers(MethodView):
    @calls(trial.trial_fire_timers)
    @blp.response(200, TrialStateSchema)
    def post(self, token):
        """Fire the trial's next waiting timer now."""
        return trial.trial_fire_timers(services(), principal(), token)


@blp.route("/trials/<string:token>/messages")
class TrialMessages(MethodView):
    @calls(trial.trial_message)
    @blp.arguments(TrialMessageSchema())
    @blp.response(200, TrialStateSchema)
    def post(self, body, token):
        """Simulate a message (from another case or an institution) into the trial."""
        return trial.trial_message(services(), principal(), token, body["name"], body["correlation"],
                                   body["payload"])


@blp.route("/trials/<string:token>/choices")
class TrialChoices(MethodView):
    @calls(trial.trial_rechoose)
    @blp.arguments(TrialChoicesSchema())
    @blp.response(200, TrialStateSchema)
    def post(self, body, token):
        """Choose the gateways again: a new trial replays this one's data and steps as far as they apply (its
        token replaces this one's, which is deleted)."""
        return trial.trial_rechoose(services(), principal(), token, body["choices"])


@blp.route("/drafts/<name:process_key>/import-fixes")
class ImportFixes(MethodView):
    @calls(foreign_import.import_fixes_for)
    @blp.arguments(ImportFixesQuerySchema())
    @blp.response(200, ImportFixesSchema)
    def post(self, body, process_key):
        """The guided fixes a diagram from another tool needs (plain tasks, lanes, forms, JUEL/FEEL, the rest)."""
        return foreign_import.import_fixes_for(services(), principal(), process_key, body["xml"])


@blp.route("/drafts/<name:process_key>/import-fixes/apply")
class ApplyImportFixes(MethodView):
    @calls(foreign_import.apply_import_fixes)
    @blp.arguments(ApplyImportFixesSchema())
    @blp.response(200, ImportFixesSchema)
    def post(self, body, process_key):
        """The diagram with the chosen fixes applied (not saved) and the fixes it still needs."""
        return foreign_import.apply_import_fixes(services(), principal(), process_key, body["xml"], body["fixes"])
