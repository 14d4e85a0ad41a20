"""Running licence cases at every step a case of it waits at, many of them fast: a few walked through the use cases,
the rest cloned from those (the workflow text with fresh task ids, its open task, timer and wait rows), for the
migration tests and bench/migration.py."""
from __future__ import annotations

import re
import secrets
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from engine.storage import models
from engine.usecases.deploy import deploy_files, read_paths
from tests.processes import licencia_walk as lw
from tests.processes.driver import PROCESSES, local

V2 = Path(__file__).parent / "fixtures" / "licencia_v2.bpmn"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Where each walked case waits (its top-level element) and what v2 does with it (tests/fixtures/licencia_v2.bpmn:
# elaborar_dictamen renamed redactar_dictamen, revisar_dictamen added after it, emitir_certificado removed).
POSITIONS = ("emitir_constancia", "revision_completitud", "recibir_opinion_pnc", "elaborar_dictamen",
             "firma_gobernador", "notificar_resolucion", "emitir_certificado", "registrar_recurso")


def walk_bases(svc) -> dict[str, int]:
    """One walked case waiting at each of POSITIONS: position -> case id."""
    at = local(2026, 3, 30, 9)

    def start():
        return lw.start(svc, "colecta_publica", at=at)
    bases = {"emitir_constancia": start()}
    bases["revision_completitud"] = lw.receive(start())
    bases["recibir_opinion_pnc"] = lw.to_opinions(start())
    w = lw.to_opinions(start())
    lw.opinion(w, "pnc")
    bases["elaborar_dictamen"] = w
    chain = []
    for step in ("firma_gobernador", "notificar_resolucion", "emitir_certificado", "registrar_recurso"):
        w = lw.to_opinions(start())
        lw.opinion(w, "pnc")
        lw.dictamen(w)
        if step != "firma_gobernador":
            lw.sign(w)
        if step in ("emitir_certificado", "registrar_recurso"):
            lw.notify(w, local(2026, 4, 14, 10))
        if step == "registrar_recurso":
            lw.certificate(w)
        bases[step] = w
        chain.append(w)
    return {position: walk.id for position, walk in bases.items()}


def _copy_rows(conn, table, case_id: int, new_case_id: int, ids: dict, state_column: str, live: str) -> None:
    rows = conn.execute(select(table).where(table.c.case_id == case_id, getattr(table.c, state_column) == live)
                        ).mappings().all()
    if rows:
        conn.execute(insert(table), [{**r, "id": ids.get(r["id"], r["id"]), "case_id": new_case_id} for r in rows])


def clone(svc, case_id: int, copies: int) -> list[int]:
    """`copies` new cases in the state of `case_id`, each with task ids of its own; their ids."""
    c = models.cases
    made = []
    with svc.uow() as uow:
        conn = uow.conn
        row = dict(conn.execute(select(c).where(c.c.id == case_id)).mappings().one())
        for n in range(copies):
            ids = {old: str(uuid.uuid4()) for old in set(_UUID.findall(row["workflow_json"]))}
            text = _UUID.sub(lambda m: ids[m.group(0)], row["workflow_json"])
            values = {**row, "number": f"{row['number']}-{n + 1}", "tracking_code": secrets.token_hex(8),
                      "workflow_json": text}
            del values["id"]
            new_id = conn.execute(insert(c).values(values)).inserted_primary_key[0]
            _copy_rows(conn, models.tasks, case_id, new_id, ids, "state", "ready")
            _copy_rows(conn, models.timers, case_id, new_id, ids, "state", "waiting")
            _copy_rows(conn, models.message_waits, case_id, new_id, ids, "state", "waiting")
            made.append(new_id)
        uow.commit()
    return made


def running_cases(svc, total: int) -> dict[int, str]:
    """`total` running licence cases spread over POSITIONS: case id -> where it waits."""
    bases = walk_bases(svc)
    per = total // len(bases)
    found = {}
    for i, (position, case_id) in enumerate(bases.items()):
        found[case_id] = position
        extra = per - 1 + (total - per * len(bases) if i == 0 else 0)
        for new_id in clone(svc, case_id, extra):
            found[new_id] = position
    return found


def deploy_v2(svc) -> None:
    """licencia v2 (tests/fixtures/licencia_v2.bpmn) with the procedures it calls, storing only its version."""
    files = {name: data for name, data in read_paths([PROCESSES]).items() if name != "licencia.bpmn"}
    deploy_files(svc, {**files, "licencia.bpmn": V2.read_bytes()}, actor="tests", only=frozenset({"licencia"}))
