"""Forms of a draft: list, open, save (checked; 409 when stale), undo, and preview as the clerk will see them."""
from __future__ import annotations

from flask.views import MethodView

from api.openapi import ApiBlueprint
from api.schemas.draft_forms import (DraftFormListSchema, DraftFormSchema, FormPreviewSchema, PreviewFormSchema,
                                     SaveDraftFormSchema)
from api.security import calls, principal, services
from engine.usecases import draft_forms
from web.form_editor_pages import preview_html

blp = ApiBlueprint("draft_forms", __name__, url_prefix="/api/drafts", description="Formularios de los borradores")


@blp.route("/<name:process_key>/forms")
class DraftForms(MethodView):
    @calls(draft_forms.draft_form_list)
    @blp.response(200, DraftFormListSchema)
    def get(self, process_key):
        """The forms the draft's tasks name, and which were edited in the draft."""
        return draft_forms.draft_form_list(services(), principal(), process_key)


@blp.route("/<name:process_key>/forms/<name:form_key>")
class DraftForm(MethodView):
    @calls(draft_forms.get_draft_form)
    @blp.response(200, DraftFormSchema)
    def get(self, process_key, form_key):
        """The form as the draft has it: saved in the draft, else the base version's, else forms/'s."""
        return draft_forms.get_draft_form(services(), principal(), process_key, form_key)

    @calls(draft_forms.save_draft_form)
    @blp.arguments(SaveDraftFormSchema())
    @blp.response(200, DraftFormSchema)
    def put(self, body, process_key, form_key):
        """Save the draft's form; 400 naming each field of a schema the pages cannot draw or check, 409 when
        somebody saved it since `revision`. Publishing the draft pins it in the new version."""
        return draft_forms.save_draft_form(services(), principal(), process_key, form_key, body["schema"],
                                           body["revision"])

    @calls(draft_forms.discard_draft_form)
    @blp.response(204)
    def delete(self, process_key, form_key):
        """Undo the draft's changes to the form (it is the base version's again)."""
        draft_forms.discard_draft_form(services(), principal(), process_key, form_key)


@blp.route("/<name:process_key>/forms/<name:form_key>/preview")
class DraftFormPreview(MethodView):
    @calls(draft_forms.preview_problems)
    @blp.arguments(PreviewFormSchema())
    @blp.response(200, FormPreviewSchema)
    def post(self, body, process_key, form_key):
        """The schema being edited drawn as the task page draws it (the same code), or its problems."""
        problems = draft_forms.preview_problems(services(), principal(), body["schema"])
        return {"valid": not problems, "problems": problems, "html": "" if problems else preview_html(body["schema"])}
