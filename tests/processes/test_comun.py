"""The shared call activities (completeness review, notification, the Governor's signature) and the
requirements table, walked through procedure A as the office runs them."""
from __future__ import annotations

import ast
import json
from datetime import date, timedelta

import pytest
from lxml import etree

from engine.usecases import cases, tasks
from engine.config import DEFAULT_PLAZOS
from engine.errors import FormInvalid
from forms.registry import FORMS_DIR
from tests.conftest import SYSTEM, principal_for
from tests.documents_helpers import pdf_text
from tests.processes.case_documents import assert_documents
from tests.processes.driver import PROCESSES, office
from tests.processes.institution_walk import waits
from tests.processes.licencia_walk import (
    RESOLUTION_DRAFT, closing, dictamen, due, fix, issue_previo, local, opinion, present_fix, receive,
    request_opinions, review, sign, start, verify_fix,
)

ONE_MINUTE = timedelta(minutes=1)
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


def incomplete(svc, **kwargs):
    """A filed licence whose single review found something missing: the previo is next."""
    walk = receive(start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9), **kwargs))
    review(walk, complete=False)
    assert walk.ready() == ["emitir_previo"]
    assert walk.task("emitir_previo")["candidate_group"] == "ventanilla"
    return walk


def submit(walk, element_id: str, data: dict):
    """Try to complete a task; return the refusal."""
    with pytest.raises(FormInvalid) as refused:
        tasks.complete_task(walk.svc, principal_for("oficial1"), walk.task(element_id)["id"], data)
    return refused.value


def opinions_asked(walk) -> bool:
    """The licence went on past the review: its service tasks asked the PNC and CONRED, whose answers it awaits."""
    return sorted(w[0] for w in waits(walk.svc, walk.id) if w[2] == "waiting") == \
        ["recibir_opinion_coordinador", "recibir_opinion_pnc"]


# -- comun_revision_completitud: each branch ---------------------------------------------------------

def test_complete_file_goes_on_without_a_previo(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    assert walk.task("revisar_completitud")["candidate_group"] == "ventanilla"
    review(walk, complete=True)
    assert walk.ready() == [] and opinions_asked(walk)  # the licence goes on: it asks the opinions
    data = walk.data
    assert data["expediente_completo"] is True and data["archivado_por_falta"] is False
    # No previo, no subsanación deadline: the only timers are the opinions' (due 5 working days later).
    assert "documento_previo" not in data and {e for (e, _d, _s) in walk.timers()} == {"vence_opinion_pnc",
                                                                                     "vence_opinion_coordinador"}


def test_previo_fixed_on_the_last_day_goes_on(svc):
    walk = incomplete(svc)
    # Previo notified Mon 30 Mar 2026: 31, 1, (Holy Thu 2, Good Fri 3, Sat 4, Sun 5), 6, 7, 8, 9, 10, 13, 14, 15
    # → 10 working days end Wed 15 Apr at 16:30.
    issue_previo(walk, local(2026, 3, 30, 10))
    assert due(walk, "vence_subsanacion") == closing(date(2026, 4, 15))
    walk.at(closing(date(2026, 4, 15)) - timedelta(minutes=30))
    assert walk.ready() == ["recibir_subsanacion"]
    present_fix(walk, local(2026, 4, 15, 16))
    # Receiving stops the deadline: the clerk's verification after it has passed does not archive the file.
    assert [s for (e, _d, s) in walk.timers()] == ["cancelled"]
    assert walk.task("verificar_subsanacion")["candidate_group"] == "ventanilla"
    walk.at(closing(date(2026, 4, 16)))
    assert walk.ready() == ["verificar_subsanacion"] and walk.history().count("timer_fired") == 0
    verify_fix(walk, complete=True)
    assert walk.ready() == [] and opinions_asked(walk)
    data = walk.data
    assert data["expediente_completo"] is True and data["archivado_por_falta"] is False
    assert data["subsanacion_vence"] == closing(date(2026, 4, 15)).isoformat()
    assert walk.route.count("emitir_previo") == 1
    assert data["previo_plazo_dias"] == 10  # the setting, read before the clerk sees the draft
    assert_documents(walk, ("constancia_recepcion", None, []),
                     ("previo", "PRE-GDCH-2026-0001", ["Licencia municipal de sonido",
                                                       "Código Municipal, Decreto 12-2002", "Decreto 5-2021",
                                                       "10 días hábiles", "se archivará",
                                                       cases.get_case(svc, SYSTEM, walk.id)["tracking_code"]]),
                     # The licence went on: the opinion requests' oficios (to the PNC and CONRED).
                     ("oficio", "OF-GDCH-2026-0001", []), ("oficio", "OF-GDCH-2026-0002", []))


def test_previo_not_answered_in_time_archives_the_file(svc):
    walk = incomplete(svc)
    issue_previo(walk, local(2026, 3, 30, 10))
    walk.at(closing(date(2026, 4, 15)) - ONE_MINUTE)
    assert walk.ready() == ["recibir_subsanacion"] and walk.state == "running"
    walk.at(closing(date(2026, 4, 15)) + ONE_MINUTE)
    assert walk.ready() == [] and walk.state == "completed"
    data = walk.data
    assert data["archivado_por_falta"] is True and data["expediente_completo"] is False
    assert data["motivo_archivo"] == "plazo_subsanacion_vencido"
    assert data["estado_licencia"] == "archivada_por_falta_de_requisitos"
    assert walk.history().count("timer_fired") == 1


def test_an_incomplete_fix_archives_the_file_without_a_second_previo(svc):
    walk = incomplete(svc)
    issue_previo(walk, local(2026, 3, 30, 10))
    fix(walk, local(2026, 4, 8), complete=False)
    assert walk.ready() == [] and walk.state == "completed"
    data = walk.data
    assert data["archivado_por_falta"] is True and data["motivo_archivo"] == "subsanacion_incompleta"
    assert data["estado_licencia"] == "archivada_por_falta_de_requisitos"
    assert walk.route == ["emitir_constancia", "revisar_completitud", "emitir_previo", "recibir_subsanacion",
                          "verificar_subsanacion"]
    assert data["verificacion_observaciones"] == "Falta la licencia municipal de sonido vigente."


def test_receiving_a_fix_asks_for_no_verdict_and_verifying_asks_only_for_it(svc):
    walk = incomplete(svc)
    issue_previo(walk, local(2026, 3, 30, 10))
    walk.svc.clock.now = local(2026, 4, 8, 11)  # the desk records the fix after receiving it
    refused = submit(walk, "recibir_subsanacion", {"subsanacion_fecha": "2026-04-08T10:00:00-06:00",
                                                   "subsanacion_documentos": ["Licencia municipal de sonido"],
                                                   "subsanacion_completa": True})
    # The verdict is not the desk's here: the reception form has no such field.
    assert [(e["field"], e["message"]) for e in refused.errors] == \
        [("(formulario)", "El formulario no tiene el campo subsanacion_completa.")]
    present_fix(walk, local(2026, 4, 8))
    refused = submit(walk, "verificar_subsanacion", {"verificacion_observaciones": "Revisado."})
    assert [(e["field"], e["message"]) for e in refused.errors] == [("subsanacion_completa",
                                                                     "Este campo es obligatorio.")]
    assert walk.ready() == ["verificar_subsanacion"] and walk.state == "running"


def test_the_time_to_fix_is_a_setting(sqlite_url, clock):
    svc = office(sqlite_url, clock, plazos={**DEFAULT_PLAZOS, "subsanacion_dias": 3})
    try:
        walk = incomplete(svc)
        issue_previo(walk, local(2026, 3, 30, 10))
        assert due(walk, "vence_subsanacion") == closing(date(2026, 4, 6))  # 31, 1, (Holy Week), 6
    finally:
        svc.db.dispose()


def test_an_incomplete_review_must_list_what_is_missing(svc):
    walk = receive(start(svc, at=local(2026, 3, 30, 9)))
    refused = submit(walk, "revisar_completitud", {"completo": False})
    assert [(e["field"], e["message"]) for e in refused.errors] == [("faltantes", "Este campo es obligatorio.")]
    refused = submit(walk, "revisar_completitud", {"completo": False, "faltantes": []})
    assert [(e["field"], e["message"]) for e in refused.errors] == [("faltantes", "Liste al menos un requisito faltante.")]
    assert walk.ready() == ["revisar_completitud"]  # a refused submission changes nothing


# -- comun_firma_despacho and comun_notificacion ---------------------------------------------------------

def to_signature(svc):
    walk = receive(start(svc, "rifa_sorteo", at=local(2026, 3, 30, 9)))
    review(walk)
    request_opinions(walk, local(2026, 3, 31))
    opinion(walk, "pnc", local(2026, 4, 1))
    return dictamen(walk)


def test_a_resolution_without_its_legal_basis_is_refused(svc):
    walk = to_signature(svc)
    unfounded = {k: v for k, v in RESOLUTION_DRAFT.items() if k != "resolucion_fundamento"}
    refused = submit(walk, "firmar_resolucion", {**unfounded, "resolucion_decision": "favorable"})
    assert [(e["field"], e["message"]) for e in refused.errors] == \
        [("resolucion_fundamento", "Este campo es obligatorio.")]
    refused = submit(walk, "firmar_resolucion", {**unfounded, "resolucion_decision": "favorable",
                                                 "resolucion_fundamento": "Ley"})
    assert [(e["field"], e["message"]) for e in refused.errors] == \
        [("resolucion_fundamento", "Toda resolución debe citar su fundamento legal (al menos 10 caracteres).")]
    refused = submit(walk, "firmar_resolucion", {**RESOLUTION_DRAFT, "resolucion_decision": "favorable",
                                                 "resolucion_numero": "RES-1"})
    assert [e["message"] for e in refused.errors] == \
        ["El formulario no tiene el campo resolucion_numero."]  # the number is the system's, never typed
    assert walk.ready() == ["firmar_resolucion"]
    walk.svc.clock.now = local(2026, 4, 13, 9)
    sign(walk, "desfavorable")
    data = walk.data
    assert (data["documento_resolucion"]["numero"], data["resolucion_decision"]) == \
        ("RES-GDCH-2026-0001", "desfavorable")
    assert data["cofirmante"] == "Ana Lucía Cutzal"
    assert data["resolucion_fecha"] == local(2026, 4, 13, 9).isoformat()


def test_the_governor_reviews_the_resolution_the_legal_adviser_drafted(svc):
    """The dictamen's form drafts the resolution under the firma form's own field names: the Governor's form opens
    with them (the page fills a form from the case's data) and its draft renders them, unnumbered."""
    walk = to_signature(svc)
    fields = svc.forms.get("firma_despacho")["properties"]
    prefilled = {k: v for k, v in walk.data.items() if k in fields}
    assert prefilled == RESOLUTION_DRAFT
    draft = tasks.document_draft(svc, principal_for("gobernador"), walk.task("firmar_resolucion")["id"],
                                 {**prefilled, "resolucion_decision": "favorable"})
    text = pdf_text(draft["pdf"])
    assert "BORRADOR" in text and "RES-GDCH" not in text
    assert "CONSIDERANDO: Que la Policía Nacional Civil opinó favorablemente." in text
    assert "I. Se autoriza el evento en las condiciones indicadas." in text
    assert walk.ready() == ["firmar_resolucion"]  # a draft completes nothing


def test_notification_records_place_form_day_and_hour_in_utc(svc):
    walk = sign(to_signature(svc), "desfavorable")
    walk.svc.clock.now = local(2026, 4, 14, 18)  # recorded after the notification (a future one is refused)
    refused = submit(walk, "notificar_interesado", {"notificacion_forma": "personal", "notificacion_lugar": "Oficina",
                                                    "notificacion_fecha_hora": "2026-04-14T10:00:00",
                                                    "notificacion_recibido_por": "Ana"})
    assert [e["field"] for e in refused.errors] == ["notificacion_fecha_hora"]  # the hour needs its zone
    walk.complete("notificar_interesado", {"notificacion_forma": "cedula", "notificacion_lugar": "3a. calle 2-10 z. 1",
                                           "notificacion_fecha_hora": "2026-04-14T17:45:00-06:00",
                                           "notificacion_recibido_por": "Se fijó cédula en la puerta"})
    data = walk.data
    assert data["fecha_notificacion"] == "2026-04-14T23:45:00+00:00"
    assert (data["notificacion_forma"], data["notificacion_lugar"]) == ("cedula", "3a. calle 2-10 z. 1")
    # Counted from the office-local day of notification (Tue 14 Apr): 15, 16, 17, 20, 21.
    assert due(walk, "vence_plazo_recurso") == closing(date(2026, 4, 21))


# -- the requirements table -------------------------------------------------------------------------------

def test_the_requirements_table_covers_every_kind_of_the_intake_form_once():
    root = etree.parse(str(PROCESSES / "requisitos_licencia.dmn")).getroot()
    [table] = root.findall(".//dmn:decisionTable", DMN_NS)
    outputs = [o.get("name") for o in table.findall("dmn:output", DMN_NS)]
    assert outputs == ["requisitos", "requiere_opinion_pnc", "requiere_opinion_coordinador"]
    rows = {}
    for rule in table.findall("dmn:rule", DMN_NS):
        [kind] = [ast.literal_eval(e.findtext("dmn:text", namespaces=DMN_NS)) for e in rule.findall("dmn:inputEntry", DMN_NS)]
        values = [ast.literal_eval(e.findtext("dmn:text", namespaces=DMN_NS)) for e in rule.findall("dmn:outputEntry", DMN_NS)]
        assert kind not in rows, f"{kind} has two rules"
        rows[kind] = dict(zip(outputs, values))
    form = json.loads((FORMS_DIR / "licencia_solicitud.schema.json").read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(form["properties"]["tipo_licencia"]["enum"])
    for kind, row in rows.items():
        assert row["requisitos"] and all(isinstance(r, str) and r for r in row["requisitos"]), kind
        assert isinstance(row["requiere_opinion_pnc"], bool) and isinstance(row["requiere_opinion_coordinador"], bool)
