"""The electronic case file (expediente electrónico): foliation and the compiled PDF, with no database here.

Foliation numbers every page of the case file in order: first the index's own pages, then each document's and
attachment's pages in the order they were added (engine/usecases/casefile.py gathers them). An entry whose pages
are unknown is listed in the index with no folios and left out of the compilation.

The index lays out a fixed number of entries per page (INDEX_FIRST_PAGE_ROWS, then INDEX_NEXT_PAGE_ROWS; each
entry is two lines that never wrap), so its page count, and so every folio, is known without rendering it: the
case page shows the same folios as the PDF. `compile_case_file` checks that the rendered index and every part
have the pages the foliation counted.

The compilation is a copy made on demand, not an issued document: no verification code; each original is
verified by its own code or SHA-256. Every page is stamped "Folio N de M" at its top right: the stamps are
rendered by WeasyPrint (one render per distinct page size, one small page per folio of that size) and merged
onto the pages with pypdf. The file opens on its bookmarks: the index, then each included entry at its first
folio."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime

import pypdf
from pypdf import PdfWriter, Transformation

from engine.documents.dates import local
from engine.documents.render import render_pdf

INDEX_TEMPLATE = "indice_expediente.html"
STAMP_TEMPLATE = "_folio_sello.html"
IMAGE_TEMPLATE = "_folio_imagen.html"
# Entries the index page holds: the first page also carries the letterhead and the opening note. Chosen well
# below what fits (tests/integration/test_casefile.py renders full pages of the longest titles).
INDEX_FIRST_PAGE_ROWS = 10
INDEX_NEXT_PAGE_ROWS = 18
SIZE_PRECISION = 1  # decimals of a point: pages whose size differs by less share a stamp render


def pdf_pages(source) -> int | None:
    """A PDF's page count (bytes, a path or a binary stream), or None when pypdf cannot read it (damaged,
    encrypted, not really a PDF): the file is still accepted, its pages are just unknown."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source)
        return len(reader.pages)
    except Exception:  # noqa: BLE001 - pypdf raises many kinds of errors on a damaged file; none is the uploader's
        return None


def content_pages(source, content_type: str) -> int | None:
    """The pages a file adds to the case file: a PDF's page count (None if unreadable), an image's 1, and
    None for any other type."""
    if content_type == "application/pdf":
        return pdf_pages(source)
    return 1 if content_type.startswith("image/") else None


def index_pages(entries: int) -> int:
    """How many pages the index of this many entries takes (at least one)."""
    rest = max(0, entries - INDEX_FIRST_PAGE_ROWS)
    return 1 + -(-rest // INDEX_NEXT_PAGE_ROWS)


def index_chunks(entries: list) -> list[list]:
    """The entries as the index's pages hold them."""
    chunks = [entries[:INDEX_FIRST_PAGE_ROWS]]
    for start in range(INDEX_FIRST_PAGE_ROWS, len(entries), INDEX_NEXT_PAGE_ROWS):
        chunks.append(entries[start:start + INDEX_NEXT_PAGE_ROWS])
    return chunks


def foliate(entries: list[dict]) -> tuple[list[dict], int]:
    """The entries (in order, each with `pages`) with `position` (1, 2 …), `folio_first`, `folio_last` and
    `included` added, and the total of folios. The index's pages are folios 1..k; an entry with unknown (or no)
    pages gets no folios."""
    folio = index_pages(len(entries))
    out = []
    for position, entry in enumerate(entries, start=1):
        pages = entry.get("pages")
        if pages:
            out.append({**entry, "position": position, "folio_first": folio + 1, "folio_last": folio + pages,
                        "included": True})
            folio += pages
        else:
            out.append({**entry, "position": position, "folio_first": None, "folio_last": None, "included": False})
    return out, folio


@dataclass(frozen=True)
class Part:
    """One included entry's content: a PDF's bytes, or an image's bytes and type (it becomes one page)."""

    content: bytes
    content_type: str
    pages: int
    name: str


def compile_case_file(*, case_number: str, compiled_at: datetime, entries: list[dict], total: int,
                      parts: list[Part]) -> bytes:
    """The case file as one PDF: the index of `entries` (foliated by `foliate`, `total` folios), then `parts`
    (the included entries' contents, in the same order), every page stamped "Folio N de M"."""
    shown = [{**e, "added": f"{local(e['added_at']):%d/%m/%Y %H:%M}"} for e in entries]
    index = render_pdf(INDEX_TEMPLATE, {"case_number": case_number, "issued_at": compiled_at,
                                        "chunks": index_chunks(shown), "total": total})
    writer = PdfWriter()
    _append(writer, index, index_pages(len(entries)), "el índice")
    images = [p for p in parts if p.content_type.startswith("image/")]
    rendered = iter(_image_pages(images)) if images else iter(())
    for part in parts:
        if part.content_type.startswith("image/"):
            writer.add_page(next(rendered))
        else:
            _append(writer, part.content, part.pages, part.name)
    if len(writer.pages) != total:
        raise RuntimeError(f"the case file has {len(writer.pages)} pages, its foliation counts {total}")
    _stamp(writer, total)
    _bookmark(writer, case_number, entries)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _bookmark(writer: PdfWriter, case_number: str, entries: list[dict]) -> None:
    """The file's title, and a bookmark for the index and for each included entry at its first folio."""
    writer.add_metadata({"/Title": f"Expediente {case_number}: expediente completo",
                         "/Author": "Gobernación Departamental de Chimaltenango"})
    writer.add_outline_item(title="Índice", page_number=0)
    for e in entries:
        if e["included"]:
            number = f" · {e['number']}" if e["number"] else ""
            writer.add_outline_item(title=f"{e['position']}. {e['title']}{number} (folio {e['folio_first']})",
                                    page_number=e["folio_first"] - 1)
    writer.page_mode = "/UseOutlines"


def _append(writer: PdfWriter, pdf: bytes, pages: int, name: str) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    if len(reader.pages) != pages:
        raise RuntimeError(f"{name} has {len(reader.pages)} pages, the foliation counted {pages}")
    for page in reader.pages:
        writer.add_page(page)


def _image_pages(images: list[Part]) -> list:
    """Each image as one letter page, fitted within its margins (one WeasyPrint render for all of them)."""
    shown = [{"src": f"data:{p.content_type};base64,{base64.b64encode(p.content).decode('ascii')}", "name": p.name}
             for p in images]
    pages = pypdf.PdfReader(io.BytesIO(render_pdf(IMAGE_TEMPLATE, {"images": shown}))).pages
    if len(pages) != len(images):
        raise RuntimeError(f"{len(images)} images made {len(pages)} pages")
    return list(pages)


def _stamp(writer: PdfWriter, total: int) -> None:
    """Merge "Folio N de M" onto every page's top right, whatever its size, rotation or box origin."""
    by_size: dict[tuple[float, float], list[int]] = {}
    for n, page in enumerate(writer.pages, start=1):
        if page.rotation:
            page.transfer_rotation_to_content()  # upright boxes, so the stamp's top right is the page's
        box = page.cropbox
        size = (round(float(box.width), SIZE_PRECISION), round(float(box.height), SIZE_PRECISION))
        by_size.setdefault(size, []).append(n)
    for (width, height), folios in by_size.items():
        stamps = pypdf.PdfReader(io.BytesIO(render_pdf(
            STAMP_TEMPLATE, {"width": width, "height": height, "folios": folios, "total": total}))).pages
        if len(stamps) != len(folios):
            raise RuntimeError(f"{len(folios)} folio stamps made {len(stamps)} pages")
        for n, stamp in zip(folios, stamps):
            page = writer.pages[n - 1]
            box = page.cropbox
            page.merge_transformed_page(stamp, Transformation().translate(float(box.left), float(box.bottom)))
