"""The administration log: who changed which account, group, lane or closure day, and when."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.admin_log import AdminLogPageSchema, AdminLogQuerySchema
from api.security import calls, principal, services
from engine.usecases import admin_log

blp = ApiBlueprint("admin_log", __name__, url_prefix="/api/admin-log", description="Registro de administración")


@blp.route("")
class AdminLog(MethodView):
    @calls(admin_log.list_admin_log)
    @blp.arguments(AdminLogQuerySchema(), location="query")
    @blp.response(200, AdminLogPageSchema)
    def get(self, args):
        """A page of the administration log, the newest first, filtered by action (or its noun) and actor."""
        return admin_log.list_admin_log(services(), principal(), **args)
