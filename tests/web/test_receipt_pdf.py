"""The receipt page links its PDF/A form, which carries the case's receipt data (who may fetch it:
tests/web/test_page_authorization.py)."""
from __future__ import annotations

import io

import pypdf

from engine.usecases import cases
from tests.conftest import principal_for
from tests.processes.licencia_walk import intake
from tests.web.conftest import login


def test_the_receipt_page_links_a_pdf_with_the_receipt_data(app, office_svc):
    started = cases.start_case(office_svc, principal_for("ventanilla1"), "licencia",
                               intake(solicitante_nombre="Juana Sotz"))
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get(f"/expedientes/{started.id}/constancia").get_data(as_text=True)
    assert f'href="/expedientes/{started.id}/constancia.pdf"' in page
    answer = client.get(f"/expedientes/{started.id}/constancia.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert f"constancia-{started.number}.pdf" in answer.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(answer.get_data()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for part in ("GOBERNACIÓN DEPARTAMENTAL DE CHIMALTENANGO", "CONSTANCIA DE RECEPCIÓN", started.number,
                 started.tracking_code, "Juana Sotz", "ventanilla1"):
        assert part in text
