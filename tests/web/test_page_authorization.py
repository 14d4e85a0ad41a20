"""Every page of the URL map × anonymous, every role and a clerk of another group answers as this table says.

The pages are driven only through HTTP (cases filed on the intake page, tasks claimed on the inbox's buttons),
so the table holds whatever use cases the pages call: it describes behaviour, not code.
"""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from engine.accounts.users import add_user
from engine.documents.codes import verification_code
from engine.storage import models
from engine.storage.documents import store_document
from engine.mail.notifications import outbox_rows
from engine.usecases import institution_records as records, institutions, online_filing
from tests.api import trial_probes as tp
from tests.api.probes import closure_day, issued_document, lost_message, unique, unique_day
from tests.api import migration_probes as mp
from tests.integration.test_online_filing import laip as filing_intake
from tests.processes.licencia_walk import DPI_ANA, intake
from tests.web.conftest import PASSWORD, as_form, csrf_of, login

CALLERS = ("anonymous", "clerk", "supervisor", "auditor", "admin", "outsider")
# The clerk works the ventanilla group, where every case filed here starts (emitir_constancia); the outsider is a
# clerk of another group: for him the cases and tasks of ventanilla do not exist.
USERS = {"clerk": "ventanilla1", "supervisor": "supervisor1", "auditor": "auditor1", "admin": "admin",
         "outsider": "juridico1"}
FILER = "ventanilla2"  # files the cases the rows act on (so the clerk reaches them through his group only)
LOGIN = "login"  # a 302 to the login page
MOVED = "moved"  # a 302 anywhere but the login page: what an allowed POST (or a language switch) answers
NOT_PAGES = ("/api/", "/static/", "/health")
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}


class Office:
    """Fresh targets for one request each, made through the pages as the clerks would."""

    def __init__(self, app, svc):
        self.app, self.svc, self._clients = app, svc, {}

    def client(self, username: str):
        if username not in self._clients:
            self._clients[username] = signed_in(self.app, username)
        return self._clients[username]

    def case(self) -> int:
        filer = self.client(FILER)
        page = filer.get("/expedientes/nuevo/licencia").get_data(as_text=True)
        filed = filer.post("/expedientes/nuevo/licencia", data={**as_form(intake()), "csrf_token": csrf_of(page)})
        assert filed.status_code == 302, filed.get_data(as_text=True)[:300]
        return int(re.search(r"/expedientes/(\d+)/constancia", filed.location).group(1))

    def task(self) -> str:
        """The ready task of a new case (emitir_constancia, group ventanilla)."""
        with self.svc.uow(write=False) as uow:
            return uow.conn.execute(select(models.tasks.c.id).where(models.tasks.c.case_id == self.case(),
                                                                    models.tasks.c.state == "ready")).scalar_one()

    def claimed_task(self, username: str) -> str:
        task_id = self.task()
        holder = self.client(username)
        token = csrf_of(holder.get("/entrar").get_data(as_text=True))
        assert holder.post(f"/tareas/{task_id}/tomar", data={"csrf_token": token}).status_code == 302
        with self.svc.uow(write=False) as uow:
            assert uow.conn.execute(select(models.tasks.c.assignee)
                                    .where(models.tasks.c.id == task_id)).scalar_one() == username
        return task_id


def stored_document(office: Office) -> str:
    """The verification code of a citizen's document stored once for the /verificar rows (public pages)."""
    if not hasattr(office, "document_code"):
        case_id, code = office.case(), verification_code()
        with office.svc.uow() as uow:
            store_document(uow.conn, case_id=case_id, task_id=None, kind="resolucion", number=None, year=None,
                           code=code, pdf=DOCUMENT_PDF, pages=1, issued_at=office.svc.clock(), issued_by=None,
                           citizen_facing=True)
            uow.commit()
        office.document_code = code
    return office.document_code


DOCUMENT_PDF = b"%PDF-1.7\n% verificar\n%%EOF\n"


def tracked(office: Office, purpose: str = "consulta") -> dict:
    """The tracking code and second factor of a case filed once per purpose for the /consulta rows (public pages;
    one case each, so no row spends another's attempts on its code)."""
    cache = office.__dict__.setdefault("tracked", {})
    if purpose not in cache:
        case_id = office.case()
        with office.svc.uow(write=False) as uow:
            code = uow.conn.execute(select(models.cases.c.tracking_code)
                                    .where(models.cases.c.id == case_id)).scalar_one()
        cache[purpose] = {"codigo": code, "dato": DPI_ANA[-4:]}
    return cache[purpose]


def pending_filing(office: Office) -> str:
    """The confirmation token of a new online filing (each call its own client and address, below the limits)."""
    office.filings = getattr(office, "filings", 0) + 1
    n = office.filings
    store = office.app.extensions["expediente.attachments"]
    online_filing.submit_filing(office.svc, store, "solicitud_ciudadana", filing_intake(correo=f"fila{n}@example.gt"),
                                [], f"matrix-{n}")
    [body] = [m["body"] for m in outbox_rows(office.svc) if m["kind"] == "confirmar_solicitud"
              and m["to_address"] == f"fila{n}@example.gt"]
    return re.search(r"/tramites/confirmar/(\S+)", body).group(1)


def reply_token(office: Office) -> str:
    """The token of the link of a new request to the PNC (each call its own, so no row answers another's)."""
    records.seed_institutions(office.svc)
    case_id = office.case()
    with office.svc.uow() as uow:
        asked = institutions.request_reply(office.svc, uow.conn, case_id=case_id, institution_key="pnc",
                                           message_name="opinion_pnc", due_days=5, now=office.svc.clock())
        uow.commit()
    return asked["link"].rsplit("/", 1)[1]


def document_id(office: Office) -> int:
    """The id of the document stored_document stored (in a case the clerk's group reaches, the outsider's not)."""
    code = stored_document(office)
    with office.svc.uow(write=False) as uow:
        return uow.conn.execute(select(models.documents.c.id)
                                .where(models.documents.c.verification_code == code)).scalar_one()


def spare_user(office: Office, groups=()) -> str:
    """A new clerk account for one row to change (deactivate, reset, move between groups)."""
    username = unique("repuesto")
    add_user(office.svc, username, "clerk", PASSWORD, groups=list(groups))
    return username


def mine_or_the_clerks(username: str | None) -> str:
    """Who holds the task a release row gives back: the caller, if he may hold one; else the group's clerk."""
    return username if username in (USERS["clerk"], USERS["supervisor"], USERS["admin"]) else USERS["clerk"]


def bulk_reassign(office: Office) -> dict:
    """The supervision list's form reassigning a new unclaimed task of ventanilla to the group's clerk."""
    task_id = office.task()
    return {"grupo": "ventanilla", "accion": "reasignar", "asignar_a": USERS["clerk"], "tarea": task_id,
            f"titular-{task_id}": ""}


def decision_draft(office: Office) -> str:
    """A new procedure's draft, whose decision tables open from processes/ (engine.usecases.decisions)."""
    from engine.usecases.drafts import create_draft
    from tests.conftest import principal_for
    key = unique("decisiones_")
    create_draft(office.svc, principal_for("supervisor1", "supervisor"), key, "Prueba de tablas")
    return key


def case_operation(office: Office, action: str, claimed: bool = False, **form) -> tuple[str, dict]:
    """The case page's operations form `action` (web/case_operation_pages.py) on a new case, with the version the
    page would show and its task (`tarea`, claimed by the clerk when asked)."""
    task_id = office.claimed_task(USERS["clerk"]) if claimed else office.task()
    with office.svc.uow(write=False) as uow:
        case_id, version = uow.conn.execute(
            select(models.cases.c.id, models.cases.c.version).join(models.tasks)
            .where(models.tasks.c.id == task_id)).one()
    return f"/expedientes/{case_id}/{action}", {"tarea": task_id, "version": str(version), **form}


COMPLETION = {"constancia_entrega": "ventanilla", "constancia_folios": "12"}
# (method, rule, what) -> (how to call it, expected for anonymous, clerk, supervisor, auditor, admin, outsider).
# The call gets (office, username or None) and returns (path, form or None); the form gets the session's CSRF
# token. The outsider's column is None where the page names no case or task.
MATRIX = {
    ("GET", "/", "home"): (lambda o, u: ("/", None), (LOGIN, MOVED, MOVED, MOVED, MOVED, None)),
    ("GET", "/entrar", "login page"): (lambda o, u: ("/entrar", None), (200, 200, 200, 200, 200, None)),
    ("POST", "/entrar", "log in"): (
        lambda o, u: ("/entrar", {"username": u or USERS["clerk"], "password": PASSWORD}),
        (MOVED, MOVED, MOVED, MOVED, MOVED, None)),
    ("POST", "/salir", "log out"): (lambda o, u: ("/salir", {}), (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, None)),
    ("GET", "/idioma/<lang>", "language"): (lambda o, u: ("/idioma/es_GT", None),
                                            (MOVED, MOVED, MOVED, MOVED, MOVED, None)),
    ("GET", "/bandeja", "inbox"): (lambda o, u: ("/bandeja", None), (LOGIN, 200, 200, 200, 200, None)),
    ("GET", "/expedientes", "cases"): (lambda o, u: ("/expedientes", None), (LOGIN, 200, 200, 200, 200, None)),
    ("GET", "/expedientes/<int:case_id>", "case"): (lambda o, u: (f"/expedientes/{o.case()}", None),
                                                    (LOGIN, 200, 200, 200, 200, 404)),
    ("GET", "/expedientes/<int:case_id>/constancia", "receipt"): (
        lambda o, u: (f"/expedientes/{o.case()}/constancia", None), (LOGIN, 200, 200, 200, 200, 404)),
    ("GET", "/expedientes/<int:case_id>/constancia.pdf", "receipt as PDF"): (
        lambda o, u: (f"/expedientes/{o.case()}/constancia.pdf", None), (LOGIN, 200, 200, 200, 200, 404)),
    ("GET", "/expedientes/<int:case_id>/expediente.pdf", "case file as PDF"): (
        lambda o, u: (f"/expedientes/{o.case()}/expediente.pdf", None), (LOGIN, 200, 200, 200, 200, 404)),
    ("POST", "/expedientes/<int:case_id>/operaciones/reasignar", "reassign a task from the case page"): (
        lambda o, u: case_operation(o, "operaciones/reasignar", usuario=FILER), (LOGIN, 403, MOVED, 403, MOVED, 403)),
    ("POST", "/expedientes/<int:case_id>/operaciones/liberar", "release a task from the case page"): (
        lambda o, u: case_operation(o, "operaciones/liberar", claimed=True), (LOGIN, 403, MOVED, 403, MOVED, 403)),
    ("POST", "/expedientes/<int:case_id>/operaciones/<any(suspender, reanudar):accion>", "suspend a case"): (
        lambda o, u: case_operation(o, "operaciones/suspender", motivo="Falta un dictamen"),
        (LOGIN, 403, MOVED, 403, MOVED, 403)),
    ("POST", "/expedientes/<int:case_id>/operaciones/anular", "cancel a case (confirmed)"): (
        lambda o, u: case_operation(o, "operaciones/anular", motivo="Duplicado", confirmar="si"),
        (LOGIN, 403, MOVED, 403, MOVED, 403)),
    # A running case is not in error: managers reach the use case, which refuses (409); the others their role.
    ("POST", "/expedientes/<int:case_id>/operaciones/reintentar", "retry an errored case"): (
        lambda o, u: case_operation(o, "operaciones/reintentar"), (LOGIN, 403, 409, 403, 409, 403)),
    ("GET", "/expedientes/<int:case_id>/mover", "preview moving a case to another step"): (
        lambda o, u: (f"/expedientes/{o.case()}/mover?paso=elaborar_dictamen", None),
        (LOGIN, 403, 200, 403, 200, 403)),
    ("POST", "/expedientes/<int:case_id>/mover", "move a case to another step"): (
        lambda o, u: case_operation(o, "mover", paso="elaborar_dictamen", motivo="Papel"),
        (LOGIN, 403, MOVED, 403, MOVED, 403)),
    ("GET", "/documentos/<int:document_id>.pdf", "an issued document's PDF"): (
        lambda o, u: (f"/documentos/{document_id(o)}.pdf", None), (LOGIN, 200, 200, 200, 200, 404)),
    ("GET", "/documentos/<int:document_id>/corregir", "correct a document: the form"): (
        lambda o, u: (f"/documentos/{document_id(o)}/corregir", None), (LOGIN, 403, 200, 403, 200, 403)),
    ("POST", "/documentos/<int:document_id>/corregir", "correct a document"): (
        lambda o, u: (f"/documentos/{issued_document(o.svc)}/corregir", {"motivo": "Fecha equivocada"}),
        (LOGIN, 403, MOVED, 403, MOVED, 403)),
    ("GET", "/expedientes/nuevo", "procedures"): (lambda o, u: ("/expedientes/nuevo", None),
                                                  (LOGIN, 200, 200, 403, 200, None)),
    ("GET", "/expedientes/nuevo/<process_key>", "intake form"): (
        lambda o, u: ("/expedientes/nuevo/licencia", None), (LOGIN, 200, 200, 403, 200, None)),
    ("POST", "/expedientes/nuevo/<process_key>", "file a case"): (
        lambda o, u: ("/expedientes/nuevo/licencia", as_form(intake())), (LOGIN, MOVED, MOVED, 403, MOVED, None)),
    ("GET", "/tareas/<uuid:task_id>", "task"): (lambda o, u: (f"/tareas/{o.task()}", None),
                                                (LOGIN, 200, 200, 200, 200, 404)),
    ("POST", "/tareas/<uuid:task_id>", "complete"): (lambda o, u: (f"/tareas/{o.task()}", COMPLETION),
                                                     (LOGIN, MOVED, MOVED, 403, MOVED, 404)),
    ("POST", "/tareas/<uuid:task_id>", "save a draft"): (
        lambda o, u: (f"/tareas/{o.task()}", {"accion": "borrador", "constancia_folios": "7"}),
        (LOGIN, MOVED, MOVED, 403, MOVED, 404)),
    ("POST", "/tareas/<uuid:task_id>/tomar", "claim"): (lambda o, u: (f"/tareas/{o.task()}/tomar", {}),
                                                        (LOGIN, MOVED, MOVED, 403, MOVED, 404)),
    ("POST", "/tareas/<uuid:task_id>/liberar", "release"): (
        lambda o, u: (f"/tareas/{o.claimed_task(mine_or_the_clerks(u))}/liberar", {}),
        (LOGIN, MOVED, MOVED, 403, MOVED, 404)),
    ("GET", "/verificar", "verification form"): (lambda o, u: ("/verificar", None), (200, 200, 200, 200, 200, None)),
    ("GET", "/verificar/<code>", "verification"): (lambda o, u: (f"/verificar/{stored_document(o)}", None),
                                                  (200, 200, 200, 200, 200, None)),
    ("GET", "/verificar/<code>/pdf", "verified PDF"): (
        lambda o, u: (f"/verificar/{stored_document(o)}/pdf", None), (200, 200, 200, 200, 200, None)),
    ("POST", "/verificar/<code>", "compare an upload"): (
        lambda o, u: (f"/verificar/{stored_document(o)}", {"archivo": (io.BytesIO(DOCUMENT_PDF), "copia.pdf")}),
        (200, 200, 200, 200, 200, None)),
    ("GET", "/consulta", "tracking form"): (lambda o, u: ("/consulta", None), (200, 200, 200, 200, 200, None)),
    ("POST", "/consulta", "follow a case"): (lambda o, u: ("/consulta", tracked(o)), (200, 200, 200, 200, 200, None)),
    # The case waits on no answer from the citizen (its first task is the clerk's): refused alike for everyone.
    ("POST", "/consulta/respuesta", "answer a previo"): (
        lambda o, u: ("/consulta/respuesta",
                      {**tracked(o, "respuesta"), "archivos": (io.BytesIO(DOCUMENT_PDF), "a.pdf")}),
        (409, 409, 409, 409, 409, None)),
    ("GET", "/tramites", "online procedures"): (lambda o, u: ("/tramites", None), (200, 200, 200, 200, 200, None)),
    ("GET", "/tramites/<process_key>", "online filing form"): (
        lambda o, u: ("/tramites/solicitud_ciudadana", None), (200, 200, 200, 200, 200, None)),
    ("POST", "/tramites/<process_key>", "send an online filing"): (  # refused whole: counts against no limit
        lambda o, u: ("/tramites/solicitud_ciudadana", {"asunto": "x"}), (422, 422, 422, 422, 422, None)),
    ("GET", "/tramites/confirmar/<token>", "confirmation button"): (
        lambda o, u: (f"/tramites/confirmar/{pending_filing(o)}", None), (200, 200, 200, 200, 200, None)),
    ("POST", "/tramites/confirmar/<token>", "confirm an online filing"): (
        lambda o, u: (f"/tramites/confirmar/{pending_filing(o)}", {}), (200, 200, 200, 200, 200, None)),
    ("GET", "/responder/<token>", "an institution's reply form"): (
        lambda o, u: (f"/responder/{reply_token(o)}", None), (200, 200, 200, 200, 200, None)),
    ("POST", "/responder/<token>", "an institution's reply"): (
        lambda o, u: (f"/responder/{reply_token(o)}", {"respuesta": "Sin objeción."}), (200, 200, 200, 200, 200, None)),
    ("GET", "/auditoria", "audit search"): (lambda o, u: ("/auditoria", None), (LOGIN, 403, 403, 200, 200, None)),
    ("GET", "/auditoria/expedientes/<int:case_id>", "a case's audit record"): (
        lambda o, u: (f"/auditoria/expedientes/{o.case()}", None), (LOGIN, 403, 403, 200, 200, 403)),
    ("GET", "/auditoria/expedientes/<int:case_id>/exportar.zip", "a case's verifiable export"): (
        lambda o, u: (f"/auditoria/expedientes/{o.case()}/exportar.zip", None), (LOGIN, 403, 403, 200, 200, 404)),
    ("GET", "/auditoria/eventos.csv", "events found, as CSV"): (
        lambda o, u: ("/auditoria/eventos.csv", None), (LOGIN, 403, 403, 200, 200, None)),
    ("GET", "/auditoria/eventos.json", "events found, as JSON"): (
        lambda o, u: ("/auditoria/eventos.json", None), (LOGIN, 403, 403, 200, 200, None)),
    ("GET", "/auditoria/integridad", "integrity"): (lambda o, u: ("/auditoria/integridad", None),
                                                    (LOGIN, 403, 403, 200, 200, None)),
    ("POST", "/auditoria/integridad/punto-de-control", "sign a checkpoint"): (
        lambda o, u: ("/auditoria/integridad/punto-de-control", {}), (LOGIN, 403, 403, MOVED, MOVED, None)),
    ("GET", "/auditoria/accesos", "access log"): (lambda o, u: ("/auditoria/accesos", None),
                                                  (LOGIN, 403, 403, 200, 200, None)),
    ("GET", "/mensajes", "messages"): (lambda o, u: ("/mensajes", None), (LOGIN, 403, 200, 403, 200, None)),
    ("POST", "/mensajes/<int:message_id>/reintentar", "retry a message"): (
        lambda o, u: (f"/mensajes/{lost_message(o.svc)}/reintentar", {}), (LOGIN, 403, MOVED, 403, MOVED, None)),
    ("POST", "/mensajes/<int:message_id>/descartar", "discard a message"): (
        lambda o, u: (f"/mensajes/{lost_message(o.svc)}/descartar", {"motivo": "Duplicado"}),
        (LOGIN, 403, MOVED, 403, MOVED, None)),
    ("GET", "/supervision", "supervision: open tasks per group and clerk"): (
        lambda o, u: ("/supervision", None), (LOGIN, 403, 200, 403, 200, None)),
    ("GET", "/supervision/tareas", "supervision: a group's open tasks"): (
        lambda o, u: ("/supervision/tareas?grupo=ventanilla", None), (LOGIN, 403, 200, 403, 200, None)),
    ("POST", "/supervision/tareas", "supervision: reassign the tasks chosen"): (
        lambda o, u: ("/supervision/tareas", bulk_reassign(o)), (LOGIN, 403, 200, 403, 200, None)),
    # Migrating running cases to another version (web/migration_pages.py): supervisors and administrators.
    ("GET", "/migraciones/<name:process_key>", "migration: a procedure's versions and migrations"): (
        lambda o, u: (mp.five_step_versions(o.svc) and "/migraciones/five_step", None),
        (LOGIN, 403, 200, 403, 200, None)),
    ("GET", "/migraciones/<name:process_key>/nueva", "migration: the mapping table and the filters"): (
        lambda o, u: (mp.new_page(o.svc), None), (LOGIN, 403, 200, 403, 200, None)),
    ("POST", "/migraciones/<name:process_key>/nueva", "migration: simulate (the dry run)"): (
        lambda o, u: ("/migraciones/five_step/nueva", mp.simulate_form(o.svc)), (LOGIN, 403, MOVED, 403, MOVED, None)),
    ("GET", "/migracion/<id:migration_id>", "migration: its dry run and results"): (
        lambda o, u: (f"/migracion/{mp.planned(o.svc)}", None), (LOGIN, 403, 200, 403, 200, None)),
    ("POST", "/migracion/<id:migration_id>/aplicar", "migration: apply a batch"): (
        lambda o, u: (f"/migracion/{mp.planned(o.svc)}/aplicar", {}), (LOGIN, 403, MOVED, 403, MOVED, None)),
    ("POST", "/migracion/<id:migration_id>/deshacer", "migration: undo"): (
        lambda o, u: (f"/migracion/{mp.applied(o.svc)}/deshacer", {}), (LOGIN, 403, MOVED, 403, MOVED, None)),
    # The general reports (web/report_pages.py): supervisors, auditors and administrators.
    ("GET", "/informes", "reports: the index"): (lambda o, u: ("/informes", None), (LOGIN, 403, 200, 200, 200, None)),
    ("GET", "/informes/<any(casos, tiempos, plazos, carga):name>", "reports: one general report"): (
        lambda o, u: ("/informes/casos", None), (LOGIN, 403, 200, 200, 200, None)),
    ("GET", "/informes/<any(casos, tiempos, plazos, carga):name>.<any(csv, xlsx, pdf):fmt>", "reports: a download"): (
        lambda o, u: ("/informes/plazos.csv?tabla=1", None), (LOGIN, 403, 200, 200, 200, None)),
    ("GET", "/informes/mapa-de-calor", "reports: the diagram as a heat map"): (
        lambda o, u: ("/informes/mapa-de-calor", None), (LOGIN, 403, 200, 200, 200, None)),
    ("GET", "/informes/laip", "reports: the LAIP annual report"): (
        lambda o, u: ("/informes/laip?anio=2026", None), (LOGIN, 403, 200, 200, 200, None)),
    ("GET", "/informes/mensual", "reports: the monthly summary for the ministry"): (
        lambda o, u: ("/informes/mensual?mes=2026-02", None), (LOGIN, 403, 200, 200, 200, None)),
    # The administrator's pages (web/admin_pages.py, web/admin_org_pages.py): supervisors and auditors read the
    # accounts, groups and lanes; everyone reads the closure days; the auditor reads the administration log.
    ("GET", "/admin", "administration home"): (lambda o, u: ("/admin", None), (LOGIN, 403, 403, 403, 200, None)),
    ("GET", "/usuarios", "users (old address)"): (lambda o, u: ("/usuarios", None),
                                                  (LOGIN, MOVED, MOVED, MOVED, MOVED, None)),
    ("GET", "/admin/usuarios", "users"): (lambda o, u: ("/admin/usuarios", None), (LOGIN, 403, 200, 200, 200, None)),
    ("POST", "/admin/usuarios", "create a user"): (
        lambda o, u: ("/admin/usuarios", {"usuario": unique("cuenta"), "rol": "clerk", "grupos": "ventanilla"}),
        (LOGIN, 403, 403, 403, 200, None)),
    ("GET", "/admin/usuarios/<username>", "a user"): (lambda o, u: ("/admin/usuarios/ventanilla2", None),
                                                  (LOGIN, 403, 200, 200, 200, None)),
    ("POST", "/admin/usuarios/<username>", "edit a user"): (
        lambda o, u: (f"/admin/usuarios/{spare_user(o)}", {"version": "x", "rol": "clerk", "nombre": "N"}),
        (LOGIN, 403, 403, 403, MOVED, None)),
    ("POST", "/admin/usuarios/<username>/estado", "deactivate a user"): (
        lambda o, u: (f"/admin/usuarios/{spare_user(o)}/estado", {"activo": "0"}), (LOGIN, 403, 403, 403, MOVED, None)),
    ("POST", "/admin/usuarios/<username>/contrasena", "reset a password"): (
        lambda o, u: (f"/admin/usuarios/{spare_user(o)}/contrasena", {}), (LOGIN, 403, 403, 403, 200, None)),
    ("POST", "/admin/usuarios/<username>/desbloquear", "unlock a user"): (
        lambda o, u: (f"/admin/usuarios/{spare_user(o)}/desbloquear", {}), (LOGIN, 403, 403, 403, MOVED, None)),
    ("GET", "/admin/grupos", "groups"): (lambda o, u: ("/admin/grupos", None), (LOGIN, 403, 200, 200, 200, None)),
    ("POST", "/admin/grupos", "create a group"): (
        lambda o, u: ("/admin/grupos", {"nombre": unique("grupo"), "descripcion": "Prueba"}),
        (LOGIN, 403, 403, 403, MOVED, None)),
    ("POST", "/admin/grupos/<group>/miembros", "add a member"): (
        lambda o, u: ("/admin/grupos/tramite/miembros", {"usuario": spare_user(o)}),
        (LOGIN, 403, 403, 403, MOVED, None)),
    ("POST", "/admin/grupos/<group>/miembros/<username>/quitar", "remove a member"): (
        lambda o, u: (f"/admin/grupos/tramite/miembros/{spare_user(o, ['tramite'])}/quitar", {}),
        (LOGIN, 403, 403, 403, MOVED, None)),
    ("GET", "/admin/carriles", "lanes"): (lambda o, u: ("/admin/carriles", None), (LOGIN, 403, 200, 200, 200, None)),
    ("POST", "/admin/carriles", "map a lane"): (
        lambda o, u: ("/admin/carriles", {"carril": unique("Carril "), "grupo": "tramite", "procedimiento": ""}),
        (LOGIN, 403, 403, 403, MOVED, None)),
    ("GET", "/admin/cierres", "closure days"): (lambda o, u: ("/admin/cierres?anio=2030", None),
                                                (LOGIN, 200, 200, 200, 200, None)),
    ("POST", "/admin/cierres", "add a closure day"): (
        lambda o, u: ("/admin/cierres", {"dia": unique_day().isoformat(), "motivo": "Emergencia"}),
        (LOGIN, 403, 403, 403, MOVED, None)),
    ("POST", "/admin/cierres/<day>/quitar", "remove a closure day"): (
        lambda o, u: (f"/admin/cierres/{closure_day(o.svc)}/quitar", {}), (LOGIN, 403, 403, 403, MOVED, None)),
    ("GET", "/admin/registro", "administration log"): (lambda o, u: ("/admin/registro", None),
                                                       (LOGIN, 403, 403, 200, 200, None)),
    ("GET", "/modelador", "modeler"): (lambda o, u: ("/modelador", None), (LOGIN, 403, 200, 403, 200, None)),
    ("GET", "/modelador/<name:process_key>", "editor"): (lambda o, u: ("/modelador/licencia", None),
                                                         (LOGIN, 403, 200, 403, 200, None)),
    ("GET", "/modelador/<name:process_key>/prueba", "trial of a draft"): (
        lambda o, u: ("/modelador/licencia/prueba", None), (LOGIN, 403, 200, 403, 200, None)),
    ("GET", "/modelador/<name:process_key>/prueba/<string:token>/tarea/<string:task_id>", "a trial's task form"): (
        lambda o, u: (tp.trial_task_page(o.svc, u), None), (LOGIN, 403, 200, 403, 200, 403)),
    ("POST", "/modelador/<name:process_key>/prueba/<string:token>/tarea/<string:task_id>", "complete a trial's task"): (
        lambda o, u: (tp.trial_task_page(o.svc, u), {}), (LOGIN, 403, MOVED, 403, MOVED, 403)),
    ("GET", "/modelador/<name:process_key>/decisiones", "decision tables of a draft"): (
        lambda o, u: ("/modelador/licencia/decisiones", None), (LOGIN, 403, 200, 403, 200, None)),
    ("GET", "/modelador/<name:process_key>/decisiones/<name:file_name>", "decision table editor"): (
        lambda o, u: (f"/modelador/{decision_draft(o)}/decisiones/requisitos_licencia.dmn", None),
        (LOGIN, 403, 200, 403, 200, None)),
    ("GET", "/modelador/<name:process_key>/formularios", "forms of a draft"): (
        lambda o, u: ("/modelador/licencia/formularios", None), (LOGIN, 403, 200, 403, 200, None)),
    ("POST", "/modelador/<name:process_key>/formularios", "open a draft to edit its forms"): (
        lambda o, u: ("/modelador/correspondencia_oficial/formularios", {}), (LOGIN, 403, MOVED, 403, MOVED, None)),
    ("GET", "/modelador/<name:process_key>/formularios/<name:form_key>", "form editor"): (
        lambda o, u: (f"/modelador/{decision_draft(o)}/formularios/solicitud_ciudadana", None),
        (LOGIN, 403, 200, 403, 200, None)),
}


@pytest.fixture(scope="module")
def office(web_office):
    """The web office, with a supervisor and an administrator beside its clerks and auditor."""
    svc, app = web_office
    add_user(svc, "supervisor1", "supervisor", PASSWORD, groups=["ventanilla", "tramite"])
    add_user(svc, "admin", "admin", PASSWORD)
    return Office(app, svc)


def signed_in(app, username: str | None):
    client = app.test_client()
    if username is not None:
        assert login(client, username).status_code == 302, f"{username} could not log in"
    return client


def page_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            if not rule.rule.startswith(NOT_PAGES) and rule.rule != "/health"
            for method in rule.methods - AUTOMATIC_METHODS}


def names_a_case_or_task(rule: str) -> bool:
    return "case_id>" in rule or "task_id>" in rule or "document_id>" in rule  # a document is in a case


def outcome(response) -> int | str:
    if response.status_code != 302:
        return response.status_code
    return LOGIN if response.location.split("?")[0].endswith("/entrar") else MOVED


def test_every_page_of_the_app_has_a_row_in_the_matrix(app):
    routes = page_routes(app)
    rows = {(method, rule) for method, rule, _what in MATRIX}
    assert sorted(routes - rows) == [], "add these pages to MATRIX"
    assert sorted(rows - routes) == [], "these MATRIX rows match no page any more"


def test_every_page_naming_a_case_or_task_says_what_a_clerk_of_another_group_gets():
    assert [key for key, (_call, expected) in MATRIX.items()
            if names_a_case_or_task(key[1]) != (expected[-1] is not None)] == []


@pytest.mark.parametrize("row", list(MATRIX), ids=lambda row: f"{row[0]} {row[1]}")
def test_every_page_answers_every_caller_as_the_matrix_says(office, row):
    """One test per row (the rows are many, and workers share them out); each caller in a session of its own."""
    method, rule, what = row
    call, expected = MATRIX[row]
    wrong = []
    for caller, status in zip(CALLERS, expected):
        if status is None:
            continue
        username = USERS.get(caller)
        path, form = call(office, username)
        client = signed_in(office.app, username)  # a session of its own: rows log in, out and switch language
        if method == "GET":
            response = client.get(path)
        else:
            token = csrf_of(client.get("/entrar").get_data(as_text=True))
            response = client.post(path, data={**form, "csrf_token": token})
        if outcome(response) != status:
            wrong.append(f"{method} {rule} ({what}) as {caller}: {outcome(response)} (expected {status}) "
                         f"{response.location or ''}")
    assert wrong == []


def test_a_clerk_of_another_group_changes_nothing_of_a_task_he_cannot_see(office):
    outsider = signed_in(office.app, USERS["outsider"])
    token = csrf_of(outsider.get("/entrar").get_data(as_text=True))
    task_id = office.task()
    for path, form in ((f"/tareas/{task_id}", COMPLETION), (f"/tareas/{task_id}", {"accion": "borrador"}),
                       (f"/tareas/{task_id}/tomar", {})):
        assert outsider.post(path, data={**form, "csrf_token": token}).status_code == 404, path
    with office.svc.uow(write=False) as uow:
        row = uow.conn.execute(select(models.tasks.c.state, models.tasks.c.assignee, models.tasks.c.completed_by)
                               .where(models.tasks.c.id == task_id)).one()
        drafts = uow.conn.execute(select(models.task_drafts).where(models.task_drafts.c.task_id == task_id)).all()
    assert tuple(row) == ("ready", None, None)
    assert drafts == []


def test_pages_list_no_case_or_task_out_of_a_clerks_reach(office):
    task_id = office.task()
    with office.svc.uow(write=False) as uow:
        case_id, number = uow.conn.execute(select(models.cases.c.id, models.cases.c.number).join(models.tasks)
                                           .where(models.tasks.c.id == task_id)).one()
    outsider, clerk = signed_in(office.app, USERS["outsider"]), signed_in(office.app, USERS["clerk"])
    # The newest case heads the list; the search finds the task by its case's number (the query is echoed back,
    # so the links to the case and the task are what tells a listed row).
    for path, link in (("/expedientes", f'href="/expedientes/{case_id}"'),
                       (f"/bandeja?vista=queue&q={number}", f'/tareas/{task_id}"')):
        assert link in clerk.get(path).get_data(as_text=True), path
        assert link not in outsider.get(path).get_data(as_text=True), path
