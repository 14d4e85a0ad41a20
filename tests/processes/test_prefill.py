"""A task's form opens with the case's values only where its diagram says so (the user task's `prefill`): the
second notification of a licence opens empty, the Governor's signature opens with the legal adviser's draft, and
a draft saved for the task itself is restored."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.runtime.prefill import PREFILL_ALL, PREFILL_PROPERTY
from engine.errors import FormInvalid
from engine.usecases import tasks
from forms.registry import FormRegistry
from tests.conftest import principal_for
from tests.processes.driver import PROCESSES
from tests.processes.licencia_walk import (
    RESOLUTION_DRAFT, appeal, dictamen, local, notify, opinion, request_opinions, resolve_appeal, sign, start,
    to_opinions,
)

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
NOTIFIER = principal_for("notificador1")


def opened_with(walk, element_id: str, who) -> dict:
    return tasks.task_form(walk.svc, who, walk.task(element_id)["id"])["data"]


def denied_and_notified(svc):
    walk = to_opinions(start(svc, "espectaculo_publico", at=local(2026, 3, 30, 9)))
    request_opinions(walk)
    walk.svc.clock.now = local(2026, 4, 6)
    opinion(walk, "pnc", local(2026, 4, 6), "desfavorable")
    opinion(walk, "coordinador", local(2026, 4, 6), "desfavorable")
    dictamen(walk, "desfavorable")
    # The Governor's form opens with the resolution the legal adviser drafted (declared: prefill).
    assert opened_with(walk, "firmar_resolucion", principal_for("gobernador")) == RESOLUTION_DRAFT
    sign(walk, "desfavorable")
    assert opened_with(walk, "notificar_interesado", NOTIFIER) == {}
    walk.svc.clock.now = local(2026, 6, 26, 10)
    notify(walk, local(2026, 6, 26, 10))
    return walk


def test_the_second_notification_opens_empty_and_cannot_complete_unedited(svc):
    walk = denied_and_notified(svc)
    walk.svc.clock.now = local(2026, 7, 6, 16)
    appeal(walk, local(2026, 7, 6, 16))
    resolve_appeal(walk, "con_lugar")
    second = walk.task("notificar_interesado")["id"]
    assert walk.data["notificacion_lugar"] == "Oficina de la Gobernación"  # the first one's, still in the case
    form = tasks.task_form(svc, NOTIFIER, second)
    assert form["data"] == {}
    with pytest.raises(FormInvalid) as refused:  # the required fields are empty, not the first notification's
        tasks.complete_task(svc, NOTIFIER, second, form["data"])
    assert {e["field"] for e in refused.value.details["errors"]} >= {
        "notificacion_forma", "notificacion_lugar", "notificacion_fecha_hora", "notificacion_recibido_por"}
    assert walk.ready() == ["notificar_interesado"]


def test_a_draft_saved_for_the_task_itself_is_restored(svc):
    walk = denied_and_notified(svc)
    walk.svc.clock.now = local(2026, 7, 6, 16)
    resolve_appeal(appeal(walk, local(2026, 7, 6, 16)), "con_lugar")
    second = walk.task("notificar_interesado")["id"]
    draft = {"notificacion_forma": "cedula", "notificacion_lugar": "3a. calle 2-10 zona 1"}
    tasks.save_draft(svc, NOTIFIER, second, draft)
    assert tasks.task_form(svc, NOTIFIER, second)["data"] == draft


def prefill_declarations():
    """(file, element id, form key, declared value) of every user task with a `prefill` property."""
    found = []
    for path in sorted(PROCESSES.rglob("*.bpmn")):
        for task in etree.parse(str(path)).iterfind(".//bpmn:userTask", NS):
            props = {p.get("name"): p.get("value")
                     for p in task.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                                            NS)}
            if PREFILL_PROPERTY in props:
                found.append((path.name, task.get("id"), props.get("form"), props[PREFILL_PROPERTY]))
    return found


def test_every_prefill_declaration_names_fields_of_the_tasks_own_form():
    registry = FormRegistry()
    declared = prefill_declarations()
    assert {(f, e) for f, e, _k, _v in declared} >= {("comun_firma_despacho.bpmn", "firmar_resolucion"),
                                                     ("correspondencia_oficial.bpmn", "firmar_oficio_respuesta")}
    for name, element, form_key, value in declared:
        assert form_key, f"{name}: {element} declares prefill without a form"
        if value.strip().lower() == PREFILL_ALL:
            continue
        fields = [f for f in value.replace(",", " ").split() if f]
        assert fields, f"{name}: {element}: empty prefill"
        properties = registry.get(form_key)["properties"]
        unknown = [f for f in fields if f not in properties]
        assert not unknown, f"{name}: {element} pre-fills {unknown}, not fields of form {form_key}"
