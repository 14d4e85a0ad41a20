"""Documents issued by a diagram's task when it is completed: numbered per kind and year without gaps in the
step's transaction, rendered with the task's data, signed when the office has a certificate, mailed to the
citizen when the law says so; a draft to review first; wrong declarations refused at deploy."""
from __future__ import annotations

import json
import threading

import pytest

from engine.documents import signing
from engine.errors import FormInvalid, NotFound, SpecInvalid
from engine.forms_gate import office_forms
from engine.mail.notifications import outbox_rows
from engine.usecases import cases, tasks
from engine.usecases.issuing import DocumentIncomplete
from engine.usecases.deploy import deploy_files
from tests.bpmn import linear, script
from tests.conftest import make_services, principal_for
from tests.documents_helpers import issued, pdf_text
from tests.task_rows import task_rows

OFICIO = {"oficio_destinatario": {"type": "string"}, "oficio_institucion": {"type": "string"},
          "oficio_asunto": {"type": "string"}, "oficio_cuerpo": {"type": "string"},
          "oficio_cargo": {"type": "string"}, "cofirmante": {"type": "string"}}
FORMS = {
    "ingreso": {"type": "object", "properties": {"correo": {"type": "string", "x-correo-ciudadano": True},
                                                 "nombre": {"type": "string"}}},
    "oficio_prueba": {"type": "object", "properties": OFICIO, "required": ["oficio_destinatario", "oficio_institucion", "oficio_asunto", "oficio_cuerpo"],
                      "additionalProperties": False},
    "oficios_prueba": {"type": "object", "properties": {"envios": {"type": "array", "items": {
        "type": "object", "properties": OFICIO}}}},
    "previo_prueba": {"type": "object", "properties": {
        "previo_requerimientos": {"type": "array", "items": {"type": "object"}},
        "previo_plazo_dias": {"type": "integer"}}},
    "sin_campos": {"type": "object", "properties": {"nota": {"type": "string"}}},
    "certificado_prueba": {"type": "object", "properties": {"certificado_vigencia_desde": {"type": "string"},
                                                            "certificado_vigencia_hasta": {"type": "string"}}},
}
ONE = {"oficio_destinatario": "Comisario Juan Pérez", "oficio_institucion": "Policía Nacional Civil",
       "oficio_asunto": "Opinión sobre la feria patronal", "oficio_cuerpo": "Solicito su opinión sobre la seguridad.",
       "oficio_cargo": "Jefe de la Comisaría 71"}


def task(name: str, form: str, document: str | None = None, each: str | None = None, kind: str = "userTask") -> str:
    props = f'<spiffworkflow:property name="form" value="{form}"/>'
    if document:
        props += f'<spiffworkflow:property name="document" value="{document}"/>'
    if each:
        props += f'<spiffworkflow:property name="documentEach" value="{each}"/>'
    body = "<bpmn:script>x = 1</bpmn:script>" if kind == "scriptTask" else ""
    return (f'<bpmn:{kind} id="{{id}}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>{props}'
            f'</spiffworkflow:properties></bpmn:extensionElements>{body}</bpmn:{kind}>')


@pytest.fixture
def forms_dir(tmp_path):
    for key, schema in FORMS.items():
        (tmp_path / f"{key}.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    return tmp_path


@pytest.fixture
def office(database_url, clock, forms_dir):
    svc = make_services(database_url, clock, forms=office_forms(lambda: clock(), forms_dir),
                        public_base_url="https://gdch.example")
    yield svc
    svc.db.dispose()


def start(svc, bpmn: bytes, data: dict | None = None, process="p"):
    deploy_files(svc, {f"{process}.bpmn": bpmn})
    started = cases.start_case(svc, principal_for("ventanilla1"), process, data or {})
    return started.id, task_rows(svc, started.id)


OFICIO_PROCESS = linear(task("Enviar oficio", "oficio_prueba", "oficio"), task("Seguir", "sin_campos"),
                        start_form="ingreso")


def test_completing_the_task_issues_its_numbered_document_with_what_the_form_says(office):
    case_id, [row] = start(office, OFICIO_PROCESS)
    assert row["document_kind"] == "oficio"
    result = tasks.complete_task(office, principal_for("oficial1"), row["id"], ONE)
    [doc] = issued(office, case_id)
    assert (doc["kind"], doc["number"], doc["task_id"], doc["issued_by"]) == (
        "oficio", "OF-GDCH-2026-0001", row["id"], "oficial1")
    assert result["documents"] == [{"id": doc["id"], "kind": "oficio", "number": "OF-GDCH-2026-0001",
                                    "code": doc["verification_code"]}]
    for part in ("OF-GDCH-2026-0001", "Comisario Juan Pérez", "Policía Nacional Civil", "feria patronal",
                 doc["verification_code"], "gdch.example/verificar/"):
        assert part in doc["text"], part
    assert doc["signature"] is None and json.loads(doc["data_json"])["oficio_asunto"] == ONE["oficio_asunto"]
    # The diagram's later steps can cite it: the number and code are in the case's data.
    data = cases.case_data(office, principal_for("oficial1"), case_id)
    assert data["documento_oficio"] == {"numero": "OF-GDCH-2026-0001", "codigo": doc["verification_code"]}
    history = cases.case_history(office, principal_for("auditor1", role="auditor"), case_id)
    [event] = [e for e in history if e["kind"] == "document_issued"]
    assert (event["data"]["number"], event["data"]["sha256"]) == ("OF-GDCH-2026-0001", doc["sha256"])
    # The next case's oficio takes the next number.
    other_id, [other] = start(office, OFICIO_PROCESS)
    tasks.complete_task(office, principal_for("oficial1"), other["id"], ONE)
    assert [d["number"] for d in issued(office, other_id)] == ["OF-GDCH-2026-0002"]


def test_document_each_issues_one_per_item_with_consecutive_numbers(office):
    case_id, [row] = start(office, linear(task("Oficios", "oficios_prueba", "oficio", each="envios"),
                                          task("Seguir", "sin_campos")))
    second = {**ONE, "oficio_destinatario": "Coordinadora Ana Sicán", "oficio_institucion": "CONRED"}
    tasks.complete_task(office, principal_for("oficial1"), row["id"], {"envios": [ONE, second]})
    docs = issued(office, case_id)
    assert [d["number"] for d in docs] == ["OF-GDCH-2026-0001", "OF-GDCH-2026-0002"]
    assert "Policía Nacional Civil" in docs[0]["text"] and "CONRED" in docs[1]["text"]
    assert "CONRED" not in docs[0]["text"]
    refs = cases.case_data(office, principal_for("oficial1"), case_id)["documentos_oficio"]
    assert [r["numero"] for r in refs] == ["OF-GDCH-2026-0001", "OF-GDCH-2026-0002"]


def test_a_refused_step_issues_nothing_and_gives_its_number_back(office):
    # The scripts after the task make a state too large to store: the whole step is refused.
    huge = [script(f"s{i} = 'x' * 900000") for i in range(10)]
    case_id, [row] = start(office, linear(task("Enviar oficio", "oficio_prueba", "oficio"), *huge,
                                          task("Seguir", "sin_campos")))
    result = tasks.complete_task(office, principal_for("oficial1"), row["id"], ONE)
    assert result["case_state"] == "error" and issued(office, case_id) == []
    assert [t["state"] for t in task_rows(office, case_id)] == ["ready"]
    other_id, [other] = start(office, OFICIO_PROCESS, process="p")
    tasks.complete_task(office, principal_for("oficial1"), other["id"], ONE)
    assert [d["number"] for d in issued(office, other_id)] == ["OF-GDCH-2026-0001"]  # no gap


def test_concurrent_steps_get_distinct_consecutive_numbers(office):
    rows = [start(office, OFICIO_PROCESS)[1][0] for _ in range(4)]
    errors = []

    def complete(task_id):
        try:
            tasks.complete_task(office, principal_for("oficial1"), task_id, ONE)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=complete, args=(r["id"],)) for r in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with office.uow(write=False) as uow:
        numbers = sorted(n for (n,) in uow.conn.exec_driver_sql("SELECT number FROM documents"))
    assert numbers == [f"OF-GDCH-2026-{i:04d}" for i in range(1, 5)]


def test_the_draft_shows_the_document_without_number_or_code_and_stores_nothing(office):
    case_id, [row] = start(office, OFICIO_PROCESS)
    draft = tasks.document_draft(office, principal_for("oficial1"), row["id"], ONE)
    text = pdf_text(draft["pdf"])
    assert "BORRADOR" in text and "Comisario Juan Pérez" in text and "OF-GDCH" not in text
    assert draft["kind"] == "oficio" and issued(office, case_id) == []
    with pytest.raises(FormInvalid) as refused:  # checked as completing would be
        tasks.document_draft(office, principal_for("oficial1"), row["id"], {"oficio_asunto": "x"})
    assert "oficio_destinatario" in {e["field"] for e in refused.value.details["errors"]}
    tasks.complete_task(office, principal_for("oficial1"), row["id"], ONE)
    [nxt] = [t for t in task_rows(office, case_id) if t["state"] == "ready"]
    with pytest.raises(NotFound):  # a task that issues no document has no draft
        tasks.document_draft(office, principal_for("oficial1"), nxt["id"], {})


def test_with_a_certificate_documents_are_signed_and_a_changed_byte_breaks_the_signature(
        database_url, clock, forms_dir, tmp_path):
    cert, key, chain = signing.make_demo_certificate(tmp_path / "firma")
    svc = make_services(database_url, clock, forms=office_forms(lambda: clock(), forms_dir),
                        signing_cert=str(cert), signing_key=str(key), signing_chain=str(chain))
    try:
        case_id, [row] = start(svc, OFICIO_PROCESS)
        tasks.complete_task(svc, principal_for("oficial1"), row["id"], {**ONE, "cofirmante": "Luis Chex"})
        [doc] = issued(svc, case_id)
        assert doc["signature"] == "pades"
        assert [s["role"] for s in json.loads(doc["signers_json"])] == ["signer", "cosigner"]
        verified = signing.verify(doc["pdf"], svc.signer)
        assert (verified["status"], verified["demo"]) == ("valid", True)
        assert "Luis Chex" in verified["name"]
        changed = bytearray(doc["pdf"])
        at = changed.index(b"/Length", 2000)  # inside the signed revision
        changed[at + 8] = ord("9") if changed[at + 8] != ord("9") else ord("8")
        assert signing.verify(bytes(changed), svc.signer)["status"] == "invalid"
        assert signing.verify(doc["pdf"], None)["status"] == "untrusted"
    finally:
        svc.db.dispose()


def issue_previo(office) -> int:
    """A case filed with the citizen's e-mail whose first step issued a previo; returns the case's id."""
    bpmn = linear(task("Emitir previo", "previo_prueba", "previo"), task("Seguir", "sin_campos"),
                  start_form="ingreso")
    case_id, [row] = start(office, bpmn, {"correo": "ana@example.com", "nombre": "Ana Xajil"})
    tasks.complete_task(office, principal_for("oficial1"), row["id"], {
        "previo_requerimientos": [{"requisito": "Plan de seguridad", "fundamento": "Decreto 574"}],
        "previo_plazo_dias": 10})
    return case_id


def test_a_previo_is_mailed_to_the_citizen_with_its_pdf(office):
    case_id = issue_previo(office)
    previo = issued(office, case_id)[-1]
    assert previo["kind"] == "previo" and "Plan de seguridad" in previo["text"]
    mails = [m for m in outbox_rows(office, case_id) if m["kind"] == "documento"]
    assert [(m["to_address"], m["document_id"]) for m in mails] == [("ana@example.com", previo["id"])]
    assert previo["number"] in mails[0]["subject"] and previo["verification_code"] in mails[0]["body"]


@pytest.mark.parametrize("element, problem", [
    (task("Enviar", "oficio_prueba", "carta"), "no existe"),
    (task("Enviar", "sin_campos", "oficio"), "oficio_destinatario"),
    (task("Enviar", "oficio_prueba", "constancia_recepcion"), "constancia"),
    (task("Enviar", "oficios_prueba", "oficio", each="nota"), "documentEach"),
    (task("Enviar", "oficio_prueba", "oficio", kind="scriptTask"), "tarea de usuario"),
])
def test_a_wrong_document_declaration_is_refused_at_deploy_naming_the_task(office, element, problem):
    with pytest.raises(SpecInvalid) as refused:
        deploy_files(office, {"p.bpmn": linear(element)})
    [found] = refused.value.problems
    assert found.element_id == "e0" and problem in str(found.message)


def test_a_document_its_case_cannot_fill_refuses_the_step_and_changes_nothing(office):
    # A licence certificate cites the case's resolution: in a case without one, it cannot be issued.
    case_id, [row] = start(office, linear(task("Emitir certificado", "certificado_prueba", "licencia"),
                                          task("Seguir", "sin_campos")))
    data = {"certificado_vigencia_desde": "2030-01-10", "certificado_vigencia_hasta": "2030-01-12"}
    with pytest.raises(DocumentIncomplete) as refused:
        tasks.document_draft(office, principal_for("oficial1"), row["id"], data)
    assert "resolucion" in str(refused.value.message)
    with pytest.raises(DocumentIncomplete):
        tasks.complete_task(office, principal_for("oficial1"), row["id"], data)
    assert [t["state"] for t in task_rows(office, case_id)] == ["ready"] and issued(office, case_id) == []
    history = [e["kind"] for e in cases.case_history(office, principal_for("oficial1"), case_id)]
    assert "task_completed" not in history
    with office.uow(write=False) as uow:  # the number taken in the refused transaction went back with it
        assert list(uow.conn.exec_driver_sql("SELECT last FROM document_counters")) == []


def test_a_field_left_empty_and_an_earlier_co_signer_do_not_reach_the_document(office):
    # Two oficios in one case: the first names a co-signer and a post; the second leaves both empty.
    case_id, [row] = start(office, linear(task("Primero", "oficio_prueba", "oficio"),
                                          task("Segundo", "oficio_prueba", "oficio")))
    tasks.complete_task(office, principal_for("oficial1"), row["id"], {**ONE, "cofirmante": "Luis Chex"})
    [second] = [t for t in task_rows(office, case_id) if t["state"] == "ready"]
    plain = {k: v for k, v in ONE.items() if k != "oficio_cargo"}
    tasks.complete_task(office, principal_for("oficial1"), second["id"], plain)
    first_doc, second_doc = issued(office, case_id)
    assert [s["role"] for s in json.loads(first_doc["signers_json"])] == ["signer", "cosigner"]
    assert [s["role"] for s in json.loads(second_doc["signers_json"])] == ["signer"]
    assert "Luis Chex" not in second_doc["text"] and "Jefe de la Comisaría 71" not in second_doc["text"]
    assert json.loads(second_doc["data_json"])["oficio_cargo"] is None
