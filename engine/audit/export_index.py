"""The human side of a case export: its index as JSON, CSV and a PDF table, and the LEEME.txt that explains it.

The index is for reading; what proves anything is the manifest's signature and the events' Merkle proofs
(engine.audit.bundle). The PDF is a plain HTML table through WeasyPrint, fetching nothing (`data:` only).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

import orjson
from markupsafe import escape

from engine.audit import bundle
from engine.documents.dates import fecha, hora

SUMMARY_CHARS = 240
# What each kind of event means, for people (the JSON keeps the kind itself).
KIND_LABELS = {
    "case_started": "Expediente iniciado", "task_completed": "Tarea completada", "task_claimed": "Tarea tomada",
    "task_released": "Tarea liberada", "task_assigned": "Tarea asignada", "timer_fired": "Plazo vencido",
    "escalated": "Escalado", "document_issued": "Documento emitido", "attachment_added": "Anexo agregado",
    "case_completed": "Expediente concluido", "error": "Error", "retried": "Reintentado",
    "case_suspended": "Expediente suspendido", "case_resumed": "Expediente reanudado",
    "case_cancelled": "Expediente anulado",
    "case_migrated": "Expediente migrado a otra versión del procedimiento",
    "case_migration_undone": "Migración del expediente deshecha",
    "message_received": "Mensaje recibido",
    "message_sent": "Mensaje enviado",
    "message_retried": "Mensaje reintentado",
    "message_discarded": "Mensaje descartado",
    "institution_requested": "Solicitud enviada a una institución",
    "institution_reminder": "Recordatorio a una institución",
    "institution_escalated": "Solicitud a una institución vencida",
    "institution_request_expired": "Enlace de respuesta vencido",
    "institution_answered": "Respuesta de una institución recibida",
    "deadline_opened": "Plazo legal iniciado",
    "deadline_extended": "Plazo legal prorrogado",
    "deadline_extension_notified": "Prórroga notificada al interesado",
    "deadline_closed": "Plazo legal concluido",
    "deadline_moved": "Plazo legal recalculado por un día de cierre",
    "timers_moved": "Temporizadores recalculados por un día de cierre",
    "deadline_alerted": "Alerta de plazo legal enviada",
    "deadline_escalated": "Plazo legal vencido: aviso a supervisión",
}
CSV_COLUMNS = ("seccion", "numero", "fecha", "actor", "tipo", "elemento", "detalle", "sha256")


def iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def summary(data_json: str | None) -> str:
    """The event's data as "field: value; ..." cut to SUMMARY_CHARS."""
    if not data_json:
        return ""
    try:
        data = orjson.loads(data_json)
    except orjson.JSONDecodeError:
        return data_json[:SUMMARY_CHARS]
    if not isinstance(data, dict):
        return str(data)[:SUMMARY_CHARS]
    text = "; ".join(f"{k}: {v if isinstance(v, str) else orjson.dumps(v).decode()}"
                     for k, v in data.items())
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "\u2026"


def build_index(case: dict, events: list[dict], documents: list[dict], attachments: list[dict], mail: list[dict],
                diagrams: list[dict]) -> dict:
    """The index.json document (plain JSON values) from the rows the export read."""
    return {
        "format": bundle.FORMAT,
        "case": {k: iso(v) for k, v in case.items()},
        "events": [{"case_seq": e["case_seq"], "seq": e["seq"], "at": e["at"], "actor": e["actor"],
                    "kind": e["kind"], "what": KIND_LABELS.get(e["kind"], e["kind"]), "element_id": e["element_id"],
                    "summary": summary(e["data_json"])} for e in events],
        "documents": [{k: iso(v) for k, v in d.items()} for d in documents],
        "attachments": [{k: iso(v) for k, v in a.items()} for a in attachments],
        "mail": [{k: iso(v) for k, v in m.items()} for m in mail],
        "diagrams": diagrams,
    }


def index_rows(index: dict) -> list[tuple]:
    """One row per case, event, document, attachment and message, in CSV_COLUMNS order."""
    c = index["case"]
    rows = [("expediente", c["number"], c["created_at"], c["created_by"], c["state"], c["process_key"],
             f"{c['procedure']} v{c['process_version']}; solicitante: {c['applicant_name'] or ''}", "")]
    rows += [("evento", e["case_seq"], e["at"], e["actor"], e["what"], e["element_id"], e["summary"], "")
             for e in index["events"]]
    rows += [("documento", d["number"] or d["id"], d["issued_at"], d["issued_by"], d["kind"], "", d["file"],
              d["sha256"]) for d in index["documents"]]
    rows += [("anexo", a["id"], a["uploaded_at"], a["uploaded_by"], a["content_type"], "", a["filename"],
              a["sha256"]) for a in index["attachments"]]
    rows += [("correo", m["id"], m["created_at"], m["to_address"], m["kind"], m["status"], m["subject"], "")
             for m in index["mail"]]
    return rows


def index_csv(index: dict) -> bytes:
    """The index as CSV (UTF-8 with BOM, so spreadsheets read the accents)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(["" if v is None else v for v in row] for row in index_rows(index))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# One paragraph per row, not a table: WeasyPrint lays a table spanning pages out again for every page (about 20 s
# for 200 events here), paragraphs a quarter of that.
_STYLE = ("@page { size: letter; margin: 1.5cm; @bottom-right { content: counter(page) ' / ' counter(pages) } }"
          "body { font-family: 'Liberation Sans', 'DejaVu Sans', sans-serif; font-size: 8pt }"
          "h1 { font-size: 13pt } h2 { font-size: 10pt; margin: 8pt 0 3pt } p { margin: 0 0 3pt }"
          ".hash { font-size: 6.5pt; color: #444 }")
PDF_SUMMARY_CHARS = 160
_SECTIONS = {"evento": "Eventos", "documento": "Documentos", "anexo": "Anexos", "correo": "Correos enviados"}


def _paragraph(row: tuple) -> str:
    section, number, at, actor, kind, element, detail, sha256 = ("" if v is None else str(v) for v in row)
    head = " · ".join(escape(v) for v in (f"{number}", at, actor, kind, element) if v)
    detail = detail if len(detail) <= PDF_SUMMARY_CHARS else detail[:PDF_SUMMARY_CHARS - 1] + "\u2026"
    tail = f"<br><span class='hash'>SHA-256 {escape(sha256)}</span>" if sha256 else ""
    return f"<p><b>{head}</b>{'<br>' + str(escape(detail)) if detail else ''}{tail}</p>"


def index_html(index: dict, exported_at: datetime) -> str:
    c = index["case"]
    rows = index_rows(index)[1:]
    sections = "".join(f"<h2>{title}</h2>" + "".join(_paragraph(r) for r in rows if r[0] == key)
                       for key, title in _SECTIONS.items() if any(r[0] == key for r in rows))
    when = f"{fecha(exported_at)}, {hora(exported_at)}"
    return (f"<!doctype html><html lang='es'><head><meta charset='utf-8'><style>{_STYLE}</style></head><body>"
            f"<h1>Expediente {escape(c['number'])}</h1><p>{escape(c['procedure'])} (versión "
            f"{escape(c['process_version'])}), estado {escape(c['state'])}; solicitante "
            f"{escape(c['applicant_name'] or '')}; iniciado el {escape(c['created_at'])} por "
            f"{escape(c['created_by'] or '')}. Exportado para auditoría el {escape(when)}.</p>{sections}</body></html>")


def index_pdf(index: dict, exported_at: datetime) -> bytes:
    import weasyprint  # on first use (see engine.documents.render.render_pdf)

    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    return weasyprint.HTML(string=index_html(index, exported_at), url_fetcher=fetcher).write_pdf()


def readme(number: str, key_id: str, exported_at: datetime) -> bytes:
    """LEEME.txt: what the ZIP holds and how to verify it."""
    return f"""Expediente {number}: exportación para auditoría ({exported_at.isoformat()})

Contenido
- {bundle.INDEX_PDF}, {bundle.INDEX_CSV}, {bundle.INDEX_JSON}: el índice del expediente (datos del caso, cada
  evento con quién, cuándo y qué, los documentos y anexos con su SHA-256, y los correos enviados).
- {bundle.EVENTS}: cada evento del historial tal como está guardado, con su hash de hoja, su encadenamiento del
  expediente y una prueba de inclusión (RFC 6962) en el último punto de control firmado.
- {bundle.CHECKPOINTS}: los puntos de control firmados con la llave Ed25519 de la oficina (llave {key_id}) y, en
  consistency.json, las pruebas de consistencia entre cada par consecutivo.
- {bundle.DOCUMENTS}: los documentos emitidos (PDF tal como se emitieron); {bundle.ATTACHMENTS}: los anexos;
  {bundle.DIAGRAMS}: los diagramas BPMN de cada versión del procedimiento que siguió el expediente.
- {bundle.MANIFEST}: el SHA-256 y el tamaño de cada archivo; {bundle.SIGNATURE}: su firma con la llave de la oficina.

Cómo verificarlo (sin acceso a la base de datos)
    expediente audit verify-export este-archivo.zip --public-key "ed25519 ..."
con la llave pública de la oficina (la publica la oficina; `expediente audit public-key` la muestra). La
verificación comprueba la firma del manifiesto y el hash de cada archivo, la firma de cada punto de control, las
pruebas de consistencia entre ellos, y para cada evento su contenido canónico, su hash, la cadena del expediente
sin huecos y su prueba de inclusión; y que cada documento y anexo sea el que registró el historial. Cualquier
byte cambiado en cualquier archivo hace fallar la verificación.
""".encode("utf-8")
