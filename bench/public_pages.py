"""What each public page weighs and how long the server takes to answer it.

The pages are tests/e2e/public_pages.py's PUBLIC_PAGES (the list the browser test checks with axe-core), shown
with the same sample case (a licence filed at the desk) by an office like the web tests' (every procedure
deployed) on a file-backed SQLite database, through the Flask test client: no network, no browser.

- bytes: the page's answer (status line, headers, body) plus every stylesheet, script and image it links,
  fetched once, as a first visit transfers them uncompressed. The limit is 50 KB.
- server ms: the median time of the page's own request over N requests (default 20); a page that answers a
  form is posted each time (its form page is fetched untimed first, for the CSRF token), with a new `{n}` (an
  online filing's e-mail). The office's clock moves an hour before each request, so no rate limit (10
  consultations per code an hour, 5 filings per address an hour) refuses one; each page is measured a day later
  with a sample case of its own (the confirmation links last 48 hours).

Prints a table, then a last line of JSON.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import Settings  # noqa: E402
from engine.storage.db import make_engine  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.e2e.public_pages import PUBLIC_PAGE_LIMIT_BYTES, PUBLIC_PAGES, PublicPage, file_sample_case  # noqa: E402
from tests.web.conftest import START, build_app, build_office  # noqa: E402

# What a browser fetches after the page: stylesheets, scripts and images (not data: URIs).
LINKED = re.compile(r'<link[^>]+rel="stylesheet"[^>]+href="(/[^"]+)"|<link[^>]+href="(/[^"]+)"[^>]+rel="stylesheet"'
                    r'|<script[^>]+src="(/[^"]+)"|<img[^>]+src="(/[^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def answer_bytes(response) -> int:
    """The answer as HTTP/1.1 sends it: status line, headers, blank line, body."""
    head = f"HTTP/1.1 {response.status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in response.headers) + "\r\n"
    return len(head.encode("latin-1")) + len(response.get_data())


def form_of(html: str, form_id: str) -> tuple[str, dict]:
    """The form's action and its hidden fields (the CSRF token)."""
    found = re.search(rf'<form[^>]*id="{re.escape(form_id)}"[^>]*>(.*?)</form>', html, re.S)
    if not found:
        raise SystemExit(f"no form #{form_id} on the page")
    action = re.search(r'action="([^"]+)"', found.group(0)).group(1)
    return action, dict(HIDDEN.findall(found.group(1)))


def request(client, shown: PublicPage, case: dict):
    """The page's own request: a GET of its path, or the POST of its form. Returns (response, seconds)."""
    path = shown.path.format(**case)
    if not shown.form:
        t0 = time.perf_counter()
        response = client.get(path)
        return response, time.perf_counter() - t0
    action, hidden = form_of(client.get(path).get_data(as_text=True), shown.form)
    data = {**hidden, **{name: value.format(**case) for name, value in shown.fill.items()}}
    t0 = time.perf_counter()
    response = client.post(action, data=data)
    return response, time.perf_counter() - t0


def measure(app, clock: FakeClock, shown: PublicPage, case: dict, n: int) -> dict:
    client = app.test_client()  # a first visit: no session, nothing cached
    sent = iter(range(1, 1 + n + 1))
    clock.advance(hours=1)
    response, _seconds = request(client, shown, {**case, "n": next(sent)})
    if response.status_code != 200:
        raise SystemExit(f"{shown.name} answered {response.status_code}")
    html = response.get_data(as_text=True)
    linked = sorted({next(filter(None, m)) for m in LINKED.findall(html)})
    weight = answer_bytes(response) + sum(answer_bytes(client.get(url)) for url in linked)
    times = []
    for _ in range(n):
        clock.advance(hours=1)
        response, seconds = request(client, shown, {**case, "n": next(sent)})
        assert response.status_code == 200, (shown.name, response.status_code)
        times.append(seconds * 1000)
    return {"page": shown.name, "bytes": weight, "requests": 1 + len(linked), "linked": linked,
            "median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2),
            "within_limit": weight <= PUBLIC_PAGE_LIMIT_BYTES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="timed requests per page (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        template = directory / "template.db"
        engine = make_engine(Settings(database_url=f"sqlite:///{template}"))
        upgrade(engine)
        engine.dispose()
        clock = FakeClock(START)
        svc = build_office(template, directory, clock)
        try:
            app = build_app(svc, directory)
            rows = []
            for shown in PUBLIC_PAGES:
                clock.advance(days=1)
                case = file_sample_case(svc, app.extensions["expediente.attachments"])
                rows.append(measure(app, clock, shown, case, args.n))
        finally:
            svc.db.dispose()
    print(f"{'page':<40} {'bytes':>8} {'requests':>9} {'server ms (median)':>19} {'max ms':>8}")
    for row in rows:
        flag = "" if row["within_limit"] else f"  over {PUBLIC_PAGE_LIMIT_BYTES} bytes"
        print(f"{row['page']:<40} {row['bytes']:>8} {row['requests']:>9} {row['median_ms']:>19} "
              f"{row['max_ms']:>8}{flag}")
    print(json.dumps({"n": args.n, "limit_bytes": PUBLIC_PAGE_LIMIT_BYTES,
                      "pages": [{k: row[k] for k in ("page", "bytes", "requests", "median_ms")} for row in rows]}))


if __name__ == "__main__":
    main()
