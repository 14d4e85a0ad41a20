"""Fresh targets for one request each: cases, tasks and attachments made through the engine's use cases."""
from __future__ import annotations

import io
import itertools

from engine.usecases import attachments
from engine.usecases import cases
from engine.usecases import messaging
from engine.usecases import tasks
from engine.accounts.auth import create_token, principal_by_username
from tests.conftest import bpmn_fixture, principal_for
from tests.task_rows import task_rows

OWNER = "oficial1"  # a clerk of ventanilla and tramite: every probe's case is within his reach
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


def new_case(svc, data=None) -> int:
    return cases.start_case(svc, principal_for(OWNER), "five_step", data if data is not None else {"amount": 10}).id


def ready_task(svc) -> str:
    [task] = task_rows(svc, new_case(svc))
    return task["id"]


# A one-task procedure whose task issues the licence certificate (the real form and template).
CERTIFICATE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://x">
  <bpmn:process id="certificado_probe" name="Certificado" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Ventanilla"><bpmn:flowNodeRef>emitir</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="emitir"/>
    <bpmn:userTask id="emitir" name="Emitir certificado"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="form" value="licencia_certificado"/>
      <spiffworkflow:property name="document" value="licencia"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="emitir" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""
CERTIFICATE_DATA = {"certificado_vigencia_desde": "2030-01-10", "certificado_vigencia_hasta": "2030-01-12"}


def certificate_task(svc) -> str:
    """A ready task that issues a licence certificate (deployed on first use), in a case that holds the
    resolution the certificate cites."""
    from engine.documents.codes import verification_code
    from engine.storage.documents import store_document
    from engine.usecases.deploy import deploy_files
    deploy_files(svc, {"certificado_probe.bpmn": CERTIFICATE}, actor="test")
    case_id = cases.start_case(svc, principal_for(OWNER), "certificado_probe", {}).id
    with svc.uow() as uow:
        store_document(uow.conn, case_id=case_id, task_id=None, kind="resolucion", number=unique("RES-PROBE-"),
                       year=None, code=verification_code(), pdf=PDF_BYTES, pages=1, issued_at=svc.clock(),
                       issued_by=OWNER, citizen_facing=True)
        uow.commit()
    [task] = task_rows(svc, case_id)
    return task["id"]


def issued_document(svc) -> int:
    """An issued licence certificate's id (its case within the owner's reach)."""
    done = tasks.complete_task(svc, principal_for(OWNER), certificate_task(svc), CERTIFICATE_DATA)
    return done["documents"][0]["id"]


def claimed_task(svc, username: str) -> str:
    task_id = ready_task(svc)
    tasks.claim_task(svc, principal_for(username), task_id)
    return task_id


def errored_case(svc) -> int:
    case_id = new_case(svc, {})
    [task] = task_rows(svc, case_id)
    tasks.complete_task(svc, principal_for(OWNER), task["id"], {})  # the script needs "amount": the case errs
    return case_id


def suspended_case(svc) -> int:
    case_id = new_case(svc)
    cases.change_case_state(svc, principal_for("supervisor1"), case_id, "suspend", "probe")
    return case_id


def attachment(svc, store) -> int:
    return attachments.add_attachment(svc, principal_for(OWNER), store, new_case(svc), "acta.pdf",
                                      io.BytesIO(PDF_BYTES))["id"]


def own_token_id(svc, username: str | None) -> int:
    return create_token(svc, principal_by_username(svc, username or OWNER), "probe")["id"]


def bpmn_upload(field: str = "files") -> dict:
    return {"data": {field: [(io.BytesIO(bpmn_fixture("five_step.bpmn")), "five_step.bpmn")]},
            "content_type": "multipart/form-data"}


def pdf_upload() -> dict:
    return {"data": {"file": (io.BytesIO(PDF_BYTES), "acta.pdf")}, "content_type": "multipart/form-data"}


_days = itertools.count(1)


def unique_day():
    """A different future day on every call (closure days are unique)."""
    from datetime import date, timedelta
    return date(2030, 1, 1) + timedelta(days=next(_days))


def closure_day(svc) -> str:
    """A closure day that exists, for a DELETE to remove."""
    from engine.usecases.closures import add_closure
    day = unique_day()
    add_closure(svc, principal_for("admin"), day, "Cierre de prueba")
    return day.isoformat()


def draft(svc) -> str:
    """A fresh valid draft of a new procedure (from the template); returns its key."""
    from engine.usecases.drafts import create_draft
    key = unique("tramite_prueba_")
    create_draft(svc, principal_for("supervisor1"), key, "Trámite de prueba")
    return key


def template_xml(key: str) -> str:
    from engine.usecases.drafts import TEMPLATE
    return TEMPLATE.read_text(encoding="utf-8").replace("{key}", key).replace("{name}", '"Prueba"')


def scheduler_alive(svc) -> str:
    """A fresh scheduler heartbeat (as a running scheduler stamps after each pass); returns /health."""
    from engine.ops.health import beat
    beat(svc, "probe-scheduler", svc.clock())
    return "/health"


def lost_message(svc) -> int:
    """A message nothing waits for (kept as undeliverable): what a supervisor retries or discards."""
    return messaging.post_message(svc, principal_for("admin"), "nadie_lo_espera", {"caso": 1}, {})["id"]


def spare_user(svc, groups=()) -> str:
    """A new clerk account for one call to change (its password reset, its groups)."""
    from engine.accounts.users import add_user
    username = unique("repuesto")
    add_user(svc, username, "clerk", "una-clave-larga-1", groups=list(groups))
    return username
