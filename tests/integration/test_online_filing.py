"""Filing online (engine/usecases/online_filing.py) on both backends: nothing exists until the citizen confirms
through the e-mailed link; the case is filed at the confirmation's date and hour, with its files and its receipt
mailed; links are single-case, expire, and filings are rate-limited per client and per e-mail address."""
from __future__ import annotations

import io
import re
import pytest
from sqlalchemy import func, select

from engine.errors import FormInvalid, NotFound, ProcessNotFound, RateLimited
from engine.mail.notifications import outbox_rows, send_pending
from engine.storage import models
from engine.usecases import online_filing
from engine.usecases.attachments import AttachmentRefused, AttachmentStore, AttachmentTooLarge, clean_filename
from engine.usecases.online_filing import FilingExpired, confirm_filing, filing_status, submit_filing
from tests.processes.driver import local, office
from tests.processes.licencia_walk import intake as licencia_intake
from tests.smtp_inbox import loopback_mailer, smtp_inbox
from tests.unit.test_validators import make_cui
from tests.waiting import free_port

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GOOD_DPI = make_cui("24567890", 4, 3)  # 2456789050403
WRONG_DPI = GOOD_DPI[:8] + str((int(GOOD_DPI[8]) + 1) % 10) + GOOD_DPI[9:]  # the check digit does not match
HTML = '<script>alert("x")</script><b onmouseover=alert(1)>'


def laip(**changes) -> dict:
    """A LAIP request from someone living outside Chimaltenango, with no DPI (Decreto 57-2008: anyone may ask)."""
    return {"solicitante_nombre": "Jean Dupont", "municipio": "Fuera del departamento de Chimaltenango",
            "lugar_residencia": "Lyon, Francia", "solicitud_categoria": "acceso_informacion",
            "asunto": "Presupuesto 2026", "resumen": "Copia del presupuesto aprobado de la Gobernación en 2026.",
            "correo": "jean.dupont@example.fr"} | changes


@pytest.fixture
def svc(database_url, clock):
    clock.now = local(2026, 3, 2, 9)  # Monday 2 March 2026, 09:00 at the office
    services = office(database_url, clock)
    yield services
    services.db.dispose()


@pytest.fixture
def store(tmp_path):
    return AttachmentStore(directory=tmp_path / "adjuntos", max_bytes=4096)


def token_of(body: str) -> str:
    return re.search(r"/tramites/confirmar/(\S+)", body).group(1)


def submit(svc, store, data=None, files=(), client="203.0.113.7", key="solicitud_ciudadana"):
    sent = submit_filing(svc, store, key, laip() if data is None else data,
                         [(name, io.BytesIO(content)) for name, content in files], client)
    mail = [m for m in outbox_rows(svc) if m["kind"] == "confirmar_solicitud"][-1]
    return sent, token_of(mail["body"])


def count(svc, table) -> int:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(table)).scalar_one()


def stored_files(store) -> list:
    return [p for p in store.directory.rglob("*") if p.is_file()] if store.directory.exists() else []


def test_confirmation_files_one_case_at_its_own_hour_with_the_files_and_the_receipt_mailed(svc, store, clock):
    port = free_port()
    svc.mailer = loopback_mailer(port)
    with smtp_inbox(port) as inbox:
        sent, _token = submit(svc, store, files=[("presupuesto.pdf", PDF), ("foto.png", PNG)])
        assert sent["email"] == "jean.dupont@example.fr"
        assert count(svc, models.cases) == 0 and len(stored_files(store)) == 2
        assert send_pending(svc).sent == 1
        [confirmation] = inbox.messages
        body = confirmation.get_content()
        assert confirmation["To"] == "jean.dupont@example.fr" and "presupuesto.pdf" in body
        link = re.search(r"http\S+/tramites/confirmar/\S+", body).group(0)
        token = token_of(link)
        assert len(token) >= 43  # 256 random bits in URL-safe base64; only their hash is stored
        with svc.uow(write=False) as uow:
            assert uow.conn.execute(select(models.pending_filings.c.token_hash)).scalar_one() != token
        assert filing_status(svc, token)["state"] == "pending"  # reading the link files nothing
        assert count(svc, models.cases) == 0

        clock.now = local(2026, 3, 2, 17, 5)  # confirmed after the 16:30 cut-off
        filed = confirm_filing(svc, token)
        assert filed["new"] is True and filed["filed_at"] == clock.now
        with svc.uow(write=False) as uow:
            case = uow.conn.execute(select(models.cases)).mappings().one()
            files = uow.conn.execute(select(models.attachments).order_by(models.attachments.c.id)).mappings().all()
            receipt = uow.conn.execute(select(models.documents)).mappings().one()
        assert (case["number"], case["tracking_code"]) == (filed["number"], filed["tracking_code"])
        assert (case["created_at"], case["created_by"], case["citizen_email"]) == (
            clock.now, "en_linea", "jean.dupont@example.fr")
        assert [(f["filename"], f["content_type"], f["uploaded_by"]) for f in files] == [
            ("presupuesto.pdf", "application/pdf", "en_linea"), ("foto.png", "image/png", "en_linea")]
        assert (receipt["kind"], receipt["case_id"], receipt["verification_code"]) == (
            "constancia_recepcion", case["id"], filed["receipt_code"])
        assert send_pending(svc).sent == 1
        mailed = inbox.messages[1]
        assert filed["number"] in mailed["Subject"] and mailed["To"] == "jean.dupont@example.fr"
        text = mailed.get_body(("plain",)).get_content()
        assert "17:05 h" in text and "se tiene por presentada el martes 3 de marzo de 2026" in text
        [pdf] = [part for part in mailed.iter_attachments()]
        assert pdf.get_content() == bytes(receipt["content"])

    clock.advance(days=5)  # the link confirmed once shows the same case, even after it would have expired
    again = confirm_filing(svc, token)
    assert (again["new"], again["number"]) == (False, filed["number"])
    assert filing_status(svc, token)["number"] == filed["number"]
    assert count(svc, models.cases) == 1 and count(svc, models.attachments) == 2


def test_a_confirmation_racing_another_files_no_second_case(svc, store, monkeypatch):
    """Both read the link unconfirmed; the other files first: this one's case (number, receipt, mail) is rolled
    back whole when it finds the link claimed, and it answers with the other's case."""
    _sent, token = submit(svc, store, files=[("a.pdf", PDF)])
    real_start, other = online_filing.cases.start_case, {}

    def start_after_the_other(*args, **kwargs):
        monkeypatch.setattr(online_filing.cases, "start_case", real_start)
        other.update(confirm_filing(svc, token))  # the racing request wins
        return real_start(*args, **kwargs)

    monkeypatch.setattr(online_filing.cases, "start_case", start_after_the_other)
    mine = confirm_filing(svc, token)
    assert (other["new"], mine["new"], mine["number"]) == (True, False, other["number"])
    assert count(svc, models.cases) == 1 and count(svc, models.attachments) == 1
    assert count(svc, models.documents) == 1
    assert len([m for m in outbox_rows(svc) if m["kind"] == "recepcion"]) == 1


def test_unknown_and_expired_links_file_nothing(svc, store, clock):
    _sent, token = submit(svc, store, files=[("a.pdf", PDF)])
    for wrong in ("", "x", token[:-1], token + "A"):
        with pytest.raises(NotFound):
            confirm_filing(svc, wrong)
    clock.advance(hours=48)
    with pytest.raises(FilingExpired):
        confirm_filing(svc, token)
    with pytest.raises(FilingExpired):
        filing_status(svc, token)
    assert count(svc, models.cases) == 0
    clock.advance(days=1, seconds=1)  # a day after it expired, the next filing forgets it and its files
    submit(svc, store, laip(correo="siguiente@example.gt"))
    with svc.uow(write=False) as uow:
        assert uow.conn.execute(select(models.pending_filings.c.email)).scalars().all() == ["siguiente@example.gt"]
    assert stored_files(store) == []
    assert online_filing.purge_expired_filings(svc, store, clock()) == 0
    with pytest.raises(NotFound):
        confirm_filing(svc, token)


def test_filings_are_limited_per_client_and_per_email_address(svc, store, clock):
    for n in range(5):
        submit(svc, store, laip(correo=f"persona{n}@example.gt"), client="198.51.100.1")
    with pytest.raises(RateLimited):
        submit(svc, store, laip(correo="otra@example.gt"), client="198.51.100.1")
    for n in range(2):  # another client; the same address takes three a day
        submit(svc, store, laip(correo="persona0@example.gt"), client=f"192.0.2.{n}")
    with pytest.raises(RateLimited):
        submit(svc, store, laip(correo="PERSONA0@example.gt "), client="192.0.2.99")
    assert count(svc, models.pending_filings) == 7
    clock.advance(hours=1)
    submit(svc, store, laip(correo="otra@example.gt"), client="198.51.100.1")  # the client's next hour
    with pytest.raises(RateLimited):
        submit(svc, store, laip(correo="persona0@example.gt"), client="192.0.2.50")  # still the same day


def test_oversized_and_wrong_type_uploads_are_refused_and_nothing_is_kept(svc, store):
    with pytest.raises(AttachmentTooLarge):
        submit(svc, store, files=[("ok.pdf", PDF), ("grande.pdf", b"%PDF-" + b"0" * 5000)])
    with pytest.raises(AttachmentRefused):
        submit(svc, store, files=[("nota.pdf", b"<html>no soy un PDF</html>")])
    with pytest.raises(FormInvalid) as err:
        submit(svc, store, files=[(f"{n}.pdf", PDF) for n in range(online_filing.MAX_FILES + 1)])
    assert [e["field"] for e in err.value.errors] == ["archivos"]
    assert stored_files(store) == [] and count(svc, models.pending_filings) == 0 and outbox_rows(svc) == []


def test_html_in_every_field_is_kept_as_text(svc, store):
    data = laip(solicitante_nombre=HTML, lugar_residencia=HTML, asunto=HTML, resumen=HTML + " " * 3 + HTML,
                direccion_notificaciones=HTML)
    _sent, token = submit(svc, store, data, files=[(HTML + ".pdf", PDF)])
    confirm_filing(svc, token)
    with svc.uow(write=False) as uow:
        case = uow.conn.execute(select(models.cases)).mappings().one()
        filename = uow.conn.execute(select(models.attachments.c.filename)).scalar_one()
        started = uow.conn.execute(select(models.events.c.data_json)
                                   .where(models.events.c.kind == "case_started")).scalar_one()
    assert (case["applicant_name"], case["title"]) == (HTML, HTML)
    assert HTML.replace('"', '\\"') in started
    assert filename == clean_filename(HTML + ".pdf")  # as at the desk: no characters a file system refuses


def test_a_laip_request_needs_no_dpi_and_takes_any_residence_but_a_wrong_dpi_is_refused(svc, store):
    _sent, token = submit(svc, store, laip())
    filed = confirm_filing(svc, token)
    with svc.uow(write=False) as uow:
        case = uow.conn.execute(select(models.cases)).mappings().one()
    assert (case["number"], case["applicant_dpi"], case["municipality"]) == (
        filed["number"], None, "Fuera del departamento de Chimaltenango")
    with pytest.raises(FormInvalid) as err:
        submit(svc, store, laip(solicitante_dpi=WRONG_DPI))
    assert [e["field"] for e in err.value.errors] == ["solicitante_dpi"]
    with pytest.raises(FormInvalid) as err:  # outside the department: say where
        submit(svc, store, laip(lugar_residencia=None) | {"lugar_residencia": ""})
    assert "lugar_residencia" in [e["field"] for e in err.value.errors]
    # A general petition still names the petitioner by DPI and municipality.
    with pytest.raises(FormInvalid) as err:
        submit(svc, store, laip(solicitud_categoria="constancia"))
    assert [e["field"] for e in err.value.errors] == ["solicitante_dpi"]
    good = laip(solicitud_categoria="constancia", solicitante_dpi=GOOD_DPI,
                municipio="Patzún")
    del good["lugar_residencia"]
    submit(svc, store, good)


def test_the_form_is_checked_as_at_the_desk_and_needs_the_email(svc, store):
    data = laip(telefono="5512 3456", asunto="x")
    del data["correo"]
    with pytest.raises(FormInvalid) as err:
        submit(svc, store, data)
    assert [e["field"] for e in err.value.errors] == ["asunto", "correo"]  # every problem at once
    with pytest.raises(FormInvalid) as err:
        submit(svc, store, laip(correo="no es un correo"))
    assert [e["field"] for e in err.value.errors] == ["correo"]
    assert outbox_rows(svc) == []


def test_only_the_configured_procedures_are_filed_online(svc, store):
    assert [p["process_key"] for p in online_filing.online_procedures(svc)] == ["licencia", "solicitud_ciudadana"]
    with pytest.raises(ProcessNotFound):
        online_filing.filing_form(svc, "mediacion_tierras")
    with pytest.raises(ProcessNotFound):
        submit(svc, store, laip(), key="mediacion_tierras")
    form = online_filing.filing_form(svc, "solicitud_ciudadana")
    assert form["schema"]["properties"]["canal"]["readOnly"] is True  # the channel is "en línea", not chosen
    _sent, token = submit(svc, store, licencia_intake(contacto_correo="ana@example.gt"), key="licencia")
    filed = confirm_filing(svc, token)
    with svc.uow(write=False) as uow:
        assert uow.conn.execute(select(models.cases.c.process_key)
                                .where(models.cases.c.number == filed["number"])).scalar_one() == "licencia"


def test_the_setting_reads_a_json_list():
    from engine.config import Settings
    assert Settings.from_env({"EXPEDIENTE_ONLINE_PROCEDURES": '["licencia"]'}).online_procedures == ("licencia",)
    assert Settings.from_env({}).online_procedures == ("licencia", "solicitud_ciudadana")
    with pytest.raises(ValueError):
        Settings.from_env({"EXPEDIENTE_ONLINE_PROCEDURES": '"licencia"'})


def test_the_channel_is_recorded_as_online(svc, store):
    _sent, token = submit(svc, store, laip(canal="ventanilla"))
    confirm_filing(svc, token)
    with svc.uow(write=False) as uow:
        started = uow.conn.execute(select(models.events.c.data_json)
                                   .where(models.events.c.kind == "case_started")).scalar_one()
    assert '"canal":"en_linea"' in started.replace(" ", "")



def test_versions_keep_each_forms_field_order_and_hash_it_as_before():
    """The pages draw a form's fields in its own order, so the version's stored forms keep it; the version's hash
    reads them canonically (sorted), as versions deployed when the snapshot was stored sorted were hashed."""
    import orjson

    from engine.usecases.deploy import content_hash
    from forms.registry import FormRegistry
    schemas = {"solicitud_ciudadana": FormRegistry().get("solicitud_ciudadana")}
    as_filed = orjson.dumps(schemas).decode()
    assert list(orjson.loads(as_filed)["solicitud_ciudadana"]["properties"])[:2] == [
        "solicitante_nombre", "solicitante_dpi"]
    sorted_before = orjson.dumps(schemas, option=orjson.OPT_SORT_KEYS).decode()
    assert content_hash("{}", {}, as_filed) == content_hash("{}", {}, sorted_before)
