"""An upload from the case page in Chromium carries an Idempotency-Key, so a retried upload attaches once."""
from __future__ import annotations

import re

from engine.usecases import attachments
from engine.usecases import cases
from tests.api.probes import PDF_BYTES
from tests.conftest import SYSTEM, principal_for
from tests.e2e.chromium import new_page
from tests.processes.licencia_walk import intake


def test_an_upload_from_the_case_page_sends_a_key_and_attaches_the_file_once(browser, server):
    base, svc = server
    started = cases.start_case(svc, principal_for("ventanilla1"), "licencia", intake())
    page = new_page(browser, base, "ventanilla1", f"/expedientes/{started.id}")
    sent = []
    page.on("request", lambda r: sent.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/attachments") else None)
    page.set_input_files("#upload", files=[{"name": "acta.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    page.wait_for_selector("#attachments li")  # the page reloads once the file is in
    assert [a["filename"] for a in attachments.list_attachments(svc, SYSTEM, started.id)] == ["acta.pdf"]
    assert len(sent) == 1 and re.fullmatch(r"[0-9a-f]{32}-1", sent[0])
    page.context.close()
