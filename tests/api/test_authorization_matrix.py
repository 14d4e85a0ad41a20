"""Every endpoint of the URL map × every role × anonymous answers with the status this table says."""
from __future__ import annotations

import json

import pytest

import engine.integrity.keys
from api.resources import BLUEPRINTS
from api.security import permission_of
from engine.accounts.permissions import RULES
from engine.audit.checkpoints import create_checkpoint
from engine.config import PROJECT_ROOT
from engine.usecases.institution_records import seed_institutions
from tests.api import probes as p
from tests.api import trial_probes as tp
from tests.api import migration_probes as mp
from tests.api.conftest import PASSWORD, ROLE_USERS, Client, token_for

CALLERS = ("anonymous", "clerk", "supervisor", "auditor", "admin")
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}
T = "/api/tasks/{task}"
C = "/api/cases/{case}"
AUDIT_ONLY = (401, 403, 403, 200, 200)
OFFICE_FORM = json.loads((PROJECT_ROOT / "forms" / "solicitud_ciudadana.schema.json").read_text("utf-8"))

# (method, rule) -> (how to call it, expected status for anonymous, clerk, supervisor, auditor, admin).
# The call gets (ctx, username) and returns (path, request kwargs) for a fresh target of its own.
MATRIX = {
    ("GET", "/health"): (lambda x, u: (p.scheduler_alive(x.svc), {}), (200, 200, 200, 200, 200)),
    ("GET", "/static/<path:filename>"): (lambda x, u: ("/static/no-such-file.js", {}), (404, 404, 404, 404, 404)),
    ("GET", "/api/openapi.json"): (lambda x, u: ("/api/openapi.json", {}), (200, 200, 200, 200, 200)),
    ("GET", "/api/docs"): (lambda x, u: ("/api/docs", {}), (200, 200, 200, 200, 200)),
    ("GET", "/api/session"): (lambda x, u: ("/api/session", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/session"): (lambda x, u: ("/api/session", {"json": {"username": "oficial2", "password": PASSWORD}}),
                               (200, 200, 200, 200, 200)),
    ("DELETE", "/api/session"): (lambda x, u: ("/api/session", {}), (204, 204, 204, 204, 204)),
    ("GET", "/api/processes"): (lambda x, u: ("/api/processes", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/processes"): (lambda x, u: ("/api/processes", p.bpmn_upload()), (401, 403, 201, 403, 201)),
    ("POST", "/api/processes/validate"): (lambda x, u: ("/api/processes/validate", p.bpmn_upload()),
                                          (401, 403, 200, 403, 200)),
    ("GET", "/api/processes/<name:process_key>/versions"): (
        lambda x, u: ("/api/processes/five_step/versions", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/processes/<name:process_key>/versions/<id:number>/bpmn"): (
        lambda x, u: ("/api/processes/five_step/versions/1/bpmn", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/processes/<name:process_key>/versions/<id:old>/diff/<id:new>"): (
        lambda x, u: ("/api/processes/five_step/versions/1/diff/1", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/drafts"): (lambda x, u: ("/api/drafts", {}), (401, 403, 200, 403, 200)),
    ("POST", "/api/drafts"): (lambda x, u: ("/api/drafts", {"json": {"process_key": p.unique("nuevo_")}}),
                              (401, 403, 201, 403, 201)),
    ("GET", "/api/drafts/<name:process_key>"): (lambda x, u: (f"/api/drafts/{p.draft(x.svc)}", {}),
                                                (401, 403, 200, 403, 200)),
    ("PUT", "/api/drafts/<name:process_key>"): (
        lambda x, u: ((k := p.unique("guardado_")) and f"/api/drafts/{k}", {"json": {"xml": p.template_xml(k)}}),
        (401, 403, 200, 403, 200)),
    ("DELETE", "/api/drafts/<name:process_key>"): (lambda x, u: (f"/api/drafts/{p.draft(x.svc)}", {}),
                                                   (401, 403, 204, 403, 204)),
    ("GET", "/api/drafts/<name:process_key>/bpmn"): (lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/bpmn", {}),
                                                     (401, 403, 200, 403, 200)),
    ("GET", "/api/drafts/<name:process_key>/diff"): (lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/diff", {}),
                                                     (401, 403, 200, 403, 200)),
    ("POST", "/api/drafts/<name:process_key>/publish"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/publish", {"json": {"comment": "Primera versión"}}),
        (401, 403, 201, 403, 201)),
    # A new procedure's draft opens a table of processes/ by its file name (engine.usecases.decisions).
    # Trial runs of drafts (engine/usecases/trial.py) and guided fixes for imported diagrams (foreign_import.py).
    ("GET", "/api/drafts/<name:process_key>/trial-setup"): (
        lambda x, u: (f"/api/drafts/{tp.trial_draft(x.svc)}/trial-setup", {}), (401, 403, 200, 403, 200)),
    ("POST", "/api/trials"): (lambda x, u: ("/api/trials", {"json": {"process_key": tp.trial_draft(x.svc)}}),
                              (401, 403, 201, 403, 201)),
    ("GET", "/api/trials/<string:token>"): (lambda x, u: (tp.trial_path(x.svc, u), {}), (401, 403, 200, 403, 200)),
    ("DELETE", "/api/trials/<string:token>"): (lambda x, u: (tp.trial_path(x.svc, u), {}),
                                               (401, 403, 204, 403, 204)),
    ("POST", "/api/trials/<string:token>/tasks/<string:task_id>"): (
        lambda x, u: (tp.trial_task_path(x.svc, u), {"json": {"data": {"visto": True}}}), (401, 403, 200, 403, 200)),
    ("POST", "/api/trials/<string:token>/timers"): (
        lambda x, u: (tp.trial_path(x.svc, u, "/timers", timer=True), {}), (401, 403, 200, 403, 200)),
    ("POST", "/api/trials/<string:token>/choices"): (
        lambda x, u: (tp.trial_path(x.svc, u, "/choices"), {"json": {"choices": {}}}), (401, 403, 200, 403, 200)),
    ("POST", "/api/trials/<string:token>/messages"): (
        lambda x, u: (tp.trial_path(x.svc, u, "/messages"), {"json": {"name": "aviso", "correlation": {"expediente": "X-1"}}}),
        (401, 403, 200, 403, 200)),
    ("POST", "/api/drafts/<name:process_key>/import-fixes"): (
        lambda x, u: ("/api/drafts/importado/import-fixes", {"json": {"xml": tp.foreign_fix()["xml"]}}),
        (401, 403, 200, 403, 200)),
    ("POST", "/api/drafts/<name:process_key>/import-fixes/apply"): (
        lambda x, u: ("/api/drafts/importado/import-fixes/apply", {"json": tp.foreign_fix()}), (401, 403, 200, 403, 200)),
    ("GET", "/api/drafts/<name:process_key>/decisions"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/decisions", {}), (401, 403, 200, 403, 200)),
    ("GET", "/api/drafts/<name:process_key>/decisions/<name:file_name>"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/decisions/requisitos_licencia.dmn", {}),
        (401, 403, 200, 403, 200)),
    ("PUT", "/api/drafts/<name:process_key>/decisions/<name:file_name>"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/decisions/requisitos_licencia.dmn",
                      {"json": {"xml": (PROJECT_ROOT / "processes" / "requisitos_licencia.dmn").read_text("utf-8")}}),
        (401, 403, 200, 403, 200)),
    ("POST", "/api/drafts/<name:process_key>/decisions/<name:file_name>/try"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/decisions/requisitos_licencia.dmn/try",
                      {"json": {"values": {"entrada_tipo_licencia": "rifa_sorteo"}}}), (401, 403, 200, 403, 200)),
    # A new procedure's draft names the intake form solicitud_ciudadana (engine.usecases.draft_forms).
    ("GET", "/api/drafts/<name:process_key>/forms"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/forms", {}), (401, 403, 200, 403, 200)),
    ("GET", "/api/drafts/<name:process_key>/forms/<name:form_key>"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/forms/solicitud_ciudadana", {}), (401, 403, 200, 403, 200)),
    ("PUT", "/api/drafts/<name:process_key>/forms/<name:form_key>"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/forms/solicitud_ciudadana", {"json": {"schema": OFFICE_FORM}}),
        (401, 403, 200, 403, 200)),
    ("DELETE", "/api/drafts/<name:process_key>/forms/<name:form_key>"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/forms/solicitud_ciudadana", {}), (401, 403, 204, 403, 204)),
    ("POST", "/api/drafts/<name:process_key>/forms/<name:form_key>/preview"): (
        lambda x, u: (f"/api/drafts/{p.draft(x.svc)}/forms/solicitud_ciudadana/preview",
                      {"json": {"schema": OFFICE_FORM}}), (401, 403, 200, 403, 200)),
    ("GET", "/api/cases"): (lambda x, u: ("/api/cases", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/cases"): (lambda x, u: ("/api/cases", {"json": {"process_key": "five_step"}}),
                             (401, 201, 201, 403, 201)),
    ("GET", "/api/cases/<id:case_id>"): (lambda x, u: (f"/api/cases/{p.new_case(x.svc)}", {}),
                                         (401, 200, 200, 200, 200)),
    ("GET", "/api/cases/<id:case_id>/history"): (lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/history", {}),
                                                 (401, 200, 200, 200, 200)),
    ("GET", "/api/cases/<id:case_id>/data"): (lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/data", {}),
                                              (401, 200, 200, 200, 200)),
    ("GET", "/api/cases/<id:case_id>/deadlines"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/deadlines", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/cases/<id:case_id>/case-file"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/case-file", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/cases/<id:case_id>/case-file.pdf"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/case-file.pdf", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/cases/<id:case_id>/suspend"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/suspend", {"json": {"reason": "r"}}), (401, 403, 200, 403, 200)),
    ("POST", "/api/cases/<id:case_id>/resume"): (
        lambda x, u: (f"/api/cases/{p.suspended_case(x.svc)}/resume", {"json": {"reason": "r"}}),
        (401, 403, 200, 403, 200)),
    ("POST", "/api/cases/<id:case_id>/cancel"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/cancel", {"json": {"reason": "r"}}), (401, 403, 200, 403, 200)),
    ("POST", "/api/cases/<id:case_id>/move"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/move", {"json": {"element_id": "review", "reason": "r"}}),
        (401, 403, 200, 403, 200)),
    ("POST", "/api/cases/<id:case_id>/retry"): (
        lambda x, u: (f"/api/cases/{p.errored_case(x.svc)}/retry", {"json": {"data": {"amount": 1}}}),
        (401, 403, 200, 403, 200)),
    ("GET", "/api/cases/<id:case_id>/attachments"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/attachments", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/cases/<id:case_id>/attachments"): (
        lambda x, u: (f"/api/cases/{p.new_case(x.svc)}/attachments", p.pdf_upload()), (401, 201, 201, 403, 201)),
    ("GET", "/api/attachments/<id:attachment_id>"): (
        lambda x, u: (f"/api/attachments/{p.attachment(x.svc, x.store)}", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/attachments/<id:attachment_id>/content"): (
        lambda x, u: (f"/api/attachments/{p.attachment(x.svc, x.store)}/content", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/tasks/mine"): (lambda x, u: ("/api/tasks/mine", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/tasks/queue"): (lambda x, u: ("/api/tasks/queue", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/tasks/<uuid:task_id>"): (lambda x, u: (f"/api/tasks/{p.ready_task(x.svc)}", {}),
                                           (401, 200, 200, 200, 200)),
    ("GET", "/api/tasks/<uuid:task_id>/form"): (lambda x, u: (f"/api/tasks/{p.ready_task(x.svc)}/form", {}),
                                                (401, 200, 200, 200, 200)),
    ("POST", "/api/tasks/<uuid:task_id>/claim"): (lambda x, u: (f"/api/tasks/{p.ready_task(x.svc)}/claim", {}),
                                                  (401, 200, 200, 403, 200)),
    ("POST", "/api/tasks/<uuid:task_id>/release"): (
        lambda x, u: (f"/api/tasks/{p.claimed_task(x.svc, u or p.OWNER)}/release", {}), (401, 200, 200, 403, 200)),
    ("POST", "/api/tasks/<uuid:task_id>/assign"): (
        lambda x, u: (f"/api/tasks/{p.ready_task(x.svc)}/assign", {"json": {"username": "oficial2"}}),
        (401, 403, 200, 403, 200)),
    ("PUT", "/api/tasks/<uuid:task_id>/draft"): (
        lambda x, u: (f"/api/tasks/{p.ready_task(x.svc)}/draft", {"json": {"data": {"amount": 3}}}),
        (401, 200, 200, 403, 200)),
    ("POST", "/api/tasks/<uuid:task_id>/complete"): (
        lambda x, u: (f"/api/tasks/{p.ready_task(x.svc)}/complete", {"json": {"data": {"amount": 3}}}),
        (401, 200, 200, 403, 200)),
    ("POST", "/api/tasks/<uuid:task_id>/document-draft"): (
        lambda x, u: (f"/api/tasks/{p.certificate_task(x.svc)}/document-draft",
                      {"json": {"data": p.CERTIFICATE_DATA}}), (401, 200, 200, 403, 200)),
    ("GET", "/api/documents/<id:document_id>"): (
        lambda x, u: (f"/api/documents/{p.issued_document(x.svc)}", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/documents/<id:document_id>/content"): (
        lambda x, u: (f"/api/documents/{p.issued_document(x.svc)}/content", {}), (401, 200, 200, 200, 200)),
    ("GET", "/api/documents/<id:document_id>/correction-form"): (
        lambda x, u: (f"/api/documents/{p.issued_document(x.svc)}/correction-form", {}), (401, 403, 200, 403, 200)),
    ("POST", "/api/documents/<id:document_id>/corrections"): (
        lambda x, u: (f"/api/documents/{p.issued_document(x.svc)}/corrections",
                      {"json": {"changes": {"certificado_vigencia_hasta": "2030-01-13"}, "reason": "Fecha"}}),
        (401, 403, 201, 403, 201)),
    ("GET", "/api/users"): (lambda x, u: ("/api/users", {}), (401, 403, 200, 200, 200)),
    ("POST", "/api/users"): (lambda x, u: ("/api/users", {"json": {"username": p.unique("nuevo"), "role": "clerk",
                                                                   "password": "una-clave-larga"}}),
                             (401, 403, 403, 403, 201)),
    ("GET", "/api/users/<name:username>"): (lambda x, u: ("/api/users/oficial2", {}), (401, 403, 200, 200, 200)),
    ("PATCH", "/api/users/<name:username>"): (lambda x, u: ("/api/users/oficial2", {"json": {"display_name": "O2"}}),
                                              (401, 403, 403, 403, 200)),
    ("GET", "/api/groups"): (lambda x, u: ("/api/groups", {}), (401, 403, 200, 200, 200)),
    ("POST", "/api/groups"): (lambda x, u: ("/api/groups", {"json": {"name": p.unique("grupo")}}),
                              (401, 403, 403, 403, 201)),
    ("POST", "/api/users/<name:username>/password"): (
        lambda x, u: (f"/api/users/{p.spare_user(x.svc)}/password", {"json": {}}), (401, 403, 403, 403, 200)),
    ("POST", "/api/groups/<name:group>/members"): (
        lambda x, u: ("/api/groups/ventanilla/members", {"json": {"username": p.spare_user(x.svc)}}),
        (401, 403, 403, 403, 204)),
    ("DELETE", "/api/groups/<name:group>/members/<name:username>"): (
        lambda x, u: (f"/api/groups/ventanilla/members/{p.spare_user(x.svc, ['ventanilla'])}", {}),
        (401, 403, 403, 403, 204)),
    ("GET", "/api/lanes"): (lambda x, u: ("/api/lanes", {}), (401, 403, 200, 200, 200)),
    ("PUT", "/api/lanes"): (lambda x, u: ("/api/lanes", {"json": {"lane": "Despacho", "group": "despacho"}}),
                            (401, 403, 403, 403, 200)),
    ("GET", "/api/closures"): (lambda x, u: ("/api/closures", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/closures"): (lambda x, u: ("/api/closures", {"json": {"day": p.unique_day().isoformat(),
                                                                       "description": "Emergencia declarada"}}),
                                (401, 403, 403, 403, 201)),
    ("DELETE", "/api/closures/<isodate:day>"): (lambda x, u: (f"/api/closures/{p.closure_day(x.svc)}", {}),
                                                (401, 403, 403, 403, 204)),
    ("GET", "/api/tokens"): (lambda x, u: ("/api/tokens", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/tokens"): (lambda x, u: ("/api/tokens", {"json": {"name": "integración"}}),
                              (401, 201, 201, 201, 201)),
    ("DELETE", "/api/tokens/<id:token_id>"): (lambda x, u: (f"/api/tokens/{p.own_token_id(x.svc, u)}", {}),
                                              (401, 204, 204, 204, 204)),
    # Messages: supervisors and admins send them and look after those nothing took.
    ("POST", "/api/messages"): (lambda x, u: ("/api/messages", {"json": {"name": "nadie_lo_espera",
                                                                         "correlation": {"caso": 1}}}),
                                (401, 403, 202, 403, 202)),
    ("POST", "/api/signals"): (lambda x, u: ("/api/signals", {"json": {"name": "cierre_emergencia"}}),
                               (401, 403, 202, 403, 202)),
    ("GET", "/api/messages"): (lambda x, u: ("/api/messages", {}), (401, 403, 200, 403, 200)),
    ("GET", "/api/messages/<id:message_id>"): (lambda x, u: (f"/api/messages/{p.lost_message(x.svc)}", {}),
                                               (401, 403, 200, 403, 200)),
    ("POST", "/api/messages/<id:message_id>/retry"): (
        lambda x, u: (f"/api/messages/{p.lost_message(x.svc)}/retry", {}), (401, 403, 200, 403, 200)),
    ("POST", "/api/messages/<id:message_id>/discard"): (
        lambda x, u: (f"/api/messages/{p.lost_message(x.svc)}/discard", {"json": {"reason": "Duplicado"}}),
        (401, 403, 200, 403, 200)),
    # Institutions that answer by link: everyone reads them, admins keep them.
    ("GET", "/api/institutions"): (lambda x, u: ("/api/institutions", {}), (401, 200, 200, 200, 200)),
    ("POST", "/api/institutions"): (
        lambda x, u: ("/api/institutions", {"json": {"key": p.unique("inst_"), "name": "Ministerio Público",
                                                     "email": "fiscalia@example.org"}}), (401, 403, 403, 403, 201)),
    ("GET", "/api/institutions/<name:key>"): (lambda x, u: (f"/api/institutions/{institution(x.svc)}", {}),
                                              (401, 200, 200, 200, 200)),
    ("PATCH", "/api/institutions/<name:key>"): (
        lambda x, u: (f"/api/institutions/{institution(x.svc)}", {"json": {"phone": "7839-0000"}}),
        (401, 403, 403, 403, 200)),
    # The auditor's desk: auditors and admins only; a new case first, so every signing has events to sign (201).
    ("GET", "/api/audit/status"): (lambda x, u: ("/api/audit/status", {}), AUDIT_ONLY),
    ("GET", "/api/audit/public-key"): (lambda x, u: ("/api/audit/public-key", {}), AUDIT_ONLY),
    ("GET", "/api/audit/checkpoints"): (lambda x, u: ("/api/audit/checkpoints", {}), AUDIT_ONLY),
    ("POST", "/api/audit/checkpoints"): (lambda x, u: (p.new_case(x.svc) and "/api/audit/checkpoints", {}),
                                         (401, 403, 403, 201, 201)),
    ("GET", "/api/audit/checkpoints/latest"): (
        lambda x, u: (create_checkpoint(x.svc, force=True) and "/api/audit/checkpoints/latest", {}), AUDIT_ONLY),
    ("GET", "/api/audit/access-log"): (lambda x, u: ("/api/audit/access-log", {}), AUDIT_ONLY),
    ("GET", "/api/admin-log"): (lambda x, u: ("/api/admin-log?action=user", {}), AUDIT_ONLY),
    ("GET", "/api/audit/events"): (lambda x, u: ("/api/audit/events", {}), AUDIT_ONLY),
    ("GET", "/api/audit/cases/<id:case_id>/record"): (
        lambda x, u: (f"/api/audit/cases/{p.new_case(x.svc)}/record", {}), AUDIT_ONLY),
    ("GET", "/api/audit/cases/<id:case_id>/export"): (
        lambda x, u: (f"/api/audit/cases/{p.new_case(x.svc)}/export", {}), AUDIT_ONLY),
    ("GET", "/api/reports/heatmap"): (lambda x, u: ("/api/reports/heatmap?process_key=five_step", {}),
                                      (401, 403, 200, 200, 200)),
    ("GET", "/api/reports/laip"): (lambda x, u: ("/api/reports/laip?year=2026", {}), (401, 403, 200, 200, 200)),
    ("GET", "/api/reports/monthly"): (lambda x, u: ("/api/reports/monthly?month=2026-02", {}),
                                      (401, 403, 200, 200, 200)),
    ("GET", "/api/reports/cases"): (lambda x, u: ("/api/reports/cases?process_key=five_step", {}),
                                    (401, 403, 200, 200, 200)),
    ("GET", "/api/reports/cycle-times"): (lambda x, u: ("/api/reports/cycle-times", {}), (401, 403, 200, 200, 200)),
    ("GET", "/api/reports/deadlines"): (lambda x, u: ("/api/reports/deadlines", {}), (401, 403, 200, 200, 200)),
    ("GET", "/api/reports/workload"): (lambda x, u: ("/api/reports/workload", {}), (401, 403, 200, 200, 200)),
    # Migrating running cases to another version: supervisors and admins (tests/api/migration_probes.py).
    ("GET", "/api/migrations"): (lambda x, u: ("/api/migrations", {}), (401, 403, 200, 403, 200)),
    ("POST", "/api/migrations"): (lambda x, u: ("/api/migrations", mp.plan_body(x.svc)), (401, 403, 201, 403, 201)),
    ("GET", "/api/migrations/choices"): (lambda x, u: (mp.choices_path(x.svc), {}), (401, 403, 200, 403, 200)),
    ("GET", "/api/migrations/<id:migration_id>"): (lambda x, u: (f"/api/migrations/{mp.planned(x.svc)}", {}),
                                                   (401, 403, 200, 403, 200)),
    ("POST", "/api/migrations/<id:migration_id>/apply"): (
        lambda x, u: (f"/api/migrations/{mp.planned(x.svc)}/apply", {"json": {"batch": 10}}),
        (401, 403, 200, 403, 200)),
    ("POST", "/api/migrations/<id:migration_id>/undo"): (
        lambda x, u: (f"/api/migrations/{mp.applied(x.svc)}/undo", {"json": {}}), (401, 403, 200, 403, 200)),
}


def institution(svc) -> str:
    """The key of an institution that exists (the office's usual ones, created once)."""
    seed_institutions(svc)
    return "pnc"


# A clerk of another group (juridico1) asks for the cases, tasks and attachments of OWNER's group: those of the
# routes naming one that his role may use answer 404, as if they did not exist; the others refuse his role (403).
OUTSIDER = "juridico1"
OUTSIDER_STATUS = {
    ("POST", "/api/trials/<string:token>/tasks/<string:task_id>"): 403,  # a trial's task: supervisors only
    ("GET", "/api/cases/<id:case_id>"): 404,
    ("GET", "/api/cases/<id:case_id>/history"): 404,
    ("GET", "/api/cases/<id:case_id>/data"): 404,
    ("GET", "/api/cases/<id:case_id>/deadlines"): 404,
    ("GET", "/api/cases/<id:case_id>/case-file"): 404,
    ("GET", "/api/cases/<id:case_id>/case-file.pdf"): 404,
    ("POST", "/api/cases/<id:case_id>/suspend"): 403,
    ("POST", "/api/cases/<id:case_id>/resume"): 403,
    ("POST", "/api/cases/<id:case_id>/cancel"): 403,
    ("POST", "/api/cases/<id:case_id>/retry"): 403,
    ("POST", "/api/cases/<id:case_id>/move"): 403,
    ("GET", "/api/cases/<id:case_id>/attachments"): 404,
    ("POST", "/api/cases/<id:case_id>/attachments"): 404,
    ("GET", "/api/attachments/<id:attachment_id>"): 404,
    ("GET", "/api/attachments/<id:attachment_id>/content"): 404,
    ("GET", "/api/tasks/<uuid:task_id>"): 404,
    ("GET", "/api/tasks/<uuid:task_id>/form"): 404,
    ("POST", "/api/tasks/<uuid:task_id>/claim"): 404,
    ("POST", "/api/tasks/<uuid:task_id>/release"): 404,
    ("POST", "/api/tasks/<uuid:task_id>/assign"): 403,
    ("PUT", "/api/tasks/<uuid:task_id>/draft"): 404,
    ("POST", "/api/tasks/<uuid:task_id>/complete"): 404,
    ("POST", "/api/tasks/<uuid:task_id>/document-draft"): 404,
    ("GET", "/api/documents/<id:document_id>"): 404,
    ("GET", "/api/documents/<id:document_id>/content"): 404,
    ("GET", "/api/documents/<id:document_id>/correction-form"): 403,
    ("POST", "/api/documents/<id:document_id>/corrections"): 403,
    ("GET", "/api/audit/cases/<id:case_id>/record"): 403,
    ("GET", "/api/audit/cases/<id:case_id>/export"): 403,
}
NOT_FOUND_CODES = {"case_not_found", "task_not_found", "not_found"}


@pytest.fixture(autouse=True)
def office_key_in_tmp(monkeypatch, tmp_path):
    """The office key the audit rows sign with (the seeded services name none) lives in the test's folder."""
    monkeypatch.setattr(engine.integrity.keys, "DEFAULT_KEY_PATH", tmp_path / "audit.pem")


class Context:
    def __init__(self, app, svc):
        self.svc = svc
        self.store = app.extensions["expediente.attachments"]


def _routes(app) -> set[tuple[str, str]]:
    # The HTML pages (blueprints "pages" and "modeler_pages") check sessions themselves; tests/web covers them.
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            if not rule.endpoint.startswith(("pages.", "modeler_pages."))
            for method in rule.methods - AUTOMATIC_METHODS}


def test_every_route_of_the_app_has_a_row_in_the_matrix(app):
    routes = _routes(app)
    assert sorted(routes - MATRIX.keys()) == [], "add these endpoints to MATRIX"
    assert sorted(MATRIX.keys() - routes) == [], "these MATRIX rows match no endpoint any more"


def test_every_endpoint_answers_every_role_as_the_matrix_says(app, seeded):
    ctx = Context(app, seeded)
    # No cookie jar: the login row must not turn "anonymous" into a session for the rows after it.
    clients = {"anonymous": Client(app, cookies=False)}
    for role, username in ROLE_USERS.items():
        clients[role] = Client(app, token_for(seeded, username), cookies=False)
    wrong = []
    for (method, rule), (call, expected) in sorted(MATRIX.items()):
        for caller, status in zip(CALLERS, expected):
            path, kwargs = call(ctx, ROLE_USERS.get(caller))
            response = clients[caller].open(method, path, **kwargs)
            if response.status_code != status:
                wrong.append(f"{method} {rule} as {caller}: {response.status_code} (expected {status}) "
                             f"{(response.get_json(silent=True) or {}).get('detail', '')}")
    assert wrong == []


def test_every_api_view_declares_a_known_permission(app):
    undeclared = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/"):
                continue
            for method in rule.methods - AUTOMATIC_METHODS:
                action = permission_of(rule.endpoint, method)
                if action != "public" and action not in RULES:
                    undeclared.append(f"{method} {rule.rule}: {action}")
    assert undeclared == []


def test_every_permission_rule_is_used_by_some_view(app):
    with app.test_request_context():
        used = {permission_of(rule.endpoint, method) for rule in app.url_map.iter_rules()
                for method in rule.methods - AUTOMATIC_METHODS}
    assert sorted(set(RULES) - used) == []
    assert {b.name for b in BLUEPRINTS} >= {"cases", "tasks", "processes", "attachments", "users", "tokens"}


def names_one_case_task_or_attachment(rule: str) -> bool:
    return any(f"{name}>" in rule for name in ("case_id", "task_id", "attachment_id", "document_id"))


def test_every_endpoint_naming_a_case_task_or_attachment_has_an_outsider_row():
    naming = {key for key in MATRIX if names_one_case_task_or_attachment(key[1])}
    assert sorted(naming - OUTSIDER_STATUS.keys()) == [], "add these endpoints to OUTSIDER_STATUS"
    assert sorted(OUTSIDER_STATUS.keys() - naming) == [], "these OUTSIDER_STATUS rows name no case or task"


def test_a_clerk_of_another_group_finds_nothing_outside_his_reach(app, seeded):
    ctx = Context(app, seeded)
    outsider = Client(app, token_for(seeded, OUTSIDER), cookies=False)
    wrong = []
    for (method, rule), status in sorted(OUTSIDER_STATUS.items()):
        call, _expected = MATRIX[(method, rule)]
        path, kwargs = call(ctx, None)  # the target of OWNER's group (and, for a release, claimed by OWNER)
        response = outsider.open(method, path, **kwargs)
        code = (response.get_json(silent=True) or {}).get("code")
        if response.status_code != status or (status == 404 and code not in NOT_FOUND_CODES):
            wrong.append(f"{method} {rule}: {response.status_code} {code} (expected {status})")
    assert wrong == []


def test_lists_show_a_clerk_of_another_group_nothing_outside_his_reach(app, seeded):
    ctx = Context(app, seeded)
    task_path, _ = MATRIX[("GET", "/api/tasks/<uuid:task_id>")][0](ctx, None)
    task_id = task_path.rsplit("/", 1)[1]
    owner = Client(app, token_for(seeded, p.OWNER), cookies=False)
    outsider = Client(app, token_for(seeded, OUTSIDER), cookies=False)
    case_id = owner.get(task_path).get_json()["case_id"]

    def seen(client) -> tuple[set, set]:
        return ({c["id"] for c in client.get("/api/cases?per_page=100").get_json()["items"]},
                {t["id"] for t in client.get("/api/tasks/queue?limit=500").get_json()})

    assert seen(owner) == ({case_id}, {task_id})  # the lists do show them to his group
    assert seen(outsider) == (set(), set())
    assert outsider.get("/api/tasks/queue?group=ventanilla").status_code == 403
