"""The document pipeline: the constancia de recepción rendered to PDF/A and read back with pypdf; verification
codes; dates in words."""
from __future__ import annotations

import io
import math
import re
from datetime import date, datetime, timezone

import jinja2
import pypdf
import pytest
from PIL import Image

from engine.documents import codes
from engine.documents.codes import parse_verification_code, verification_code
from engine.documents.dates import fecha, fecha_en_letras, hora, number_in_words
from engine.documents.receipt import TEMPLATE, receipt_context
from engine.documents.render import PDF_VARIANT, qr_png, render_pdf, verification_url
from engine.timekeeping.calendar import WorkingCalendar

CODE = "7KQ2-M9XD-4TRB-PW3H"
BASE_URL = "https://expediente.example.gob.gt"
SHOWN = {"case": {"number": "EXP-GDCH-2026-000123", "tracking_code": "K7M2PQ4X", "title": "Feria patronal",
                  "applicant_name": "María José Xajil Cúmez", "applicant_dpi": "2547123450401",
                  "municipality": "Tecpán Guatemala", "created_by": "oficial1",
                  # 16:45 in Guatemala, after the 16:30 cut-off: counts on the next working day
                  "created_at": datetime(2026, 12, 2, 22, 45, tzinfo=timezone.utc)},
         "name": "Licencia de eventos"}


@pytest.fixture(scope="module")
def pdf() -> pypdf.PdfReader:
    context = receipt_context(SHOWN, issued_at=datetime(2026, 12, 2, 22, 50, tzinfo=timezone.utc),
                              calendar=WorkingCalendar(), documents=[{"filename": "solicitud.pdf", "pages": 3}],
                              deadline="El plazo legal de 10 días hábiles corre desde la fecha de presentación.",
                              base_url=BASE_URL, code=CODE)
    return pypdf.PdfReader(io.BytesIO(render_pdf(TEMPLATE, context)))


def _text(reader: pypdf.PdfReader) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_receipt_text_has_heading_case_number_and_filing_date(pdf):
    text = _text(pdf)
    assert "GOBERNACIÓN DEPARTAMENTAL DE CHIMALTENANGO" in text
    assert "EXP-GDCH-2026-000123" in text
    assert "Chimaltenango, 2 de diciembre de 2026." in text
    assert "2 de diciembre de 2026, a las 16:45 horas" in text  # filing date and hour, Guatemala time
    assert "3 de diciembre de 2026" in text  # the day it counts as filed, after the cut-off
    for part in ("CONSTANCIA DE RECEPCIÓN", "Licencia de eventos", "María José Xajil Cúmez", "solicitud.pdf",
                 "K7M2PQ4X", "10 días hábiles", CODE, verification_url(BASE_URL, CODE)):
        assert part in text


def test_receipt_is_pdf_a(pdf):
    xmp = pdf.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    part, conformance = PDF_VARIANT.removeprefix("pdf/a-")
    assert re.search(rf"pdfaid:part(?:>|=\"){part}", xmp), xmp
    assert re.search(rf"pdfaid:conformance(?:>|=\"){conformance.upper()}", xmp), xmp
    assert pdf.trailer["/Root"]["/OutputIntents"]  # the sRGB output intent PDF/A requires


def _fonts(resources, seen: set) -> list:
    """Every font dictionary reachable from a resources dictionary (form XObjects included)."""
    found = []
    if resources is None or id(resources) in seen:
        return found
    seen.add(id(resources))
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        found.append(font)
        found += [d.get_object() for d in font.get("/DescendantFonts", [])]
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            found += _fonts(xobject.get("/Resources"), seen)
    return found


def test_every_font_is_embedded(pdf):
    fonts = [f for page in pdf.pages for f in _fonts(page.get("/Resources"), set())]
    assert fonts
    for font in fonts:
        if font.get("/Subtype") == "/Type0":
            continue  # its glyphs are in its descendant font, checked in turn
        descriptor = font["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font
    assert any("Liberation-Serif" in str(f.get("/BaseFont")) for f in fonts)


def test_the_qr_image_encodes_the_verification_url(pdf):
    expected = Image.open(io.BytesIO(qr_png(verification_url(BASE_URL, CODE)))).convert("L")
    images = [image.image.convert("L") for page in pdf.pages for image in page.images]
    assert any(im.size == expected.size and im.tobytes() == expected.tobytes() for im in images)


def test_without_a_code_there_is_no_verification_footer():
    context = receipt_context(SHOWN, issued_at=datetime(2026, 12, 2, 22, 50, tzinfo=timezone.utc))
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(TEMPLATE, context)))
    assert "Código de verificación" not in _text(reader)
    assert not [image for page in reader.pages for image in page.images]


def test_missing_context_is_an_error_not_a_blank():
    context = receipt_context(SHOWN, issued_at=datetime(2026, 12, 2, 22, 50, tzinfo=timezone.utc))
    del context["procedure"]
    with pytest.raises(jinja2.UndefinedError):
        render_pdf(TEMPLATE, context)


def test_verification_code_has_80_bits_by_construction():
    assert len(codes.ALPHABET) == len(set(codes.ALPHABET)) == 2 ** codes.BITS_PER_CHAR
    assert codes.LENGTH * math.log2(len(codes.ALPHABET)) >= 80
    code = verification_code()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)
    assert len(code.replace("-", "")) == codes.LENGTH
    assert verification_code() != verification_code()


def test_parser_normalises_what_a_person_types():
    code = verification_code()
    assert parse_verification_code(code) == code
    assert parse_verification_code(code.lower().replace("-", " ")) == code
    assert parse_verification_code(code.replace("-", "")) == code
    assert parse_verification_code(" 7kq2 m9xd-4trb pw3h ") == CODE
    assert parse_verification_code("OOOO-IIII-LLLL-1010") == "0000-1111-1111-1010"
    for wrong in ("", "7KQ2-M9XD-4TRB", "7KQ2-M9XD-4TRB-PW3HX", "7KQ2-M9XD-4TRB-PW3U", "7KQ2-M9XD-4TRB-PW3!"):
        assert parse_verification_code(wrong) is None


def test_dates_in_words_in_guatemala_time():
    late_evening = datetime(2026, 12, 3, 3, 0, tzinfo=timezone.utc)  # 21:00 on 2 December in Guatemala
    assert fecha(late_evening) == "2 de diciembre de 2026"
    assert hora(late_evening) == "21:00 horas"
    assert fecha_en_letras(late_evening) == "dos de diciembre de dos mil veintiséis"
    assert fecha_en_letras(date(2031, 1, 1)) == "primero de enero de dos mil treinta y uno"
    assert [number_in_words(n) for n in (21, 100, 101, 999, 1000, 1996)] == [
        "veintiuno", "cien", "ciento uno", "novecientos noventa y nueve", "mil", "mil novecientos noventa y seis"]
