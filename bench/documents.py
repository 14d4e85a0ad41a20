"""Time to issue each kind of document, and how long issuing holds up the request that completes the step.

Part 1, per kind: render the template to PDF/A (template + QR + WeasyPrint layout + PDF/A writing) and sign it
PAdES with a demo certificate (pyHanko), N times in this process, with the realistic data the template tests
render (tests/unit/test_document_templates*.py); the receipt as a baseline. The first render (fonts found and
loaded) is timed apart.

Part 2, the request: `tasks.complete_task` on a file-backed SQLite database at the default durability (WAL,
synchronous=FULL), a step that issues an oficio (numbered, rendered, signed, stored, all in the step's
transaction) against the same step issuing nothing, measured in the same run: the difference is what issuing
adds to the clerk's request, and how long the write transaction (SQLite's one writer) is held longer.

Last line: JSON with the figures.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.documents import kinds, signing  # noqa: E402
from engine.documents.codes import verification_code  # noqa: E402
from engine.documents.receipt import TEMPLATE, receipt_context  # noqa: E402
from engine.documents.render import PDF_VARIANT, render_pdf  # noqa: E402
from engine.timekeeping.calendar import WorkingCalendar  # noqa: E402
from tests.unit import test_document_templates as samples_a  # noqa: E402
from tests.unit import test_document_templates_actas as samples_b  # noqa: E402

SHOWN = {"case": {"number": "EXP-GDCH-2026-000123", "tracking_code": "K7M2PQ4X",
                  "title": "Licencia para feria patronal de San Juan Comalapa",
                  "applicant_name": "María José Xajil Cúmez", "applicant_dpi": "2547123450401",
                  "municipality": "San Juan Comalapa", "created_by": "oficial1",
                  "created_at": datetime(2026, 12, 2, 16, 5, tzinfo=timezone.utc)},
         "name": "Licencia de eventos"}


def receipt() -> dict:
    return receipt_context(SHOWN, issued_at=datetime.now(timezone.utc), calendar=WorkingCalendar(),
                           base_url="https://expediente.chimaltenango.gob.gt", code=verification_code())


def contexts() -> dict[str, tuple[str, callable]]:
    """(template, context maker) per kind, the receipt first."""
    out = {kinds.RECEIPT: (TEMPLATE, receipt)}
    for key in kinds.KINDS:
        if key == kinds.RECEIPT:
            continue
        module = samples_a if key in samples_a.SAMPLES else samples_b
        out[key] = (kinds.kind(key).template, lambda key=key, module=module: module._context(key))
    return out


def stats(values: list[float]) -> dict:
    return {"median_ms": round(statistics.median(values), 1),
            "p95_ms": round(statistics.quantiles(values, n=20)[-1], 1) if len(values) >= 2 else round(values[0], 1)}


def issue_series(template: str, make, signer, n: int) -> dict:
    render_ms, sign_ms, sizes = [], [], []
    for _ in range(n):
        context = make()
        t0 = time.perf_counter()
        pdf = render_pdf(template, context)
        t1 = time.perf_counter()
        signed = signer.sign(pdf, signer_name="María Elena Xicará", cosigner=None, reason="bench")
        t2 = time.perf_counter()
        render_ms.append((t1 - t0) * 1000)
        sign_ms.append((t2 - t1) * 1000)
        sizes.append(len(signed))
    total = [r + s for r, s in zip(render_ms, sign_ms)]
    return {**stats(total), "render_median_ms": stats(render_ms)["median_ms"],
            "sign_median_ms": stats(sign_ms)["median_ms"], "bytes": max(sizes)}


def request_series(n: int, signer) -> dict:
    """complete_task with and without a document, on one file-backed SQLite database (the default durability)."""
    from engine.forms_gate import office_forms
    from engine.storage.db import make_engine
    from engine.storage.migrate import upgrade
    from engine.usecases import cases, tasks
    from engine.usecases.deploy import deploy_files
    from tests.bpmn import linear
    from tests.conftest import Settings, build_services, principal_for
    from tests.integration.test_issuing import FORMS, ONE, task
    from tests.task_rows import task_rows

    with tempfile.TemporaryDirectory() as tmp:
        forms_dir = Path(tmp) / "forms"
        forms_dir.mkdir()
        for key, schema in FORMS.items():
            (forms_dir / f"{key}.schema.json").write_text(json.dumps(schema), encoding="utf-8")
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db")
        db = make_engine(settings)
        upgrade(db)
        svc = build_services(settings, db=db, mailer=None, forms=office_forms(datetime.now, forms_dir),
                             signer=signer)
        deploy_files(svc, {"with.bpmn": linear(task("Oficio", "oficio_prueba", "oficio"), process_id="with"),
                           "without.bpmn": linear(task("Oficio", "oficio_prueba"), process_id="without")})
        clerk = principal_for("oficial1")
        timings = {"with": [], "without": []}
        for i in range(n + 2):
            for key in ("without", "with"):
                [row] = task_rows(svc, cases.start_case(svc, clerk, key, {}).id)
                t0 = time.perf_counter()
                tasks.complete_task(svc, clerk, row["id"], dict(ONE))
                if i >= 2:  # the first two warm caches (specs, fonts, validators)
                    timings[key].append((time.perf_counter() - t0) * 1000)
        svc.db.dispose()
    without, with_doc = stats(timings["without"]), stats(timings["with"])
    return {"without_document": without, "with_oficio": with_doc,
            "issuing_adds_median_ms": round(with_doc["median_ms"] - without["median_ms"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20, help="documents per kind (default 20)")
    parser.add_argument("--requests", type=int, default=20, help="completions per variant (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        signer = signing.load_signer(*map(str, signing.make_demo_certificate(Path(tmp))))
        t0 = time.perf_counter()
        render_pdf(TEMPLATE, receipt())
        first_ms = (time.perf_counter() - t0) * 1000
        rows = {key: issue_series(template, make, signer, args.n) for key, (template, make) in contexts().items()}
        request = request_series(args.requests, signer)
    print(f"issuing to {PDF_VARIANT} and signing PAdES, {args.n} documents per kind in one process; "
          f"first render {first_ms:.0f} ms")
    print(f"{'document':<24}{'median ms':>10}{'p95 ms':>9}{'render':>9}{'sign':>7}{'bytes':>9}")
    for key, row in rows.items():
        print(f"{key:<24}{row['median_ms']:>10.1f}{row['p95_ms']:>9.1f}{row['render_median_ms']:>9.1f}"
              f"{row['sign_median_ms']:>7.1f}{row['bytes']:>9}")
    print(f"complete_task (SQLite, synchronous=FULL), {args.requests} each: without a document "
          f"{request['without_document']['median_ms']:.1f} ms median (p95 {request['without_document']['p95_ms']:.1f}); "
          f"issuing an oficio {request['with_oficio']['median_ms']:.1f} ms (p95 {request['with_oficio']['p95_ms']:.1f}): "
          f"issuing adds {request['issuing_adds_median_ms']:.1f} ms to the request, inside its write transaction")
    print(json.dumps({"variant": PDF_VARIANT, "per_kind": rows, "first_ms": round(first_ms, 1),
                      "request": request}))


if __name__ == "__main__":
    main()
