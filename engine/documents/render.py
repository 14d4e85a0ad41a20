"""Render a document: a Jinja template of templates/ to HTML, then to PDF/A with WeasyPrint.

Every template extends `base.html` (the office's heading, place and date, and a footer with the verification
code and its QR code). The context gives `issued_at` (the moment of issue; place and date are written from it
in Guatemala time) and, once the document has a code, `base_url` and `code`: the QR then points to
`{base_url}/verificar/{code}`. Missing context is an error (StrictUndefined), never an empty blank in a document.

WeasyPrint fetches nothing: the QR is a data URI and the styles are inline, and its URL fetcher allows `data:`
only, so no text written into a template can make the server open a file or a URL."""
from __future__ import annotations

import base64
import functools
import io
from importlib import resources
from pathlib import Path

import jinja2
import segno
from markupsafe import Markup

from engine.documents.dates import FILTERS

TEMPLATES = Path(__file__).resolve().parent / "templates"
# PDF/A-2b: the archival level courts and archives accept (ISO 19005-2, level B: the look is preserved; fonts
# embedded, sRGB output intent, XMP metadata). WeasyPrint 68+ also offers a-1b, a-3b (arbitrary attachments)
# and the -u/-a levels. pyHanko signs by incremental update, which PDF/A-2 allows.
PDF_VARIANT = "pdf/a-2b"
# The documents' typeface, found through fontconfig and embedded (subset) in every PDF. Liberation Serif is
# metric-compatible with Times New Roman, the usual face of official documents; DejaVu Serif follows for any
# character it lacks.
FONT_FAMILY = '"Liberation Serif", "DejaVu Serif", serif'
PLACE = "Chimaltenango"
QR_SCALE = 4  # pixels a module; the image is drawn at a fixed size, crisp (image-rendering: pixelated)

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters.update(FILTERS)
_env.globals.update(font_family=Markup(FONT_FAMILY), place=PLACE)


@functools.cache
def _srgb() -> bytes:
    """PDF/A's output intent: WeasyPrint's own sRGB profile, read once. (Left to itself WeasyPrint opens the file on
    every render and never closes it: a ResourceWarning each time. ColorProfile is not WeasyPrint's public API;
    tests/unit/test_documents_render.py checks the output intent and the PDF/A metadata it leads to.)"""
    return (resources.files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def verification_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/verificar/{code}"


def qr_png(url: str) -> bytes:
    """The QR code of a URL as a PNG: QR_SCALE pixels a module, with the standard 4-module quiet zone."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()


def qr_data_uri(url: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url)).decode("ascii")


def render_html(template_name: str, context: dict) -> str:
    """The template filled in; with `base_url` and `code` in the context, also `verify_url` and `qr`."""
    extra = {}
    if context.get("code"):
        extra["verify_url"] = verification_url(context["base_url"], context["code"])
        extra["qr"] = qr_data_uri(extra["verify_url"])
    return _env.get_template(template_name).render({**context, **extra})


def render_pdf(template_name: str, context: dict) -> bytes:
    """The document as PDF/A bytes (PDF_VARIANT), fonts embedded."""
    # WeasyPrint (and the native libraries it loads) is imported on the first document, not by every process that
    # imports the engine: the scheduler and the CLI start about 0.4 s sooner.
    import weasyprint
    from weasyprint.css import ColorProfile

    # A fetcher per render (it keeps the request in hand): `data:` only, so nothing is read from disk or network.
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    html = weasyprint.HTML(string=render_html(template_name, context), base_url=str(TEMPLATES),
                           url_fetcher=fetcher)
    srgb = ColorProfile(io.BytesIO(_srgb()), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))
    return html.write_pdf(pdf_variant=PDF_VARIANT, output_intent="srgb-icc", color_profiles={"srgb-icc": srgb})
