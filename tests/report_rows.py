"""An office with cases, tasks and legal deadlines of KNOWN dates and outcomes, written as rows (no workflow runs),
for the reports' tests (tests/integration/test_reports.py, the API's and the browser's).

Office time (Guatemala, UTC-6). The reports are read on Friday 20 March 2026, 12:00, over January to March 2026.
The expected figures (worked out by hand in tests/integration/test_reports.py) follow from these rows alone.
"""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime

from sqlalchemy import insert

from engine.accounts.users import add_user, map_lane
from engine.storage import models
from engine.timekeeping.calendar import OFFICE_TZ
from engine.usecases.deploy import deploy_files
from tests.bpmn import definitions

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=OFFICE_TZ)
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}


def gt(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OFFICE_TZ)


def _diagram(process_id: str, name: str) -> bytes:
    return definitions('<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>'
                       '<bpmn:userTask id="t" name="Tarea"/><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>'
                       '<bpmn:endEvent id="end"/>', process_id, name)


# number -> (procedure, municipality, created, state, completed (or cancelled) at)
CASES = {
    "A1": ("alfa", "Chimaltenango", gt(12, 15, 10, year=2025), "completed", gt(1, 9, 10)),
    "A2": ("alfa", "Chimaltenango", gt(1, 5, 10), "completed", gt(1, 7, 16)),
    "A3": ("alfa", "Patzún", gt(1, 12, 9), "completed", gt(1, 19, 9)),
    "A4": ("alfa", "Patzún", gt(2, 2, 8), "completed", gt(2, 2, 17)),
    "A5": ("alfa", "Chimaltenango", gt(11, 1, year=2025), "cancelled", gt(12, 1, year=2025)),
    "A6": ("alfa", "Chimaltenango", gt(4, 1, 9), "running", None),
    "B1": ("beta", "Chimaltenango", gt(2, 10, 10), "cancelled", gt(2, 20, 10)),
    "B2": ("beta", "Patzún", gt(3, 3, 10), "running", None),
    "B3": ("beta", "Chimaltenango", gt(3, 31, 23, 30), "running", None),  # 05:30 UTC on 1 April: still March here
}

# (case, element, title, group, state, created, completed, due, holder/doer)
TASKS = [
    ("A1", "recibir", "Recibir solicitud", "ventanilla", "completed", gt(12, 15, 10, year=2025),
     gt(12, 16, 10, year=2025), None, "ana"),
    ("A2", "recibir", "Recibir solicitud", "ventanilla", "completed", gt(1, 5, 10), gt(1, 6, 10), gt(1, 6, 17), "ana"),
    ("A2", "resolver", "Resolver", "tramite", "completed", gt(1, 6, 10), gt(1, 7, 16), gt(1, 7, 12), "luis"),
    ("A3", "recibir", "Recibir solicitud", "ventanilla", "completed", gt(1, 12, 9), gt(1, 12, 11), gt(1, 13, 17),
     "ana"),
    ("A3", "resolver", "Resolver", "tramite", "completed", gt(1, 12, 11), gt(1, 19, 9), None, "luis"),
    ("B1", "revisar", "Revisar", "ventanilla", "cancelled", gt(2, 10, 10), gt(2, 20, 10), gt(2, 15, 12), None),
    ("B2", "revisar", "Revisar", "tramite", "ready", gt(3, 3, 10), None, gt(3, 10, 12), "luis"),
    ("B2", "firmar", "Firmar", "tramite", "ready", gt(3, 4, 10), None, gt(3, 25, 12), None),
    ("B3", "revisar", "Revisar", "tramite", "ready", gt(3, 31, 23, 30), None, gt(4, 10, 12), "luis"),
]

# (case, key, owner, group, element, state, due, extension days)
DEADLINES = [
    ("A1", "laip_revision_dias", "ciudadano", None, "recibir", "used", gt(1, 5), 0),
    ("A2", "laip_respuesta", "oficina", "ventanilla", "recibir", "met", gt(1, 19), 0),
    ("A3", "laip_respuesta", "oficina", "ventanilla", "recibir", "late", gt(1, 26), 10),
    ("A4", "laip_respuesta", "oficina", "ventanilla", "recibir", "met", gt(2, 16), 10),
    ("B1", "laip_respuesta", "oficina", "ventanilla", "revisar", "cancelled", gt(2, 20), 0),
    ("B2", "laip_respuesta", "oficina", "tramite", "revisar", "open", gt(3, 17), 0),
    ("B3", "laip_respuesta", "oficina", "tramite", "revisar", "open", gt(3, 27), 0),
]


def build_report_office(svc) -> dict[str, int]:
    """Deploy the two procedures, add the clerks, write the rows; return case ids by number."""
    deploy_files(svc, {"alfa.bpmn": _diagram("alfa", "Licencia alfa"),
                       "beta.bpmn": _diagram("beta", "Solicitud beta")}, actor="tests")
    for group in ("ventanilla", "tramite"):
        map_lane(svc, group.capitalize(), group)
    add_user(svc, "ana", "clerk", "contraseña-segura-1", groups=["ventanilla"], display_name="Ana Pérez")
    add_user(svc, "luis", "clerk", "contraseña-segura-1", groups=["tramite"], display_name="Luis Cano")
    pv = models.process_versions
    ids: dict[str, int] = {}
    serial = itertools.count(1)
    with svc.uow() as uow:
        conn = uow.conn
        versions = {r.process_key: r.id for r in conn.execute(pv.select())}
        for number, (key, town, created, state, closed) in CASES.items():
            ids[number] = conn.execute(insert(models.cases).values(
                number=f"RPT-{number}", tracking_code=f"TRK{next(serial):05d}", process_key=key,
                process_version_id=versions[key], state=state, version=1, workflow_json="{}",
                serializer_version="test", created_at=created, updated_at=closed or created,
                completed_at=closed if state == "completed" else None, title=f"Caso {number}",
                applicant_name="Solicitante", municipality=town)).inserted_primary_key[0]
        for number, element, title, group, state, created, completed, due, who in TASKS:
            conn.execute(insert(models.tasks).values(
                id=str(uuid.uuid4()), case_id=ids[number], element_id=element, title=title, lane=group,
                candidate_group=group, state=state, created_at=created, due_at=due, completed_at=completed,
                assignee=who if state == "ready" else None, completed_by=who if state == "completed" else None))
        for number, key, owner, group, element, state, due, extension in DEADLINES:
            start = CASES[number][2]
            conn.execute(insert(models.legal_deadlines).values(
                case_id=ids[number], key=key, title="Respuesta a la solicitud", basis="LAIP art. 42", owner=owner,
                owner_group=group, element_id=element, start_at=start, days=10, counting="habiles",
                extension_days=extension, due_at=due, state=state, opened_at=start,
                closed_at=None if state == "open" else due, alert_days_json="[]"))
        uow.commit()
    return ids
