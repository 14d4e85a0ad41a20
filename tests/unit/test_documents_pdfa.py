"""Every kind of document, rendered with the realistic data its template tests use and signed PAdES, is PDF/A
(XMP identification and the sRGB output intent) with every font embedded, and its signature verifies."""
from __future__ import annotations

import io
import re

import pypdf
import pytest

from engine.documents import kinds, signing
from engine.documents.render import PDF_VARIANT, render_pdf
from tests.unit import test_document_templates as samples_a
from tests.unit import test_document_templates_actas as samples_b
from tests.unit.test_documents_render import _fonts

ISSUED = sorted(k for k in kinds.KINDS if k != kinds.RECEIPT)


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    return signing.load_signer(*map(str, signing.make_demo_certificate(tmp_path_factory.mktemp("firma"))))


def test_every_issued_kind_has_a_sample():
    assert set(samples_a.SAMPLES) | set(samples_b.SAMPLES) >= set(ISSUED)


@pytest.mark.parametrize("kind", ISSUED)
def test_signed_document_is_pdf_a_with_embedded_fonts_and_a_valid_signature(kind, signer):
    module = samples_a if kind in samples_a.SAMPLES else samples_b
    pdf = render_pdf(kinds.kind(kind).template, module._context(kind))
    signed = signer.sign(pdf, signer_name="María Elena Xicará", cosigner=None, reason=kind)
    reader = pypdf.PdfReader(io.BytesIO(signed))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    part, conformance = PDF_VARIANT.removeprefix("pdf/a-")
    assert re.search(rf"pdfaid:part(?:>|=\"){part}", xmp)
    assert re.search(rf"pdfaid:conformance(?:>|=\"){conformance.upper()}", xmp)
    assert reader.trailer["/Root"]["/OutputIntents"]
    fonts = [f for page in reader.pages for f in _fonts(page.get("/Resources"), set())]
    assert fonts
    for font in fonts:
        if font.get("/Subtype") != "/Type0":
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(font["/FontDescriptor"].get_object()), font
    assert signing.verify(signed, signer)["status"] == "valid"
