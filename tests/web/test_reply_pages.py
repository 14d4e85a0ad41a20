"""The institution's reply page through Flask's client: a form without the session's CSRF token changes nothing, a
file of another type is refused on the form (nothing kept), too many requests from one client get 429, and wrong
links get a page that names no case."""
from __future__ import annotations

import io

from sqlalchemy import select

from engine.storage import models
from engine.usecases import cases, institution_records, institutions
from engine.usecases.deploy import deploy_files
from tests.conftest import SYSTEM
from tests.integration.test_institutions import asking
from tests.web.conftest import csrf_of

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def asked(svc) -> tuple[int, str]:
    """A case waiting for the PNC's answer; its id and the path of the link mailed."""
    institution_records.seed_institutions(svc)
    deploy_files(svc, {"opinion_pnc.bpmn": asking()}, actor="test")
    case_id = cases.start_case(svc, SYSTEM, "opinion_pnc", {}).id
    link = institutions.link_for(svc, cases.case_data(svc, SYSTEM, case_id)["solicitud_pnc"]["solicitud"])
    return case_id, "/responder/" + link.rsplit("/", 1)[1]


def state_of(svc, case_id: int) -> str:
    _r = models.institution_requests
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(_r.c.state).where(_r.c.case_id == case_id)).scalar_one()


def test_a_post_without_the_forms_token_changes_nothing(app, office_svc):
    case_id, path = asked(office_svc)
    client = app.test_client()
    assert client.get(path).status_code == 200
    refused = client.post(path, data={"respuesta": "Sin objeción"})
    assert refused.status_code == 403 and state_of(office_svc, case_id) == "open"


def test_a_file_of_another_type_is_refused_on_the_form_and_the_text_is_kept(app, office_svc):
    case_id, path = asked(office_svc)
    client = app.test_client()
    page = client.get(path)
    assert page.headers["Cache-Control"] == "no-store"
    answer = client.post(path, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "respuesta": "Adjunto",
                                     "archivos": (io.BytesIO(b"MZ\x90\x00 no es un PDF"), "virus.exe")},
                         content_type="multipart/form-data")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="archivos-error"' in body and ">Adjunto</textarea>" in body
    assert state_of(office_svc, case_id) == "open"
    with office_svc.uow(write=False) as uow:
        assert uow.conn.execute(select(models.attachments.c.id)
                                .where(models.attachments.c.case_id == case_id)).all() == []


def test_wrong_links_name_no_case_and_too_many_requests_are_slowed(app, office_svc):
    case_id, path = asked(office_svc)
    number = cases.get_case(office_svc, SYSTEM, case_id)["number"]
    client = app.test_client()
    wrong = client.get("/responder/" + "x" * 43, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert wrong.status_code == 404 and number not in wrong.get_data(as_text=True)
    statuses = [client.get(path, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code for _ in range(40)]
    assert statuses[:29] == [200] * 29 and statuses[29:] == [429] * 11  # the wrong link counted too
    assert client.get(path, environ_base={"REMOTE_ADDR": "10.9.9.10"}).status_code == 200  # another client
