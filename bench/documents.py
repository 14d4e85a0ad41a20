"""Time to render the constancia de recepción to PDF/A (engine.documents.render_pdf), and its size.

Renders the receipt N times in this process (template + QR + WeasyPrint layout + PDF/A writing), with and
without its verification footer; the first render (fonts found and loaded) is timed apart.
Last line: JSON with first_ms, median_ms, p95_ms, bytes (the receipt with its QR), and the same without.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.documents.codes import verification_code  # noqa: E402
from engine.documents.receipt import TEMPLATE, receipt_context  # noqa: E402
from engine.documents.render import PDF_VARIANT, render_pdf  # noqa: E402
from engine.timekeeping.calendar import WorkingCalendar  # noqa: E402

SHOWN = {"case": {"number": "EXP-GDCH-2026-000123", "tracking_code": "K7M2PQ4X",
                  "title": "Licencia para feria patronal de San Juan Comalapa",
                  "applicant_name": "María José Xajil Cúmez", "applicant_dpi": "2547123450401",
                  "municipality": "San Juan Comalapa", "created_by": "oficial1",
                  "created_at": datetime(2026, 12, 2, 16, 5, tzinfo=timezone.utc)},
         "name": "Licencia de eventos"}
DOCUMENTS = [{"filename": "solicitud_firmada.pdf", "pages": 2}, {"filename": "dpi_solicitante.pdf", "pages": 1},
             {"filename": "croquis_del_lugar.jpg", "pages": 1}]


def context(with_code: bool) -> dict:
    return receipt_context(SHOWN, issued_at=datetime.now(timezone.utc), calendar=WorkingCalendar(),
                           documents=DOCUMENTS, deadline="El plazo legal de 10 días hábiles corre desde hoy.",
                           base_url="https://expediente.chimaltenango.gob.gt" if with_code else None,
                           code=verification_code() if with_code else None)


def timed(with_code: bool) -> tuple[float, int]:
    ctx = context(with_code)
    t0 = time.perf_counter()
    pdf = render_pdf(TEMPLATE, ctx)
    return (time.perf_counter() - t0) * 1000, len(pdf)


def series(with_code: bool, n: int) -> dict:
    times, sizes = zip(*(timed(with_code) for _ in range(n)))
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2), "bytes": max(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50, help="renders per row (default 50)")
    n = parser.parse_args().n
    first_ms, _ = timed(True)
    with_qr, without = series(True, n), series(False, n)
    print(f"constancia de recepción to {PDF_VARIANT}, {n} renders each in one process; first render {first_ms:.0f} ms")
    print(f"{'document':<28}{'median ms':>10}{'p95 ms':>10}{'bytes':>10}")
    for name, row in (("receipt with QR and code", with_qr), ("receipt without code", without)):
        print(f"{name:<28}{row['median_ms']:>10.1f}{row['p95_ms']:>10.1f}{row['bytes']:>10}")
    print(json.dumps({"variant": PDF_VARIANT, "renders": n, "first_ms": round(first_ms, 1), **with_qr,
                      "no_code": without}))


if __name__ == "__main__":
    main()
