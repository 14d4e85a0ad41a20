"""The auditor's downloads, streamed, for his pages and the API alike: an event search as CSV or JSON written row
by row from engine.usecases.audit.iter_search (X-Total-Count announces the rows, for a progress bar), and a case's
verifiable ZIP (engine.audit.export.export_case) handed to the client chunk by chunk while it is being written
(a download left before its end is logged as "audit.export_incomplete": its first files did reach the client)."""
from __future__ import annotations

import csv
import io
import queue
import threading
from typing import Iterator

import orjson
from flask import Response

from engine.audit import bundle
from engine.audit.access import log_access
from engine.audit.export import export_case
from engine.usecases import audit, cases

# The fields of a found event, in the order of the CSV's columns; the JSON carries exactly these too.
EVENT_FIELDS = ("seq", "case_seq", "case_id", "case_number", "process_key", "municipality", "at", "kind",
               "element_id", "task_id", "actor", "data", "changes", "leaf_hash")
MIMETYPES = {"csv": "text/csv", "json": "application/json"}
ROWS_PER_CHUNK = 200  # rows joined into one chunk of the response: fewer, larger writes to the socket
ZIP_QUEUE_CHUNKS = 32  # chunks the ZIP writer may run ahead of a slow client: memory stays bounded
ZIP_WAIT_SECONDS = 1.0  # how often a writer blocked on a full queue checks whether the client left


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def csv_chunks(events, header=EVENT_FIELDS) -> Iterator[str]:
    """A header line (`header`: one name per EVENT_FIELDS column), then one CSV line per event (data and changes
    as JSON text, which holds no raw line break), grouped in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for count, event in enumerate(events, start=1):
        writer.writerow([_cell(event.get(column)) for column in EVENT_FIELDS])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(total: int, events, filters: dict | None = None) -> Iterator[bytes]:
    """The whole selection as one search page, {"total", "next_before": null, ["filters",] "events": [...]}, one
    event per line (so a progress bar can count them as they arrive), grouped in chunks."""
    head = {"total": total, "next_before": None} | ({"filters": filters} if filters is not None else {})
    yield orjson.dumps(head)[:-1] + b',"events":['
    batch = []
    for count, event in enumerate(events):
        fields = {name: event.get(name) for name in EVENT_FIELDS}
        batch.append((b",\n" if count else b"\n") + orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS))
        if len(batch) == ROWS_PER_CHUNK:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch) + b"\n]}\n"


def search_download(svc, principal, filters: dict, export_format: str, *, csv_header=EVENT_FIELDS,
                    filename: str = "eventos", echo_filters: bool = False) -> Response:
    """The events matching `filters`, oldest first, as a streamed CSV or JSON download (iter_search logs it). The
    body reads nothing of the request (the filters are read before), so a response never read holds no context."""
    total, events = audit.iter_search(svc, principal, filters, export_format=export_format)
    body = (csv_chunks(events, csv_header) if export_format == "csv"
            else json_chunks(total, events, filters if echo_filters else None))
    response = Response(body, mimetype=MIMETYPES[export_format])
    response.headers["X-Total-Count"] = str(total)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{export_format}"'
    return response


class _Pipe:
    """export_case's `out`: each write goes to the response through a bounded queue; writing stops (ClientGone)
    once the client has left."""

    def __init__(self):
        self.chunks: queue.Queue = queue.Queue(maxsize=ZIP_QUEUE_CHUNKS)
        self.gone = threading.Event()
        self.stopped = False

    def put(self, item) -> None:
        while not self.gone.is_set():
            try:
                self.chunks.put(item, timeout=ZIP_WAIT_SECONDS)
                return
            except queue.Full:
                continue
        raise ClientGone()

    def write(self, data) -> int:
        if data and not self.stopped:
            try:
                self.put(bytes(data))
            except ClientGone:
                # Raised once, to stop the export; what the ZIP then writes as it is closed (its member's end,
                # its central directory) goes nowhere, so closing it raises nothing more.
                self.stopped = True
                raise
        return len(data)


class ClientGone(Exception):
    """The download was closed before the export was written to its end."""


_END = object()


def zip_download(svc, principal, store, case_id: int) -> Response:
    """The case's verifiable audit ZIP, streamed while export_case writes it in a thread of its own. A refusal
    or an unknown case raises here, before any byte is sent, so it answers with its own status."""
    number = cases.case_detail(svc, principal, case_id)["number"]
    pipe = _Pipe()

    def run():
        try:
            export_case(svc, principal, store, case_id, pipe)
            pipe.put(_END)
        except ClientGone:
            pass
        except BaseException as exc:  # handed to the request thread, which raises it or ends the stream
            try:
                pipe.put(exc)
            except ClientGone:
                pass

    threading.Thread(target=run, name=f"audit-export-{case_id}", daemon=True).start()
    first = pipe.chunks.get()
    if isinstance(first, BaseException):
        raise first

    def body():
        item, sent = first, 0
        try:
            while item is not _END:
                if isinstance(item, BaseException):
                    raise item  # after the first byte: the download ends short, the error is logged
                sent += len(item)  # handed to the server for the client
                yield item
                item = pipe.chunks.get()
        finally:
            pipe.gone.set()
            if item is not _END:  # export_case logs a whole export; what left before the end is logged here
                log_access(svc, principal.username, "audit.export_incomplete", number,
                           {"case_id": case_id, "bytes_sent": sent})

    response = Response(body(), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="auditoria-{bundle.safe_name(number)}.zip"'
    return response
