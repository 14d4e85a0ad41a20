"""Every document of an approved licence, as the real procedure issued it, can be corrected with the real templates
and forms: the correction re-renders from the stored data, cites the same earlier documents, says what it corrects,
and (a change of a field the form declares) prints the change (engine/usecases/corrections.py)."""
from __future__ import annotations

from engine.documents import kinds
from engine.usecases import corrections, verification
from tests.conftest import principal_for
from tests.documents_helpers import issued
from tests.processes.licencia_walk import certificate, dictamen, local, notify, sign, start, to_opinions
from tests.processes.test_licencia import opinions_in_time

SUPERVISOR = principal_for("supervisor1", role="supervisor")
# A field each kind's correction changes (a list gains an item); the licence is corrected as it was (its fields
# are dates, printed in words).
CHANGED = {"oficio": "oficio_asunto", "dictamen": "dictamen_conclusion", "resolucion": "resolucion_puntos",
           "cedula_notificacion": "notificacion_recibido_por"}


def test_each_document_of_an_approved_licence_can_be_corrected(svc):
    walk = start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9))
    opinions_in_time(to_opinions(walk))
    dictamen(walk, "favorable")
    sign(walk, "favorable")
    walk.svc.clock.now = local(2026, 6, 26, 11)
    notify(walk, local(2026, 6, 26, 10))
    certificate(walk)
    originals = [d for d in issued(svc, walk.id) if d["kind"] != kinds.RECEIPT]
    assert [d["kind"] for d in originals] == ["oficio", "oficio", "dictamen", "resolucion", "cedula_notificacion",
                                              "licencia"]
    for original in originals:
        form = corrections.correction_form(svc, SUPERVISOR, original["id"])
        values = {f["name"]: f["value"] for f in form["fields"]}
        changed = CHANGED.get(original["kind"])
        changes = {} if changed is None else {changed: (values[changed] + ["Texto corregido."]
                                                       if isinstance(values[changed], list)
                                                       else values[changed] + " (texto corregido)")}
        made = corrections.correct_document(svc, SUPERVISOR, original["id"], changes, "Error de transcripción")
        correction = issued(svc, walk.id)[-1]
        assert correction["id"] == made["id"] and correction["number"] != original["number"]
        text = correction["text"]
        assert f"corrige {str(kinds.title(original['kind'])).lower()} {original['number']}" in text, text[:400]
        assert "Motivo: Error de transcripción." in text
        if changes:
            assert "exto corregido" in text, (original["kind"], changes)
        assert verification.verify_code(svc, original["verification_code"])["corrected_by"] == [made["number"]]
