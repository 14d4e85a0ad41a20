"""The auditor reads everything and changes nothing: every route of the URL map, API and pages, called as an auditor
signed in both ways (a browser session with its CSRF token, and an API token).

The routes come from app.url_map, not from a list: a new route that lets the auditor change something fails here
until it is refused to him or added to ALLOWED below with the reason. After the calls, every table holds what it
held before except those named in UNCHANGED_EXCEPT (what signing in, reading and signing a checkpoint write).
"""
from __future__ import annotations

import io
import itertools
import re
import shutil

import pytest
from sqlalchemy import select

from engine.accounts.auth import create_token, principal_by_username
from engine.storage import models
from engine.usecases import attachments, documents, tasks
from tests.api import probes as p
from tests.api.conftest import PASSWORD, make_app, seed
from tests.conftest import FakeClock, make_services
from tests.task_rows import task_rows

AUDITOR = "auditor1"
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}
FORBIDDEN_CODE = "forbidden"  # the role's refusal (not csrf_rejected: that would prove nothing)
CSRF_REFUSAL = "El formulario venció"  # a page's refusal of its form's CSRF token: proves nothing either

# Non-GET routes the auditor may use, each with why; the request made for it (the body) follows in _allowed_call.
ALLOWED = {
    ("POST", "/api/session"): "his own sign-in",
    ("DELETE", "/api/session"): "his own sign-out",
    ("POST", "/entrar"): "his own sign-in (page)",
    ("POST", "/salir"): "his own sign-out (page)",
    ("POST", "/api/tokens"): "his own API tokens",
    ("DELETE", "/api/tokens/<id:token_id>"): "his own API tokens",
    ("POST", "/api/audit/checkpoints"): "the audit desk: sign a checkpoint of the history now",
    ("POST", "/auditoria/integridad/punto-de-control"): "the audit desk's «firmar un punto de control ahora»",
}
# The citizens' pages: open to anyone, signed in or not. The auditor's session must get him no more than an
# anonymous visitor gets with the same request.
PUBLIC = {("POST", "/consulta"), ("POST", "/consulta/respuesta"), ("POST", "/tramites/<process_key>"),
          ("POST", "/tramites/confirmar/<token>"), ("POST", "/verificar/<code>"), ("POST", "/responder/<token>")}
# table -> columns that may change (None: the whole table), and why.
UNCHANGED_EXCEPT = {
    "access_log": None,            # what he viewed and exported, logged
    "audit_checkpoints": None,     # he may sign a checkpoint (ALLOWED)
    "api_tokens": None,            # his own tokens (ALLOWED)
    "login_failures": None,        # sign-in bookkeeping
    "rate_limits": None,           # the public pages count their callers
    "users": {"session_generation"},  # his sign-out ends his other sessions
}
# audit_heads: the access log's head moves with it; the events' head must not.
HEADS_THAT_MOVE = {"access"}
FORM = {"reason": "auditoría", "amount": "3", "username": "oficial2", "name": "auditoría", "comment": "c",
        "description": "d", "code": "ABC", "email": "a@b.gt", "note": "n"}
JSON = {"reason": "auditoría", "data": {"amount": 3}, "username": "oficial2", "name": "auditoría",
        "process_key": "five_step", "changes": {}, "xml": "<x/>", "comment": "c", "lane": "Ventanilla",
        "group": "ventanilla", "day": "2031-01-02", "description": "d", "role": "clerk", "password": "x" * 12}


class Office:
    """A database holding a running case with a task a clerk holds with a saved draft of its form, an attachment,
    an issued document, a draft of a diagram, a closure day; the app; the auditor's session and token clients;
    the values of path parameters."""

    def __init__(self, directory, sqlite_template):
        shutil.copy(sqlite_template, directory / "expediente.db")
        self.svc = make_services(f"sqlite:///{directory / 'expediente.db'}", FakeClock(),
                                 audit_key=str(directory / "audit.pem"))
        seed(self.svc)
        self.app = make_app(self.svc, directory)
        store = self.app.extensions["expediente.attachments"]
        self.case_id = p.new_case(self.svc)
        [task] = task_rows(self.svc, self.case_id)
        tasks.claim_task(self.svc, p.principal_for(p.OWNER), task["id"])
        tasks.save_draft(self.svc, p.principal_for(p.OWNER), task["id"], {"amount": 12})  # a form half filled
        attachment = attachments.add_attachment(self.svc, p.principal_for(p.OWNER), store, self.case_id,
                                                "acta.pdf", io.BytesIO(p.PDF_BYTES))
        document_id = p.issued_document(self.svc)
        code = documents.document_pdf(self.svc, p.principal_for("admin"), document_id)["verification_code"]
        self.values = {"case_id": self.case_id, "task_id": task["id"], "attachment_id": attachment["id"],
                       "document_id": document_id, "code": code, "day": p.closure_day(self.svc),
                       "username": "oficial2", "number": 1, "old": 1, "new": 1, "lang": "en",
                       "filename": "app.css", "token": "x" * 43, "process_key": "five_step",
                       "draft": p.draft(self.svc), "message_id": p.lost_message(self.svc)}
        self.values["group"] = "ventanilla"  # the administration's group pages
        self.values["accion"] = "suspender"  # the case page's suspend/resume operation
        self.values["file_name"] = "requisitos_licencia.dmn"  # a draft's decision table
        self.values["form_key"] = "licencia_solicitud"  # a draft's form
        self.values["migration_id"] = 1  # a case migration (the auditor may not read or run one)
        self.values["name"], self.values["fmt"] = "casos", "csv"  # a report and its download
        self.values["key"] = "pnc"  # an institution (none exists here: reading one answers 404, changing it 403)
        self.token = create_token(self.svc, principal_by_username(self.svc, AUDITOR), "auditoría")["token"]
        p.scheduler_alive(self.svc)  # /health answers 200, not "no scheduler" (503)
        self.session, self.csrf = None, None
        self.sign_in()

    def sign_in(self) -> str:
        """A new browser session of the auditor; its CSRF token."""
        self.session = self.app.test_client()
        signed = self.session.post("/api/session", json={"username": AUDITOR, "password": PASSWORD})
        assert signed.status_code == 200, signed.get_data(as_text=True)
        self.csrf = signed.get_json()["csrf_token"]
        return self.csrf

    def path(self, rule) -> str:
        values = {}
        for name in rule.arguments:
            if name == "process_key" and rule.rule.startswith(("/api/drafts", "/modelador")):
                values[name] = self.values["draft"]
            elif name == "token_id":  # a token of his own he may revoke (the one he calls with stays)
                values[name] = create_token(self.svc, principal_by_username(self.svc, AUDITOR), "otro")["id"]
            else:
                values[name] = self.values[name]
        return rule.build(values, append_unknown=False)[1]

    def call(self, method: str, path: str, via: str, **kwargs):
        """One request as the auditor, through his browser session (with its CSRF token) or his API token."""
        if via == "token":
            client = self.app.test_client(use_cookies=False)
            kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {self.token}"
        else:
            client = self.session
            kwargs.setdefault("headers", {})["X-CSRF-Token"] = self.csrf
        response = client.open(path, method=method, **kwargs)
        response.get_data()
        response.close()
        return response

    def anonymous(self, method: str, path: str, **kwargs):
        client = self.app.test_client()
        page = client.get("/consulta").get_data(as_text=True)
        kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": _csrf_field(page)}
        response = client.open(path, method=method, **kwargs)
        response.get_data()
        response.close()
        return response


def _csrf_field(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _routes(app, methods=None):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - AUTOMATIC_METHODS):
            if methods is None or method in methods:
                yield method, rule


def _snapshot(svc) -> dict[str, list]:
    """Every row of every table, but what UNCHANGED_EXCEPT lets change."""
    rows = {}
    with svc.uow(write=False) as uow:
        for table in models.metadata.sorted_tables:
            skip = UNCHANGED_EXCEPT.get(table.name, set())
            if table.name in UNCHANGED_EXCEPT and skip is None:
                continue
            query = select(*[c for c in table.columns if c.name not in skip])
            if table.name == "audit_heads":
                query = query.where(table.c.name.not_in(HEADS_THAT_MOVE))
            rows[table.name] = sorted((tuple(r._mapping.items()) for r in uow.conn.execute(query)), key=repr)
    return rows


def _changed(before: dict, after: dict) -> list[str]:
    return [f"{name}: {len(before[name])} rows before, {len(after[name])} after; first difference "
            f"{next((a, b) for a, b in itertools.zip_longest(before[name], after[name]) if a != b)}"
            for name in before if before[name] != after[name]]


@pytest.fixture(scope="module")
def office(sqlite_template, tmp_path_factory):
    built = Office(tmp_path_factory.mktemp("auditor"), sqlite_template)
    yield built
    built.svc.db.dispose()


def _allowed_call(office: Office, method: str, rule, path: str):
    """Use an allowed route as the auditor would, successfully; then sign in again (a sign-out ends his session)."""
    if rule.rule.startswith("/api/"):
        body = {"json": {"username": AUDITOR, "password": PASSWORD} if rule.rule == "/api/session"
                else {"name": "auditoría"}}
        answers = [office.call(method, path if "token_id" not in rule.arguments else office.path(rule), via,
                               **body) for via in ("session", "token")]
    else:
        form = {"username": AUDITOR, "password": PASSWORD, "csrf_token": office.csrf}
        answers = [office.call(method, path, "session", data=form)]
    office.sign_in()
    return [f"{method} {rule.rule} ({ALLOWED[(method, rule.rule)]}): {a.status_code}" for a in answers
            if a.status_code >= 400]


def test_the_allow_lists_name_routes_that_exist(office):
    routes = {(method, rule.rule) for method, rule in _routes(office.app)}
    assert sorted(ALLOWED.keys() - routes) == [] and sorted(PUBLIC - routes) == []


def test_every_route_that_writes_refuses_the_auditor_and_the_record_is_unchanged(office):
    before = _snapshot(office.svc)
    wrong = []
    for method, rule in _routes(office.app, methods={"POST", "PUT", "PATCH", "DELETE"}):
        path = office.path(rule)
        if (method, rule.rule) in ALLOWED:
            wrong += _allowed_call(office, method, rule, path)
        elif (method, rule.rule) in PUBLIC:
            form = {**FORM, "csrf_token": office.csrf}
            as_auditor = office.call(method, path, "session", data=form)
            as_anyone = office.anonymous(method, path, data=dict(FORM))
            if as_auditor.status_code != as_anyone.status_code:
                wrong.append(f"{method} {rule.rule} (public): {as_auditor.status_code} for the auditor, "
                             f"{as_anyone.status_code} for anyone")
        elif rule.rule.startswith("/api/"):
            for via in ("session", "token"):
                answer = office.call(method, path, via, json=dict(JSON))
                code = (answer.get_json(silent=True) or {}).get("code")
                if answer.status_code != 403 or code != FORBIDDEN_CODE:
                    wrong.append(f"{method} {rule.rule} via {via}: {answer.status_code} {code}")
        else:
            answer = office.call(method, path, "session", data={**FORM, "csrf_token": office.csrf})
            if answer.status_code != 403 or CSRF_REFUSAL in answer.get_data(as_text=True):
                wrong.append(f"{method} {rule.rule} (page): {answer.status_code}")
    assert wrong == []
    assert _changed(before, _snapshot(office.svc)) == []


def _receipts_issued(before: dict, after: dict) -> list[dict]:
    """The documents rows added since `before`, taken out of `after`."""
    added = [dict(row) for row in after["documents"] if row not in before["documents"]]
    after["documents"] = [row for row in after["documents"] if row in before["documents"]]
    return added


def test_every_get_answers_the_auditor_without_a_server_error_and_changes_nothing(office):
    before = _snapshot(office.svc)
    wrong = []
    for method, rule in _routes(office.app, methods={"GET"}):
        path = office.path(rule)
        for via in ("session", "token") if rule.rule.startswith("/api/") else ("session",):
            answer = office.call(method, path, via)
            if answer.status_code >= 500:
                wrong.append(f"GET {rule.rule} via {via}: {answer.status_code}")
    assert wrong == []
    after = _snapshot(office.svc)
    # The one write a reading may cause: the first request for a case's filing receipt issues it (as the filing
    # desk's document, signed by who filed the case, not by whoever opened it: engine/usecases/documents.py).
    receipts = _receipts_issued(before, after)
    assert {(r["kind"], r["case_id"], r["issued_by"]) for r in receipts} <= \
        {("constancia_recepcion", office.case_id, p.OWNER)}
    assert _changed(before, after) == []
