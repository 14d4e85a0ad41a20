"""Time and size of a case's audit export (engine.audit.export.export_case), the part of it its index PDF takes,
and its offline check (engine.audit.verify_export.verify_export), against two baselines measured in the same run
on the same case: a plain JSON dump of its history (cases.case_history) and the compiled "Expediente completo"
PDF (usecases.casefile.case_file_pdf).

Two cases on one SQLite file, every procedure of processes/ deployed: a licence request walked to its licence
(seven issued documents with the receipt, two attachments), and the same walk with claims and releases of its
last task until it holds 200 events. Before them the log holds --log-events events of another case, so each
export computes its Merkle proofs over a log of that size (one pass over its leaf hashes; the first export also
signs the checkpoint that covers the case, another pass).
Last line: JSON with the figures.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from PIL import Image  # noqa: E402

from engine.audit import bundle, export_index  # noqa: E402
from engine.audit.export import export_case  # noqa: E402
from engine.audit.verify_export import verify_export  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.integrity import keys  # noqa: E402
from engine.storage.db import make_engine  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.storage.persistence import append_events, event_row  # noqa: E402
from engine.usecases import cases, tasks  # noqa: E402
from engine.usecases.attachments import AttachmentStore, add_attachment  # noqa: E402
from engine.usecases.casefile import case_file_pdf  # noqa: E402
from tests.conftest import SYSTEM, FakeClock, principal_for  # noqa: E402
from tests.processes import licencia_walk as lw  # noqa: E402
from tests.processes.driver import office  # noqa: E402
from tests.task_rows import task_rows  # noqa: E402

AUDITOR = principal_for("auditor1", role="auditor")
CLERK = principal_for("oficial1")
TARGET_EVENTS = 200


def scan(sigma: float) -> bytes:
    """A scanned page as a JPEG (noise: not compressible away)."""
    out = io.BytesIO()
    Image.effect_noise((800, 1000), sigma).convert("RGB").save(out, format="JPEG", quality=75)
    return out.getvalue()


def fill_log(svc, count: int) -> None:
    """`count` events of one other case (a started five-step-like case: any case row will do)."""
    walk = lw.start(svc, at=lw.local(2026, 3, 2, 9))
    now = svc.clock()
    for start in range(0, count, 5000):
        with svc.uow() as uow:
            append_events(uow.conn, [event_row(walk.id, now, "task_claimed", actor="relleno", element_id="x",
                                               data={"n": i}) for i in range(start, min(count, start + 5000))])
            uow.commit()


def licence(svc, store) -> int:
    """The approved licence, walked to its certificate (test_licencia's first path), with two attachments."""
    walk = lw.start(svc, at=lw.local(2026, 3, 30, 9))
    lw.to_opinions(walk)
    for sigma, name in ((30, "plano.jpg"), (40, "aval.jpg")):
        add_attachment(svc, CLERK, store, walk.id, name, io.BytesIO(scan(sigma)))
    lw.request_opinions(walk, lw.local(2026, 3, 31))
    svc.clock.now = lw.local(2026, 4, 6, 11)
    lw.opinion(walk, "pnc", lw.local(2026, 4, 6, 9))
    lw.opinion(walk, "coordinador", lw.local(2026, 4, 6, 10), "favorable_con_recomendaciones")
    lw.dictamen(walk, "favorable")
    lw.sign(walk, "favorable")
    svc.clock.now = lw.local(2026, 6, 26, 11)
    lw.notify(walk, lw.local(2026, 6, 26, 10))
    lw.certificate(walk)
    return walk.id


def pad(svc, case_id: int, events: int) -> None:
    """Claims and releases of the case's ready task until the case holds `events` events."""
    task_id = task_rows(svc, case_id)[0]["id"]
    while len(cases.case_history(svc, SYSTEM, case_id)) < events:
        svc.clock.advance(minutes=1)
        tasks.claim_task(svc, CLERK, task_id)
        tasks.release_task(svc, CLERK, task_id)


def timed(call) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = call()
    return (time.perf_counter() - t0) * 1000, result


def median_ms(call, n: int) -> tuple[float, object]:
    samples = [timed(call) for _ in range(n)]
    return statistics.median(s[0] for s in samples), samples[-1][1]


def measure(svc, store, case_id: int, public, n: int) -> dict:
    def export():
        out = io.BytesIO()
        export_case(svc, AUDITOR, store, case_id, out)
        return out.getvalue()
    export_ms, data = median_ms(export, n)
    verify_ms, report = median_ms(lambda: verify_export(io.BytesIO(data), public), n)
    index = orjson.loads(zipfile.ZipFile(io.BytesIO(data)).read(bundle.INDEX_JSON))
    index_pdf_ms, _ = median_ms(lambda: export_index.index_pdf(index, datetime.now(timezone.utc)), n)
    assert report.ok, report.problem
    history_ms, dump = median_ms(lambda: orjson.dumps(cases.case_history(svc, SYSTEM, case_id), default=str,
                                                                  option=orjson.OPT_NON_STR_KEYS), n)
    pdf_ms, pdf = median_ms(lambda: case_file_pdf(svc, SYSTEM, store, case_id)["pdf"], n)
    return {"events": report.events, "documents": report.documents, "attachments": report.attachments,
            "export_ms": round(export_ms, 1), "index_pdf_ms": round(index_pdf_ms, 1), "zip_bytes": len(data),
            "verify_ms": round(verify_ms, 1),
            "history_json_ms": round(history_ms, 1), "history_json_bytes": len(dump),
            "casefile_pdf_ms": round(pdf_ms, 1), "casefile_pdf_bytes": len(pdf)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5, help="samples of each measure (default 5)")
    parser.add_argument("--log-events", type=int, default=100_000, help="events of other cases in the log first")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-audit-export-"))
    url = f"sqlite:///{tmp}/bench.db"
    engine = make_engine(Settings(database_url=url))
    upgrade(engine)
    engine.dispose()
    svc = office(url, FakeClock(), audit_key=str(tmp / "audit.pem"))
    store = AttachmentStore(tmp / "attachments")
    public = keys.office_key(svc.settings).public_key()
    fill_log(svc, args.log_events)
    walked = licence(svc, store)
    padded = licence(svc, store)
    pad(svc, padded, TARGET_EVENTS)
    svc.clock.advance(minutes=1)
    rows = {"licence walk": measure(svc, store, walked, public, args.n),
            f"licence + {TARGET_EVENTS} events": measure(svc, store, padded, public, args.n)}
    print(f"audit export (ZIP with proofs) against a JSON history dump and the case file PDF; log of "
          f"{args.log_events} other events; median of {args.n}")
    print(f"{'case':<24}{'events':>7}{'export ms':>10}{'of it PDF':>10}{'ZIP bytes':>11}{'verify ms':>10}"
          f"{'JSON ms':>9}{'JSON bytes':>11}{'PDF ms':>8}{'PDF bytes':>11}")
    for name, r in rows.items():
        print(f"{name:<24}{r['events']:>7}{r['export_ms']:>10.1f}{r['index_pdf_ms']:>10.1f}{r['zip_bytes']:>11}"
              f"{r['verify_ms']:>10.1f}{r['history_json_ms']:>9.1f}{r['history_json_bytes']:>11}"
              f"{r['casefile_pdf_ms']:>8.1f}{r['casefile_pdf_bytes']:>11}")
    print(json.dumps({"log_events": args.log_events, "samples": args.n, **rows}))


if __name__ == "__main__":
    main()
