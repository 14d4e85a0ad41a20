"""Institutions answering a case through the reply link its service task mailed them (engine/usecases/institutions.py),
as the public reply page does it: the answer is delivered into the waiting case as a message."""
from __future__ import annotations

import atexit
import io
import shutil
import tempfile
from pathlib import Path

from engine.usecases import institutions, messaging
from engine.usecases.attachments import AttachmentStore
from tests.conftest import SYSTEM

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def store_of(svc) -> AttachmentStore:
    """Where the answers' files go: one folder per test's services, removed when the run ends."""
    store = getattr(svc, "walk_store", None)
    if store is None:
        folder = tempfile.mkdtemp(prefix="expediente-respuestas-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # gone when the run ends
        store = AttachmentStore(Path(folder))
        svc.walk_store = store
    return store


def token(walk, result_variable: str) -> str:
    """The secret of the reply link the request stored in `result_variable` mailed."""
    return institutions.link_for(walk.svc, walk.data[result_variable]["solicitud"]).rsplit("/", 1)[1]


def reply(walk, result_variable: str, text: str, *, pdf: str | None = None, link: str | None = None) -> dict:
    """The institution answers on the link of the request in `result_variable` (or on `link`), with a PDF if named."""
    files = [(pdf, io.BytesIO(PDF))] if pdf else []
    return institutions.submit_reply(walk.svc, link or token(walk, result_variable), text, files,
                                     store=store_of(walk.svc))


def message_state(svc, message_id: int) -> dict:
    return messaging.get_message(svc, SYSTEM, message_id)


def waits(svc, case_id: int) -> list[tuple]:
    """(element, message name, state) of what the case waits for and waited for, oldest first."""
    with svc.uow(write=False) as uow:
        return [tuple(r) for r in uow.conn.exec_driver_sql(
            f"SELECT element_id, name, state FROM message_waits WHERE case_id = {int(case_id)} ORDER BY id").all()]
