"""Correcting an issued document: a new document of the same kind, with the kind's next number, naming the one it
corrects and why; the original stays in the case byte for byte, and its verification says it was corrected."""
from __future__ import annotations

import hashlib
import json
import threading

import pytest

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.mail.notifications import outbox_rows
from engine.storage.documents import documents_of_case, store_document
from engine.usecases import cases, corrections, tasks, verification
from engine.usecases.issuing import DocumentIncomplete
from tests.conftest import principal_for
from tests.documents_helpers import issued
from tests.integration.test_issuing import (  # noqa: F401 (fixtures)
    OFICIO_PROCESS, ONE, forms_dir, issue_previo, office, start, task,
)
from tests.bpmn import linear
from tests.task_rows import task_rows

SUPERVISOR = principal_for("supervisor1", role="supervisor")
REASON = "El destinatario es el subcomisario, no el comisario."


def issue_oficio(svc) -> tuple[int, dict]:
    case_id, [row] = start(svc, OFICIO_PROCESS)
    tasks.complete_task(svc, principal_for("oficial1"), row["id"], ONE)
    [doc] = issued(svc, case_id)
    return case_id, doc


def test_a_correction_is_a_new_numbered_document_naming_the_original_which_stays_unchanged(office):
    case_id, original = issue_oficio(office)
    form = corrections.correction_form(office, SUPERVISOR, original["id"])
    assert (form["document"]["number"], form["corrected_by"]) == ("OF-GDCH-2026-0001", None)
    fields = {f["name"]: f for f in form["fields"]}
    assert [f["name"] for f in form["fields"]][:4] == ["oficio_destinatario", "oficio_institucion",
                                                       "oficio_asunto", "oficio_cuerpo"]
    assert fields["oficio_destinatario"] == {"name": "oficio_destinatario", "label": None, "list": False,
                                             "required": True, "value": "Comisario Juan Pérez",
                                             "schema": {"type": "string"}}
    assert "documento_oficio" not in fields  # not a text: not editable

    row = corrections.correct_document(office, SUPERVISOR, original["id"],
                                       {"oficio_destinatario": "Subcomisario Pedro Cumes"}, REASON)
    docs = issued(office, case_id)
    assert [d["id"] for d in docs] == [original["id"], row["id"]]  # both stay in the case
    correction = docs[1]
    assert (correction["number"], correction["corrects_id"], correction["correction_reason"], correction["task_id"],
            correction["issued_by"]) == ("OF-GDCH-2026-0002", original["id"], REASON[:-1], None, "supervisor1")
    for part in ("Este documento corrige oficio OF-GDCH-2026-0001", f"Motivo: {REASON} Oficio",  # one final period
                 "Subcomisario Pedro Cumes", "Policía Nacional Civil", "OF-GDCH-2026-0002"):
        assert part in correction["text"], part
    assert f"(código {original['verification_code']})" in correction["text"].replace("- ", "-")  # a line may break it
    assert "Comisario Juan Pérez" not in correction["text"]
    assert json.loads(correction["data_json"])["oficio_destinatario"] == "Subcomisario Pedro Cumes"
    # The original: the same bytes and hash as issued; its verification names the correction.
    assert docs[0]["pdf"] == original["pdf"] and docs[0]["sha256"] == original["sha256"]
    assert hashlib.sha256(docs[0]["pdf"]).hexdigest() == original["sha256"]
    shown = verification.verify_code(office, original["verification_code"])
    assert (shown["status"], shown["corrected_by"]) == ("corrected", ["OF-GDCH-2026-0002"])
    assert verification.verify_code(office, correction["verification_code"])["status"] == "valid"
    history = cases.case_history(office, SUPERVISOR, case_id)
    events = [e for e in history if e["kind"] == "document_issued"]
    assert [(e["data"]["number"], e["data"]["corrects_id"]) for e in events] == [
        ("OF-GDCH-2026-0001", None), ("OF-GDCH-2026-0002", original["id"])]
    assert events[-1]["actor"] == "supervisor1"

    # Correcting the original again is refused, naming the correction to correct instead.
    with pytest.raises(Conflict) as refused:
        corrections.correct_document(office, SUPERVISOR, original["id"], {}, REASON)
    assert refused.value.details["corrected_by"] == "OF-GDCH-2026-0002"
    assert corrections.correction_form(office, SUPERVISOR, original["id"])["corrected_by"] == {
        "id": correction["id"], "number": "OF-GDCH-2026-0002"}
    # The correction itself can be corrected: the chain goes on with the next number.
    again = corrections.correct_document(office, SUPERVISOR, correction["id"], {"oficio_asunto": "Seguridad"},
                                         "Asunto más preciso.")
    assert (again["number"], again["corrects_id"]) == ("OF-GDCH-2026-0003", correction["id"])
    third = issued(office, case_id)[-1]["text"]
    assert "Subcomisario Pedro Cumes" in third and "Seguridad" in third and "OF-GDCH-2026-0002" in third


@pytest.mark.parametrize("changes, reason, field", [
    ({"oficio_destinatario": "Otro"}, "", "reason"),
    ({"oficio_destinatario": "Otro"}, "   ", "reason"),
    ({"oficio_destinatario": "Otro"}, None, "reason"),
    ({"campo_inventado": "x"}, REASON, "campo_inventado"),
    ({"documento_oficio": "x"}, REASON, "documento_oficio"),  # stored, but not a text
    ({"oficio_destinatario": ["una", "lista"]}, REASON, "oficio_destinatario"),  # not the stored type
    ({"oficio_destinatario": " "}, REASON, "oficio_destinatario"),  # the template needs it
])
def test_a_correction_without_reason_or_with_fields_it_may_not_change_is_refused(office, changes, reason, field):
    case_id, original = issue_oficio(office)
    with pytest.raises(InvalidInput) as refused:
        corrections.correct_document(office, SUPERVISOR, original["id"], changes, reason)
    assert field in {e["field"] for e in refused.value.details["errors"]}
    assert len(issued(office, case_id)) == 1
    # Nothing was taken: a valid correction gets the next number after the original's.
    assert corrections.correct_document(office, SUPERVISOR, original["id"], {}, REASON)["number"] == \
        "OF-GDCH-2026-0002"


def test_only_supervisors_and_administrators_correct_and_only_documents_of_cases_they_see(office):
    case_id, original = issue_oficio(office)
    clerk = principal_for("oficial1", role="clerk", groups=("tramite",))
    auditor = principal_for("auditor1", role="auditor")
    for who in (clerk, auditor):
        with pytest.raises(Forbidden):
            corrections.correct_document(office, who, original["id"], {}, REASON)
        with pytest.raises(Forbidden):
            corrections.correction_form(office, who, original["id"])
    with pytest.raises(NotFound):
        corrections.correct_document(office, SUPERVISOR, original["id"] + 1000, {}, REASON)
    assert corrections.correct_document(office, principal_for("admin"), original["id"], {}, REASON)["number"]


def test_the_receipt_is_not_corrected_this_way(office):
    bpmn = linear(task("Seguir", "sin_campos"), start_form="ingreso")
    case_id, _rows = start(office, bpmn, {"correo": "ana@example.com", "nombre": "Ana Xajil"})
    [receipt] = issued(office, case_id)  # issued at filing: the citizen gave an address
    with pytest.raises(InvalidInput):
        corrections.correct_document(office, SUPERVISOR, receipt["id"], {}, REASON)


def test_an_oficio_of_a_document_each_is_corrected_from_its_item_alone(office):
    case_id, [row] = start(office, linear(task("Oficios", "oficios_prueba", "oficio", each="envios"),
                                          task("Seguir", "sin_campos")))
    second = {**ONE, "oficio_destinatario": "Coordinadora Ana Sicán", "oficio_institucion": "CONRED"}
    tasks.complete_task(office, principal_for("oficial1"), row["id"], {"envios": [ONE, second]})
    first, other = issued(office, case_id)
    corrections.correct_document(office, SUPERVISOR, other["id"], {"oficio_asunto": "Plan de evacuación"}, REASON)
    corrected = issued(office, case_id)[-1]
    assert corrected["number"] == "OF-GDCH-2026-0003" and corrected["corrects_id"] == other["id"]
    assert "CONRED" in corrected["text"] and "Plan de evacuación" in corrected["text"]
    assert "Policía Nacional Civil" not in corrected["text"]


def test_a_corrected_previo_is_mailed_to_the_citizen_like_the_original(office):
    case_id = issue_previo(office)
    previo = issued(office, case_id)[-1]
    corrected = corrections.correct_document(office, SUPERVISOR, previo["id"], {},
                                             "El plazo se cuenta en días hábiles.")
    mails = [m for m in outbox_rows(office, case_id) if m["kind"] == "documento"]
    assert [(m["to_address"], m["document_id"]) for m in mails] == [
        ("ana@example.com", previo["id"]), ("ana@example.com", corrected["id"])]


def test_a_change_the_template_cannot_use_is_refused_whole(office):
    # A licence cites the case's resolution: its correction must find it too; without it nothing is issued.
    case_id, _original = issue_oficio(office)
    with office.uow() as uow:  # a licence issued earlier, in a case that has no resolution (as a fixture)
        licence = store_document(
            uow.conn, case_id=case_id, task_id=None, kind="licencia", number="LIC-GDCH-2026-0001", year=2026,
            code="7KQ2-M9XD-4TRB-PW3H", pdf=b"%PDF-1.7 stand-in", pages=1, issued_at=office.clock(),
            issued_by="oficial1", citizen_facing=True,
            data_json=json.dumps({"certificado_vigencia_desde": "2030-01-10",
                                  "certificado_vigencia_hasta": "2030-01-12"}))
        uow.commit()
    with pytest.raises(DocumentIncomplete):
        corrections.correct_document(office, SUPERVISOR, licence["id"], {}, REASON)
    with office.uow(write=False) as uow:
        assert [d["kind"] for d in documents_of_case(uow.conn, case_id)] == ["oficio", "licencia"]


def test_a_changed_value_is_checked_against_the_form_that_issued_the_document(office, forms_dir):
    # The licence's dates are dates: a correction cannot print "el trece" where the form asked for a date.
    (forms_dir / "certificado_prueba.schema.json").write_text(json.dumps({
        "type": "object", "properties": {
            "certificado_vigencia_desde": {"type": "string", "format": "date", "title": "Vigente desde"},
            "certificado_vigencia_hasta": {"type": "string", "format": "date", "title": "Vigente hasta"}}}),
        encoding="utf-8")
    bpmn = linear(task("Emitir certificado", "certificado_prueba", "licencia"), task("Seguir", "sin_campos"))
    case_id, [row] = start(office, bpmn)
    with office.uow() as uow:  # the resolution the licence cites
        store_document(uow.conn, case_id=case_id, task_id=None, kind="resolucion", number="RES-GDCH-2026-0009",
                       year=2026, code="7KQ2-M9XD-4TRB-PW3H", pdf=b"%PDF-1.7 stand-in", pages=1,
                       issued_at=office.clock(), issued_by="oficial1", citizen_facing=True)
        uow.commit()
    tasks.complete_task(office, principal_for("oficial1"), row["id"], {
        "certificado_vigencia_desde": "2030-01-10", "certificado_vigencia_hasta": "2030-01-12"})
    with office.uow(write=False) as uow:
        licence = documents_of_case(uow.conn, case_id)[-1]
    form = corrections.correction_form(office, SUPERVISOR, licence["id"])
    assert [(f["name"], f["label"]) for f in form["fields"]] == [
        ("certificado_vigencia_desde", "Vigente desde"), ("certificado_vigencia_hasta", "Vigente hasta")]
    with pytest.raises(InvalidInput) as refused:
        corrections.correct_document(office, SUPERVISOR, licence["id"], {"certificado_vigencia_hasta": "el trece"},
                                     REASON)
    assert [e["field"] for e in refused.value.errors] == ["certificado_vigencia_hasta"]
    made = corrections.correct_document(office, SUPERVISOR, licence["id"],
                                        {"certificado_vigencia_hasta": "2030-01-13"}, REASON)
    assert made["number"] == "LIC-GDCH-2026-0002"


def test_an_item_of_a_document_each_is_checked_in_its_array(office, forms_dir):
    schema = json.loads((forms_dir / "oficios_prueba.schema.json").read_text(encoding="utf-8"))
    schema["properties"]["envios"]["items"]["properties"]["oficio_asunto"]["maxLength"] = 40
    (forms_dir / "oficios_prueba.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    case_id, [row] = start(office, linear(task("Oficios", "oficios_prueba", "oficio", each="envios"),
                                          task("Seguir", "sin_campos")))
    tasks.complete_task(office, principal_for("oficial1"), row["id"],
                        {"envios": [ONE, {**ONE, "oficio_institucion": "CONRED"}]})
    second = issued(office, case_id)[1]
    with pytest.raises(InvalidInput) as refused:
        corrections.correct_document(office, SUPERVISOR, second["id"], {"oficio_asunto": "x" * 41}, REASON)
    assert [e["field"] for e in refused.value.errors] == ["oficio_asunto"]
    corrections.correct_document(office, SUPERVISOR, second["id"], {"oficio_asunto": "Plan de evacuación"}, REASON)
    stored = json.loads(issued(office, case_id)[-1]["data_json"])
    assert [e["oficio_asunto"] for e in stored["envios"]] == [ONE["oficio_asunto"], "Plan de evacuación"]


def test_two_corrections_of_the_same_document_at_once_issue_one(office):
    case_id, original = issue_oficio(office)
    outcomes, barrier = [], threading.Barrier(2)

    def correct(reason):
        barrier.wait()
        try:
            outcomes.append(corrections.correct_document(office, SUPERVISOR, original["id"], {}, reason)["number"])
        except Conflict as exc:
            outcomes.append(("conflict", exc.details["corrected_by"]))

    threads = [threading.Thread(target=correct, args=(r,)) for r in ("Primera", "Segunda")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == sorted(["OF-GDCH-2026-0002", ("conflict", "OF-GDCH-2026-0002")], key=str)
    assert [d["number"] for d in issued(office, case_id)] == ["OF-GDCH-2026-0001", "OF-GDCH-2026-0002"]


def cosigners(document: dict) -> list[str]:
    return [s["name"] for s in json.loads(document["signers_json"]) if s["role"] == "cosigner"]


def test_the_correction_is_cosigned_by_whoever_cosigned_the_original(office):
    # The oficio is co-signed; the previo's form has no co-signer, though the case's data still holds the oficio's.
    bpmn = linear(task("Enviar oficio", "oficio_prueba", "oficio"), task("Emitir previo", "previo_prueba", "previo"),
                  task("Seguir", "sin_campos"))
    case_id, [first] = start(office, bpmn)
    tasks.complete_task(office, principal_for("oficial1"), first["id"], {**ONE, "cofirmante": "Luis Chex"})
    [row] = [t for t in task_rows(office, case_id) if t["state"] == "ready"]
    tasks.complete_task(office, principal_for("oficial1"), row["id"], {
        "previo_requerimientos": [{"requisito": "Plan de seguridad", "fundamento": "Decreto 574"}]})
    oficio, previo = issued(office, case_id)
    assert json.loads(previo["data_json"])["cofirmante"] == "Luis Chex" and cosigners(previo) == []

    corrections.correct_document(office, SUPERVISOR, previo["id"], {}, REASON)
    corrections.correct_document(office, SUPERVISOR, oficio["id"], {}, REASON)
    previo_corrected, oficio_corrected = issued(office, case_id)[2:]
    assert cosigners(previo_corrected) == [] and "Luis Chex" not in previo_corrected["text"]
    assert cosigners(oficio_corrected) == ["Luis Chex"]
    corrections.correct_document(office, SUPERVISOR, oficio_corrected["id"], {"cofirmante": "Ana Sicán"}, REASON)
    assert cosigners(issued(office, case_id)[-1]) == ["Ana Sicán"]


def test_a_field_the_form_left_empty_may_be_filled_by_the_correction(office):
    case_id, [row] = start(office, OFICIO_PROCESS)
    tasks.complete_task(office, principal_for("oficial1"), row["id"], {k: v for k, v in ONE.items()
                                                                      if k != "oficio_cargo"})
    [original] = issued(office, case_id)
    fields = {f["name"]: f for f in corrections.correction_form(office, SUPERVISOR, original["id"])["fields"]}
    assert fields["oficio_cargo"] == {"name": "oficio_cargo", "label": None, "list": False, "required": False,
                                      "value": "", "schema": {"type": "string"}}
    with pytest.raises(InvalidInput):  # still of its declared type
        corrections.correct_document(office, SUPERVISOR, original["id"], {"oficio_cargo": ["a", "b"]}, REASON)
    corrections.correct_document(office, SUPERVISOR, original["id"], {"oficio_cargo": "Jefe de la Comisaría 71"},
                                 REASON)
    assert "Jefe de la Comisaría 71" in issued(office, case_id)[-1]["text"]
    assert "Jefe de la Comisaría 71" not in original["text"]
