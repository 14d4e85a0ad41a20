"""The auditor's pages: his landing page is the search of the history (filters from the query string, paging, the
integrity status on top), a case's full record, the CSV and JSON exports of a search (streamed, X-Total-Count),
the integrity page with its checkpoint button (CSRF), the access log; clerks and supervisors are refused. Who may
open each page: tests/web/test_page_authorization.py; the use cases themselves:
tests/integration/test_audit_search.py."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from engine.accounts.users import add_user
from engine.storage import models
from engine.usecases import cases, tasks
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.task_rows import task_rows
from tests.web.conftest import PASSWORD, csrf_of, login

CLERK = principal_for("ventanilla1", "clerk", ("ventanilla",))


@pytest.fixture(scope="module")
def filed(web_office):
    """Two licences filed by ventanilla1, the first one's first task completed by him; a supervisor."""
    svc, _app = web_office
    add_user(svc, "supervisor2", "supervisor", PASSWORD, groups=["ventanilla"])
    first = cases.start_case(svc, CLERK, "licencia", intake())
    [task] = task_rows(svc, first.id)
    tasks.complete_task(svc, CLERK, task["id"], {"constancia_entrega": "ventanilla", "constancia_folios": 12})
    second = cases.start_case(svc, CLERK, "licencia", intake())
    return {"first": first, "second": second}


@pytest.fixture
def auditor(app, filed):
    client = app.test_client()
    assert login(client, "auditor1").status_code == 302
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def _events(svc, **where) -> int:
    e = models.events
    q = select(func.count()).select_from(e)
    for name, value in where.items():
        q = q.where(e.c[name] == value)
    with svc.uow(write=False) as uow:
        return uow.conn.execute(q).scalar_one()


def _access(svc) -> list[tuple[str, str, str]]:
    log = models.access_log
    with svc.uow(write=False) as uow:
        return [tuple(r) for r in uow.conn.execute(select(log.c.actor, log.c.action, log.c.target)
                                                   .order_by(log.c.seq))]


def test_an_auditor_lands_on_the_search_with_the_integrity_status(app, filed):
    client = app.test_client()
    landed = login(client, "auditor1")
    assert landed.location.endswith("/auditoria")  # straight to his page, not through "/"
    page = text(client.get("/auditoria"))
    assert 'id="integrity-status"' in page and "Todavía no se ha verificado el historial." in page
    assert 'href="/auditoria">Auditoría</a>' in page  # the nav entry
    assert 'src="/static/js/audit_export.js"' in page
    clerk = app.test_client()
    assert client.get("/").location.endswith("/auditoria")
    login(clerk, "ventanilla1")
    assert clerk.get("/").location.endswith("/bandeja")
    assert 'href="/auditoria"' not in text(clerk.get("/bandeja"))


def test_the_search_filters_from_the_query_string(auditor, office_svc, filed):
    number = filed["first"].number
    page = text(auditor.get("/auditoria", query_string={"expediente": number}))
    found = _events(office_svc, case_id=filed["first"].id)
    assert f"{found} eventos encontrados" in page
    assert f'href="/auditoria/expedientes/{filed["first"].id}">{number}</a>' in page
    assert f'>{filed["second"].number}</a>' not in page
    assert f'value="{number}"' in page  # the form keeps what was searched
    completed = text(auditor.get("/auditoria", query_string={"tipo": "task_completed", "actor": "ventanilla1"}))
    assert "1 evento encontrado" in completed and "Tarea completada" in completed
    assert "Ningún evento coincide" in text(auditor.get("/auditoria", query_string={"actor": "nadie"}))
    # The links to export carry the same filters.
    assert f'href="/auditoria/eventos.csv?expediente={number}"' in page


def test_a_bad_filter_is_a_spanish_message_naming_the_field(auditor):
    answer = auditor.get("/auditoria", query_string={"desde": "2026-02-31"})
    assert answer.status_code == 400
    assert "El campo «Desde» no es válido." in text(answer) and 'id="audit-search"' in text(answer)
    bad_kind = auditor.get("/auditoria", query_string={"tipo": "borrado"})
    assert bad_kind.status_code == 400 and "«Tipo de evento»" in text(bad_kind)
    for export in ("/auditoria/eventos.csv", "/auditoria/eventos.json"):
        refused = auditor.get(export, query_string={"hasta": "ayer"})
        assert refused.status_code == 400 and "El campo «Hasta» no es válido." in text(refused), export


def test_the_search_pages_through_the_history(auditor, office_svc, filed, monkeypatch):
    from web import audit_pages
    monkeypatch.setattr(audit_pages, "PAGE_ROWS", 2)
    total = _events(office_svc)
    page = text(auditor.get("/auditoria"))
    assert page.count("/auditoria/expedientes/") == 2 and f"{total} eventos encontrados" in page
    assert f'href="/auditoria?antes={total - 1}"' in page
    following = text(auditor.get(f"/auditoria?antes={total - 1}"))
    assert following.count("/auditoria/expedientes/") == min(2, total - 2) and "Más recientes" in following
    assert f"<tr><td>{total - 2}</td>" in following
    assert f"<tr><td>{total}</td>" not in following and f"<tr><td>{total - 1}</td>" not in following


def test_the_csv_and_json_exports_hold_the_whole_selection(auditor, office_svc, filed):
    number = filed["first"].number
    expected = _events(office_svc, case_id=filed["first"].id)
    as_csv = auditor.get("/auditoria/eventos.csv", query_string={"expediente": number})
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv" and as_csv.is_streamed
    assert as_csv.headers["X-Total-Count"] == str(expected)
    assert "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text(as_csv))))
    assert len(rows) == expected and {r["expediente"] for r in rows} == {number}
    assert [int(r["secuencia_expediente"]) for r in rows] == list(range(1, expected + 1))
    completed = [r for r in rows if r["tipo"] == "task_completed"]
    assert len(completed) == 1 and json.loads(completed[0]["datos"])["constancia_folios"] == 12
    assert len(text(as_csv).splitlines()) == expected + 1  # one line a row: what the progress bar counts

    as_json = auditor.get("/auditoria/eventos.json", query_string={"expediente": number})
    assert as_json.headers["X-Total-Count"] == str(expected)
    body = json.loads(as_json.get_data())
    assert body["total"] == expected and body["filters"] == {"case_number": number}
    assert [e["seq"] for e in body["events"]] == [int(r["secuencia"]) for r in rows]
    assert [e["leaf_hash"] for e in body["events"]] == [r["hash_hoja"] for r in rows]
    exports = [a for a in _access(office_svc) if a[1] == "audit.search_export"]
    assert exports[-2:] == [("auditor1", "audit.search_export", f"case_number={number}")] * 2


def test_the_case_record_shows_steps_deadlines_and_documents(auditor, office_svc, filed):
    case_id = filed["first"].id
    page = text(auditor.get(f"/auditoria/expedientes/{case_id}"))
    assert f"Registro del expediente {filed['first'].number}" in page
    assert page.count('<tr id="step-') == _events(office_svc, case_id=case_id)
    assert "Marta Ixcoy (ventanilla1)" in page  # who, by name
    assert "constancia_folios" in page and "Íntegra" in page
    assert 'id="deadlines"' in page and 'id="audit-documents"' in page
    assert f'href="/auditoria/expedientes/{case_id}/exportar.zip"' in page
    assert "/api/processes/licencia/versions/" in page
    assert ("auditor1", "audit.case", filed["first"].number) in _access(office_svc)
    assert auditor.get("/auditoria/expedientes/999999").status_code == 404


def test_the_case_downloads_as_a_verifiable_zip(auditor, filed):
    with auditor.get(f"/auditoria/expedientes/{filed['second'].id}/exportar.zip") as answer:  # closes its file
        assert answer.status_code == 200 and answer.mimetype == "application/zip"
        assert answer.get_data()[:2] == b"PK" and "attachment" in answer.headers["Content-Disposition"]


def test_the_checkpoint_button_signs_one_and_needs_csrf(auditor, office_svc):
    cases.start_case(office_svc, CLERK, "licencia", intake())  # an event no checkpoint holds yet
    page = text(auditor.get("/auditoria/integridad"))
    assert 'id="public-key">ed25519 ' in page and 'id="checkpoint-form"' in page
    before = _checkpoints(office_svc)
    refused = auditor.post("/auditoria/integridad/punto-de-control", data={})
    assert refused.status_code == 403 and _checkpoints(office_svc) == before
    signed = auditor.post("/auditoria/integridad/punto-de-control", data={"csrf_token": csrf_of(page)})
    assert signed.status_code == 302 and _checkpoints(office_svc) == before + 1
    after = text(auditor.get(signed.location))
    assert f"Se firmó un punto de control de {_events(office_svc)} eventos." in after
    again = auditor.post("/auditoria/integridad/punto-de-control", data={"csrf_token": csrf_of(page)})
    assert "Ningún evento nuevo" in text(auditor.get(again.location)) and _checkpoints(office_svc) == before + 1
    assert 'id="checkpoint-note">expediente/gobernacion-chimaltenango/eventos' in after
    # Anyone sees the latest checkpoint and the key on the public verification page.
    public = text(auditor.application.test_client().get("/verificar"))
    assert 'id="published-checkpoint"' in public and 'id="office-public-key">ed25519 ' in public


def _checkpoints(svc) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(models.audit_checkpoints)).scalar_one()


def test_the_access_log_lists_who_viewed_what(auditor, filed):
    auditor.get(f"/auditoria/expedientes/{filed['second'].id}")
    page = text(auditor.get("/auditoria/accesos"))
    assert "Consulta de expediente" in page and filed["second"].number in page and "auditor1" in page


@pytest.mark.parametrize("username", ["ventanilla1", "supervisor2"])
def test_clerks_and_supervisors_are_refused_every_auditor_page(app, filed, username):
    client = app.test_client()
    login(client, username)
    for path in ("/auditoria", f"/auditoria/expedientes/{filed['first'].id}", "/auditoria/eventos.csv",
                 "/auditoria/eventos.json", "/auditoria/integridad", "/auditoria/accesos",
                 f"/auditoria/expedientes/{filed['first'].id}/exportar.zip"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "No tiene permiso" in text(answer)
    token = csrf_of(text(client.get("/bandeja")))
    assert client.post("/auditoria/integridad/punto-de-control", data={"csrf_token": token}).status_code == 403


def test_a_failed_verification_shows_on_every_auditor_page(auditor, office_svc, filed):
    from engine.audit.status import record_verification
    now = office_svc.clock()
    with office_svc.uow() as uow:
        record_verification(uow.conn, now, now, False, 7, 1, "Evento 3 (expediente X): editado", "auditor1")
        uow.commit()
    for path in ("/auditoria", f"/auditoria/expedientes/{filed['first'].id}", "/auditoria/integridad",
                 "/auditoria/accesos"):
        page = text(auditor.get(path))
        top = page.index('id="integrity-status"')
        status = page[top:page.index("</section>", top)]
        assert "integrity-bad" in page and "Falló" in status and "Evento 3 (expediente X): editado" in status, path
    runs = text(auditor.get("/auditoria/integridad")).split('id="verifications"')[1]
    assert "Evento 3 (expediente X): editado" in runs
