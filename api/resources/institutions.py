"""Institutions that answer by link (admins keep them; everyone reads them)."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.institutions import (InstitutionCreateSchema, InstitutionQuerySchema, InstitutionSchema,
                                      InstitutionUpdateSchema)
from api.security import calls, principal, services
from engine.usecases import institution_records as records

blp = ApiBlueprint("institutions", __name__, url_prefix="/api/institutions",
                   description="Instituciones que responden por enlace")


@blp.route("")
class Institutions(MethodView):
    @calls(records.list_institutions)
    @blp.arguments(InstitutionQuerySchema(), location="query")
    @blp.response(200, InstitutionSchema(many=True))
    def get(self, args):
        """The institutions, by name."""
        return records.list_institutions(services(), principal(), args["active"])

    @calls(records.create_institution)
    @blp.arguments(InstitutionCreateSchema())
    @blp.response(201, InstitutionSchema)
    def post(self, args):
        """Add an institution the diagrams name by its key."""
        return records.create_institution(services(), principal(), **args)


@blp.route("/<name:key>")
class Institution(MethodView):
    @calls(records.get_institution)
    @blp.response(200, InstitutionSchema)
    def get(self, key):
        """One institution."""
        return records.get_institution(services(), principal(), key)

    @calls(records.update_institution)
    @blp.arguments(InstitutionUpdateSchema())
    @blp.response(200, InstitutionSchema)
    def patch(self, args, key):
        """Change its name, e-mail, contact, phone or whether it is active (its key never changes)."""
        return records.update_institution(services(), principal(), key, args)
