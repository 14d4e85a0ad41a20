"""Procedure C (mediación de tierras): the RIC's and the registry's certificates arrive as messages from their reply
links (tests/processes/test_mediacion_tierras.py walks them on time): early, and never (reiterated; an answer on the
superseded link stays visible, then undeliverable)."""
from __future__ import annotations

from engine.usecases import delivery, institutions, messaging
from tests.conftest import SYSTEM
from tests.processes.driver import closing, local
from tests.processes.institution_walk import waits
from tests.processes.test_mediacion_tierras import (
    ONE_MINUTE, admit, certificate, start, summon_and_inspect, waiting,
)


def test_a_certificate_posted_before_the_case_asks_for_it_is_kept_and_taken_when_it_waits(svc):
    walk = start(svc, local(2027, 3, 15))
    early = messaging.post_message(svc, SYSTEM, "certificacion_ric", {"caso": walk.id},
                                   {"respuesta": "Certificación catastral entregada en mano al mediador."})
    assert early["state"] == "pending" and walk.case.number in early["reason"]
    walk.complete("evaluar_admisibilidad", {"mediacion_admisible": True,
                                            "admisibilidad_razon": "Conflicto de linderos sin proceso judicial."},
                  actor="juridico1")
    walk.complete("acta_admision", {"admision_fecha": "2027-03-15", "admision_hora": "10:30",
                                    "admision_mediador": "Lic. Rosa Xinico",
                                    "admision_instituciones_convocadas": ["ric"]}, actor="mediador1")
    # The RIC's wait started with the admission: the early certificate was delivered to it at once.
    assert messaging.get_message(svc, SYSTEM, early["id"])["state"] == "delivered"
    assert walk.data["certificacion_ric"]["respuesta"].startswith("Certificación catastral")
    assert sorted(waits(svc, walk.id)) == [("recibir_certificacion_registro", "certificacion_registro", "waiting"),
                                           ("recibir_certificacion_ric", "certificacion_ric", "delivered")]
    assert waiting(walk) == {"certificacion_registro_vencida"}


def test_a_certificate_that_never_comes_is_reiterated_and_an_answer_on_the_old_link_stays_visible(svc):
    walk = start(svc, local(2027, 3, 15))
    walk.at(local(2027, 3, 16))
    admit(walk)
    old_link = institutions.link_for(svc, walk.data["solicitud_registro"]["solicitud"]).rsplit("/", 1)[1]
    summon_and_inspect(walk, "2027-06-07")
    certificate(walk, "ric")
    walk.at(closing(2027, 4, 8) + ONE_MINUTE)  # the registry never answered: reiterated
    assert walk.data["certificacion_registro_pedidas"] == 2 and walk.ready() == []
    # The registry then answers on the first link (it still takes answers for a while): nothing waits for that
    # request any more, so the message is kept pending, with its reason, where supervisors see it.
    late = certificate(walk, "registro", link=old_link)
    kept = messaging.get_message(svc, SYSTEM, late["message_id"])
    assert kept["state"] == "pending" and kept["reason"]
    assert late["message_id"] in {m["id"] for m in messaging.list_messages(svc, SYSTEM, state="pending")["items"]}
    assert "certificacion_registro" not in walk.data and walk.ready() == []
    # The answer on the reiteration's link is the one the case takes.
    certificate(walk, "registro")
    assert walk.ready() == ["registrar_sesion"]
    # The superseded answer is never claimed: past the keeping time it is undeliverable, still listed.
    walk.later(days=svc.settings.message_pending_days + 1)
    delivery.deliver_queued(svc, sweep=True)
    assert messaging.get_message(svc, SYSTEM, late["message_id"])["state"] == "undeliverable"
