"""Time to compile a case's "Expediente completo" (engine.usecases.casefile.case_file_pdf), and its size.

One case on an SQLite file with 10 issued documents (the receipt, then nine more of one page each, as the
receipt renders) and then 10 attachments (PDFs of 3 pages and JPEG scans of a letter page at 150 dpi, 5 each,
in turn). Each sample compiles the whole file: read the rows and bytes, render the foliated index, render the images
as pages, merge everything and stamp every page with its folio. The first compile is timed apart.
Last line: JSON with first_ms, median_ms, p95_ms, bytes, pages, and the index alone (case_file_index) in ms.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402
from PIL import Image  # noqa: E402

from engine.accounts.permissions import ADMIN, Principal  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.documents.codes import verification_code  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.storage import documents  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.usecases import cases  # noqa: E402
from engine.usecases import documents as document_cases  # noqa: E402
from engine.usecases.attachments import AttachmentStore, add_attachment  # noqa: E402
from engine.usecases.casefile import case_file_index, case_file_pdf  # noqa: E402
from engine.usecases.deploy import deploy_files  # noqa: E402
from tests.conftest import FakeClock, bpmn_fixture  # noqa: E402

BENCH = Principal(user_id=0, username="bench", role=ADMIN)
DOCUMENTS = ATTACHMENTS = 10


def three_pages(pdf: bytes) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(3):
        writer.append(io.BytesIO(pdf))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scan(seed: int) -> bytes:
    """A letter page at 150 dpi as a scanner's JPEG would give it (grey noise on white: not compressible away)."""
    noise = Image.effect_noise((1275, 1650), 12 + seed).point(lambda v: min(255, v + 60))
    out = io.BytesIO()
    noise.convert("RGB").save(out, format="JPEG", quality=75)
    return out.getvalue()


def build_case(svc, store) -> int:
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="bench")
    case_id = cases.start_case(svc, BENCH, "five_step", {"amount": 10}).id
    receipt = document_cases.receipt_pdf(svc, BENCH, case_id)["pdf"]
    for i in range(1, DOCUMENTS + ATTACHMENTS):
        svc.clock.advance(minutes=10)
        if i < DOCUMENTS:
            with svc.uow() as uow:
                documents.store_document(
                    uow.conn, case_id=case_id, task_id=None, kind="providencia", number=f"PROV-2026-{i:04d}",
                    year=2026, code=verification_code(), pdf=receipt, pages=document_cases.page_count(receipt),
                    issued_at=svc.clock(), issued_by="bench", citizen_facing=False)
                uow.commit()
        elif i % 2:
            add_attachment(svc, BENCH, store, case_id, f"anexo-{i}.pdf", io.BytesIO(three_pages(receipt)))
        else:
            add_attachment(svc, BENCH, store, case_id, f"escaneo-{i}.jpg", io.BytesIO(scan(i)))
    return case_id


def timed(call) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = call()
    return (time.perf_counter() - t0) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20, help="compiles (default 20)")
    n = parser.parse_args().n
    tmp = Path(tempfile.mkdtemp(prefix="bench-casefile-"))
    svc = build_services(Settings(database_url=f"sqlite:///{tmp}/bench.db"), clock=FakeClock())
    upgrade(svc.db)
    store = AttachmentStore(tmp / "attachments")
    case_id = build_case(svc, store)
    index = case_file_index(svc, BENCH, case_id)
    counts = {k: sum(e["kind"] == k for e in index["entries"]) for k in ("documento", "anexo")}
    first_ms, made = timed(lambda: case_file_pdf(svc, BENCH, store, case_id))
    times = [timed(lambda: case_file_pdf(svc, BENCH, store, case_id))[0] for _ in range(n)]
    index_ms = statistics.median(timed(lambda: case_file_index(svc, BENCH, case_id))[0] for _ in range(n))
    row = {"median_ms": round(statistics.median(times), 1), "p95_ms": round(statistics.quantiles(times, n=20)[-1], 1),
           "bytes": len(made["pdf"]), "pages": made["folios"]}
    attachment_bytes = sum(p.stat().st_size for p in store.directory.rglob("*") if p.is_file())
    print(f"expediente completo of {counts['documento']} documents and {counts['anexo']} attachments "
          f"({attachment_bytes} bytes of attachments), {n} compiles in one process; first {first_ms:.0f} ms")
    print(f"{'what':<26}{'median ms':>10}{'p95 ms':>10}{'bytes':>10}{'pages':>7}")
    print(f"{'whole case file PDF':<26}{row['median_ms']:>10.1f}{row['p95_ms']:>10.1f}{row['bytes']:>10}"
          f"{row['pages']:>7}")
    print(f"{'index only (JSON)':<26}{index_ms:>10.1f}")
    print(json.dumps({**counts, "compiles": n, "first_ms": round(first_ms, 1), **row,
                      "index_median_ms": round(index_ms, 2)}))


if __name__ == "__main__":
    main()
