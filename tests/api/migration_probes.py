"""Fresh targets for the migration endpoints' rows of the authorization matrix: two versions of five_step (the
second only renamed), a case started on the newest one, and a planned migration between them."""
from __future__ import annotations

from engine.usecases import case_migration, case_migration_apply
from engine.usecases.deploy import deploy_files, list_versions
from tests.api import probes
from tests.conftest import bpmn_fixture, principal_for

ADMIN = principal_for("admin", role="admin")


def five_step_versions(svc) -> tuple[int, int]:
    """(first version id, newest version id) of five_step, deploying a renamed copy when there is only one."""
    rows = list_versions(svc, "five_step")
    if not rows:
        deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="tests")
    if len(rows) < 2:
        text = bpmn_fixture("five_step.bpmn").replace(b'name="Proceso de cinco pasos"',
                                                      b'name="Proceso de cinco pasos (v2)"')
        deploy_files(svc, {"five_step.bpmn": text}, actor="tests")
        rows = list_versions(svc, "five_step")
    return rows[0]["id"], rows[-1]["id"]


def planned(svc) -> int:
    """A migration planned (not applied) for a fresh case of five_step (started on the newest version) back to the
    first version."""
    old, new = five_step_versions(svc)
    case_id = probes.new_case(svc)
    return case_migration.plan_migration(svc, ADMIN, new, old, {}, {"case_ids": [case_id]})["id"]


def applied(svc) -> int:
    migration_id = planned(svc)
    case_migration_apply.apply_batch(svc, ADMIN, migration_id)
    return migration_id


def plan_body(svc) -> dict:
    old, new = five_step_versions(svc)
    return {"json": {"from_version_id": new, "to_version_id": old, "filters": {"case_ids": [probes.new_case(svc)]}}}


def choices_path(svc) -> str:
    old, new = five_step_versions(svc)
    return f"/api/migrations/choices?from_version_id={old}&to_version_id={new}"



def new_page(svc) -> str:
    """The page with the mapping table and the filters, from the newest version of five_step to the first."""
    old, new = five_step_versions(svc)
    return f"/migraciones/five_step/nueva?desde={new}&hacia={old}"


def simulate_form(svc) -> dict:
    """The "Simular" form of new_page for a fresh case (the register step maps to itself)."""
    old, new = five_step_versions(svc)
    return {"desde": str(new), "hacia": str(old), "paso-register": "register", "estado": "running",
            "expedientes": str(probes.new_case(svc))}
