"""The case page's electronic case file (documents and attachments in order with pages, folios and SHA-256) and
its link to the whole case file as one PDF, /expedientes/<id>/expediente.pdf, and the API's twins
/api/cases/<id>/case-file(.pdf) (who may fetch them: tests/web/test_page_authorization.py and
tests/api/test_authorization_matrix.py; the compilation itself: tests/integration/test_casefile.py)."""
from __future__ import annotations

import io
import re

import pypdf

from engine.usecases.attachments import add_attachment
from tests.conftest import principal_for
from tests.integration.test_casefile import A4, blank_pdf, png
from tests.web.conftest import login
from tests.web.test_receipt_pdf import download_receipt


def case_file_table(page: str) -> list[list[str]]:
    """The cells of the case page's case-file table, row by row, tags stripped."""
    table = page[page.index('<table id="case-file">'):]
    table = table[:table.index("</table>")]
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


def test_the_case_page_lists_the_case_file_with_folios_and_links_the_whole_pdf(app, office_svc):
    started, client, receipt, stored = download_receipt(app, office_svc)
    store = app.extensions["expediente.attachments"]
    clerk = principal_for("ventanilla1", role="clerk", groups=("ventanilla",))
    office_svc.clock.advance(minutes=5)
    scan = add_attachment(office_svc, clerk, store, started.id, "solicitud.pdf", io.BytesIO(blank_pdf(A4, A4)))
    office_svc.clock.advance(minutes=5)
    add_attachment(office_svc, clerk, store, started.id, "croquis.png", io.BytesIO(png("red")))
    office_svc.clock.advance(minutes=5)
    add_attachment(office_svc, clerk, store, started.id, "dañado.pdf", io.BytesIO(b"%PDF-1.4\nroto\n%%EOF\n"))

    page = client.get(f"/expedientes/{started.id}").get_data(as_text=True)
    rows = case_file_table(page)
    assert [row[1:5] for row in rows] == [
        ["Documento", "Constancia de recepción", "1", "2"],
        ["Anexo", "solicitud.pdf", "2", "3–4"],
        ["Anexo", "croquis.png", "1", "5"],
        ["Anexo", "dañado.pdf", "", "No incluido: páginas desconocidas"]]
    assert rows[0][5] == stored["sha256"][:12] + "…" and f'title="{stored["sha256"]}"' in page
    assert f'title="{scan["sha256"]}"' in page
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", rows[1][0])
    assert f'href="/expedientes/{started.id}/expediente.pdf">Expediente completo (PDF)</a>' in page
    assert "(5 folios)" in page

    answer = client.get(f"/expedientes/{started.id}/expediente.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert f"expediente-{started.number}.pdf" in answer.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(answer.get_data()))
    assert len(reader.pages) == 5
    assert all(f"Folio {n} de 5" in p.extract_text() for n, p in enumerate(reader.pages, start=1))

    # The API gives the same index as JSON, and the same file.
    index = client.get(f"/api/cases/{started.id}/case-file").get_json()
    assert (index["number"], index["index_folios"], index["folios"]) == (started.number, 1, 5)
    assert [(e["kind"], e["title"], e["folio_first"], e["folio_last"], e["included"]) for e in index["entries"]] == [
        ("documento", "Constancia de recepción", 2, 2, True), ("anexo", "solicitud.pdf", 3, 4, True),
        ("anexo", "croquis.png", 5, 5, True), ("anexo", "dañado.pdf", None, None, False)]
    api_pdf = client.get(f"/api/cases/{started.id}/case-file.pdf")
    assert api_pdf.mimetype == "application/pdf" and len(pypdf.PdfReader(io.BytesIO(api_pdf.get_data())).pages) == 5


def test_the_case_file_section_follows_the_pages_language(app, office_svc):
    started, client, _receipt, _stored = download_receipt(app, office_svc)
    client.get("/idioma/en")
    page = client.get(f"/expedientes/{started.id}").get_data(as_text=True)
    assert "Electronic case file" in page and "Complete case file (PDF)" in page
    assert case_file_table(page)[0][1] == "Document"
