"""Processes: the deployed procedures, their versions and diagrams; validating and deploying files."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView

from api.openapi import ApiBlueprint

from api.schemas.drafts import DiffSchema
from api.schemas.processes import (
    BundleFilesSchema, DeployedSchema, DeploySchema, ProcessSchema, ValidationResultSchema, VersionSchema,
)
from api.security import calls, principal, services
from engine.usecases import processes
from engine.errors import InvalidInput
from engine.messages import msg

blp = ApiBlueprint("processes", __name__, url_prefix="/api/processes", description="Procedimientos (BPMN)")


def _bundle(files) -> dict[str, bytes]:
    """Uploaded files by name, as the engine's parser wants them (it identifies documents by name)."""
    bundle = {}
    for i, upload in enumerate(files):
        filename = upload.filename or f"archivo{i + 1}.bpmn"
        if filename in bundle:
            raise InvalidInput(msg("Se enviaron dos archivos llamados «%(name)s».", name=filename),
                               errors=[{"field": "files", "message": filename}])
        bundle[filename] = upload.read()
    return bundle


@blp.route("")
class Processes(MethodView):
    @calls(processes.list_processes)
    @blp.response(200, ProcessSchema(many=True))
    def get(self):
        """Deployed processes with their latest version and open cases."""
        return processes.list_processes(services(), principal())

    @calls(processes.deploy_bundle)
    @blp.arguments(DeploySchema(), location="files")
    @blp.response(201, DeployedSchema(many=True))
    def post(self, form):
        """Deploy .bpmn/.dmn files: a new version for each process whose content changed."""
        return processes.deploy_bundle(services(), principal(), _bundle(form["files"]), form["comment"])


@blp.route("/validate")
class Validation(MethodView):
    @calls(processes.validate_bundle)
    @blp.arguments(BundleFilesSchema(), location="files")
    @blp.response(200, ValidationResultSchema)
    def post(self, files):
        """Parse and lint files without deploying; the problems say where and why."""
        return processes.validate_bundle(services(), principal(), _bundle(files["files"]))


@blp.route("/<name:process_key>/versions")
class Versions(MethodView):
    @calls(processes.process_versions)
    @blp.response(200, VersionSchema(many=True))
    def get(self, process_key):
        """Every version of a process with the number of cases still open on it."""
        return processes.process_versions(services(), principal(), process_key)


@blp.route("/<name:process_key>/versions/<id:number>/bpmn")
class Diagram(MethodView):
    @calls(processes.process_diagram)
    @blp.response(200, {"type": "string"}, content_type="application/xml")
    def get(self, process_key, number):
        """The BPMN XML of one version, as deployed."""
        return Response(processes.process_diagram(services(), principal(), process_key, number),
                        mimetype="application/xml")


@blp.route("/<name:process_key>/versions/<id:old>/diff/<id:new>")
class VersionDiff(MethodView):
    @calls(processes.diff_versions)
    @blp.response(200, DiffSchema)
    def get(self, process_key, old, new):
        """Elements added, removed and changed (with each changed field) from version `old` to `new`."""
        return processes.diff_versions(services(), principal(), process_key, old, new)
